"""Queue semantics: a backlog submitted before any worker exists is processed
(consumer group from id 0), a worker stopped with SIGTERM mid-batch loses
no job and leaves none half-done, and entries no gateway wrote are retired
without harm."""

import json
import random
import signal
import time

from harness import GROUP_FAST, PY_SAMPLE, STREAM_FAST, assert_problem, py_heavy, wait_until
from mutate import mutate

GRACE = 60  # seconds a SIGTERMed worker may take to finish its in-flight jobs


def assert_each_persisted_once(harness, jobs):
    ids = ",".join(f"'{j}'" for j in jobs)
    rows = harness.psql_rows(f"SELECT job_id, count(*) FROM jobs WHERE job_id IN ({ids}) "
                             "GROUP BY job_id")
    counts = {r[0]: int(r[1]) for r in rows}
    assert counts == {j: 1 for j in jobs}, counts
    status = dict(harness.psql_rows(f"SELECT job_id, status FROM jobs WHERE job_id IN ({ids})"))
    assert set(status.values()) == {"done"}, status
    for jid, job in jobs.items():
        n = harness.psql_int(f"SELECT count(*) FROM findings WHERE job_id = '{jid}'")
        assert n == len(job["findings"]), (jid, n, len(job["findings"]))


def test_backlog_processed_when_worker_starts(harness, gateway, clean_state):
    ids = [harness.submit(file_path=f"backlog_{i}.py", file_content=PY_SAMPLE) for i in range(10)]
    assert len(set(ids)) == 10
    for jid in ids:
        status, job = harness.get_job(jid)
        assert status == 200 and job["status"] == "queued", job
    assert harness.redis_int("XLEN", STREAM_FAST) == 10
    assert harness.psql_int("SELECT count(*) FROM jobs WHERE status = 'done'") == 0

    worker = harness.start_worker("fast")
    jobs = harness.poll_jobs(ids, timeout=120)
    assert all(j["status"] == "done" for j in jobs.values()), \
        {k: (v["status"], v["error"]) for k, v in jobs.items()}
    assert all(j["pool"] == "fast" for j in jobs.values())
    assert_each_persisted_once(harness, jobs)
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)  # acked and XDELed
    wait_until(lambda: len({e["job_id"] for e in worker.events("job_done")} & set(ids)) == 10,
               timeout=10, desc="job_done logged for all 10 jobs")
    assert worker.alive()


def test_sigterm_mid_batch_loses_no_job(harness, gateway, clean_state):
    content = py_heavy()  # ~1 s of pylint each: the batch takes several seconds
    ids = [harness.submit(file_path=f"batch_{i}.py", file_content=content) for i in range(12)]
    w1 = harness.start_worker("fast", {"CODEINSIGHT_WORKER_CONCURRENCY": "4"})
    w1.wait_for_log("job_started", timeout=30)

    def progressed():
        st = {jid: harness.get_job(jid)[1]["status"] for jid in ids}
        return st if any(s in ("running", "done") for s in st.values()) else None
    statuses = wait_until(progressed, timeout=10, interval=0.05, desc="a job running or done")
    assert not all(s == "done" for s in statuses.values()), "batch finished before SIGTERM"

    t0 = time.monotonic()
    rc = w1.stop(signal.SIGTERM, timeout=GRACE)
    took = time.monotonic() - t0
    assert not w1.stop_timed_out, f"worker ignored SIGTERM for {GRACE}s:\n{w1.tail()}"
    assert rc == 0, f"worker exit code {rc}:\n{w1.tail()}"
    assert w1.events("worker_stopped"), w1.tail()

    started = {e["job_id"] for e in w1.events("job_started")}
    done_by_w1 = {e["job_id"] for e in w1.events("job_done")}
    assert started, "no job started before SIGTERM"
    assert started <= done_by_w1, f"in-flight jobs not finished: {started - done_by_w1}"

    after = {}
    for jid in ids:
        status, job = harness.get_job(jid)
        assert status == 200, job
        after[jid] = job["status"]
    assert set(after.values()) <= {"done", "queued"}, after
    assert {j for j, s in after.items() if s == "done"} == done_by_w1 & set(ids), \
        (after, done_by_w1)
    assert any(s == "queued" for s in after.values()), \
        f"all 12 jobs finished within {took:.1f}s of SIGTERM: nothing left to resume"

    w2 = harness.start_worker("fast", {"CODEINSIGHT_WORKER_CONCURRENCY": "4"})
    jobs = harness.poll_jobs(ids, timeout=180)
    assert all(j["status"] == "done" for j in jobs.values()), \
        {k: (v["status"], v["error"]) for k, v in jobs.items()}
    assert_each_persisted_once(harness, jobs)
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)
    assert harness.xpending_count(STREAM_FAST, GROUP_FAST) == 0
    # the jobs w1 finished were not run again by w2
    assert not ({e["job_id"] for e in w2.events("job_started")} & done_by_w1)
    assert w2.alive()
    rc2 = w2.stop(signal.SIGTERM, timeout=GRACE)
    assert rc2 == 0, w2.tail()


JUNK_ENTRIES = 60


def junk_entry(rnd, fields):
    """A variant of an entry's [name, value, ...]: values edited at random
    (tests/e2e/mutate.py), fields dropped or added. Text only: redis-cli
    takes its arguments as text, and no NUL."""
    pairs = [list(fields[i:i + 2]) for i in range(0, len(fields), 2)]
    for _ in range(rnd.randint(1, 3)):
        kind = rnd.randrange(4)
        if kind == 0 and pairs:
            pair = rnd.choice(pairs)
            pair[1] = mutate(rnd, pair[1].encode()).decode("utf-8", "replace")
        elif kind == 1 and pairs:
            pairs.pop(rnd.randrange(len(pairs)))
        elif kind == 2:
            pairs.append([rnd.choice(["meta", "type", "job_id", "file_content", "x"]),
                          rnd.choice(["", "{}", "[]", "null", "review", "{\"type\":7}", "é" * 300])])
        elif pairs:
            pairs[0][1] = rnd.choice(["", "{", "{\"user_id\":[]}", "{\"type\":\"stress\"}"])
    out = [v.replace("\x00", "") for pair in pairs for v in pair]
    return out or ["x", "1"]


def test_junk_entries_are_retired(harness, gateway, clean_state):
    """Entries no gateway wrote, made from a real one with a fixed seed: the
    worker retires every one (nothing left pending), stays up, and the real
    jobs queued before and after them are done."""
    first = harness.submit(file_path="before.go", file_content="package a\n")
    raw = json.loads(harness.redis_cli(
        "EVAL", "return cjson.encode(redis.call('XRANGE', KEYS[1], '-', '+'))", "1", STREAM_FAST))
    fields = raw[0][1]
    rnd = random.Random(20261122)
    for _ in range(JUNK_ENTRIES):
        harness.redis_cli("XADD", STREAM_FAST, "*", *junk_entry(rnd, fields))
    last = harness.submit(file_path="after.go", file_content="package b\n")
    assert harness.redis_int("XLEN", STREAM_FAST) == JUNK_ENTRIES + 2

    worker = harness.start_worker("fast")
    jobs = harness.poll_jobs([first, last], timeout=60)
    assert all(j["status"] == "done" for j in jobs.values()), jobs
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST, timeout=60)
    assert worker.alive(), worker.tail(20)
    # Most variants are not jobs at all: each is recorded as rejected.
    assert len(worker.events("job_rejected")) >= JUNK_ENTRIES // 2, worker.tail(20)


def test_a_full_queue_refuses_new_jobs(harness, gateway, clean_state):
    """CODEINSIGHT_QUEUE_MAX: a stream holding that many entries (its pool
    down or far behind, each entry with its code) takes no more: POST
    /review answers 503 queue_full with Retry-After, nothing queued and
    nothing reserved; a replay of an accepted submission is still answered;
    once the workers have drained the stream, submissions are taken again."""
    gw = harness.start_gateway({"CODEINSIGHT_QUEUE_MAX": "3"}, default=False)

    def post(i, key=None):
        return harness.http("POST", "/review", {"request_type": "review",
                                                "file_path": f"full_{i}.py",
                                                "file_content": f"x = {i}\n"},
                            headers={"Idempotency-Key": key} if key else None, gateway=gw)

    ids = []
    for i in range(3):
        status, _, body = post(i, f"full-{i}")
        assert status == 202, body
        ids.append(body["job_id"])
    reserved = harness.http("GET", "/whoami", gateway=gw)[2]["usage"]["tokens_reserved"]
    resp = post(3)
    p = assert_problem(resp, 503, "queue_full")
    assert resp[1].get("Retry-After") == "30", resp[1]
    assert "queue for this kind of job is full" in p["detail"], p
    assert harness.redis_int("XLEN", STREAM_FAST) == 3
    assert harness.http("GET", "/whoami", gateway=gw)[2]["usage"]["tokens_reserved"] == reserved
    # What was accepted is still answered as accepted.
    status, headers, body = post(0, "full-0")
    assert status == 202 and body["job_id"] == ids[0], body
    assert headers.get("Idempotent-Replayed") == "true", headers

    harness.start_worker("fast")
    jobs = harness.poll_jobs(ids, timeout=120)
    assert all(j["status"] == "done" for j in jobs.values()), jobs
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)
    status, _, body = post(3)
    assert status == 202, body
    harness.poll_job(body["job_id"], timeout=60, gateway=gw)
    gw.stop()
