"""Rolling upgrades: gateways and workers of two releases side by side
(docs/operations.md, "Upgrades": gateways are rolled first, then workers,
and "old and new workers can overlap").

A stream entry written by a gateway of another release may lack a field
this worker needs (an older gateway) or name a request type it does not
know (a newer one). The worker fails such a job as a "malformed queue
entry"; what admission reserved for it against its owner's monthly budget
must be given back then, as for any other finished job, or the owner's
budget shrinks for the rest of the month for a job that was never run; and
PostgreSQL, the system of record, must keep the failed job, or it vanishes
when its hot copy expires."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import signal
import uuid

import contextlib

import pytest

from contract import another_release
from fakemodel import EMPTY_ANSWER, anthropic_env, module_fake
from harness import (GROUP_FAST, STREAM_FAST, assert_job_shape, assert_problem, free_port,
                     job_entry_of, wait_until)

JOB_TIMEOUT_S = 30
ANTHROPIC_KEY = "sk-ant-e2e-upgrade-" + secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def fake_server(harness, _module_isolation):
    with module_fake(harness, "fake-llm-upgrade", [ANTHROPIC_KEY]) as f:
        yield f


def month() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")


def counter(harness) -> dict[str, int]:
    flat = harness.redis_cli("HGETALL", f"budget:{harness.default_user_id}:{month()}")
    lines = flat.splitlines()
    return {k: int(v) for k, v in zip(lines[0::2], lines[1::2])}


def rewrite_entry(harness, job_id: str, edit, extra: dict | None = None) -> None:
    """Replaces the job's stream entry by a copy whose meta `edit` changed,
    as another release's gateway would have written it. The copy carries
    the job id as a field of its own (as an entry put back after a
    deferral does), since its entry id no longer names the job."""
    stream, eid = job_entry_of(job_id)
    raw = json.loads(harness.redis_cli(
        "EVAL", "return cjson.encode(redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]))",
        "1", stream, eid))
    assert raw, f"no entry {eid} for {job_id}"
    flat = raw[0][1]
    fields = dict(zip(flat[::2], flat[1::2]))
    meta = json.loads(fields["meta"])
    edit(meta)
    fields["meta"] = json.dumps(meta, separators=(",", ":"))
    fields["job_id"] = job_id
    fields.update(extra or {})
    assert harness.redis_cli("XDEL", stream, eid) == "1"
    args = [a for kv in fields.items() for a in kv]
    harness.redis_cli("XADD", stream, "*", *args)


def without_created_at(meta: dict) -> None:
    del meta["created_at"]              # an older gateway's entry


NEWER_TYPE = "security"


def unknown_type(meta: dict) -> None:
    meta["type"] = NEWER_TYPE           # a newer gateway's request type


def garbled_format(meta: dict) -> None:
    meta["format"] = "2.x"              # damaged: not a format number


@contextlib.contextmanager
def newer_schema(harness):
    """The newer release's migrations, which run before its gateways roll
    (docs/operations.md, "Upgrades"): PostgreSQL takes a job of its new
    request type. Put back as it was afterwards."""
    check = harness.psql("SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                         " WHERE conname = 'jobs_type_check'")
    assert check.startswith("CHECK"), check
    harness.psql("ALTER TABLE jobs DROP CONSTRAINT jobs_type_check;"
                 " ALTER TABLE jobs ADD CONSTRAINT jobs_type_check"
                 f" CHECK (type IN ('review', 'debug', 'architecture', 'stress', '{NEWER_TYPE}'))")
    try:
        yield
    finally:
        harness.psql(f"DELETE FROM jobs WHERE type = '{NEWER_TYPE}';"
                     " ALTER TABLE jobs DROP CONSTRAINT jobs_type_check;"
                     f" ALTER TABLE jobs ADD CONSTRAINT jobs_type_check {check}")


@pytest.mark.parametrize("edit", [without_created_at, unknown_type, garbled_format],
                         ids=["older_gateway", "newer_gateway", "garbled_format"])
def test_an_entry_the_worker_cannot_use_gives_its_reservation_back(harness, gateway,
                                                                   clean_state, edit):
    """The job of an entry the worker cannot use fails; its reservation
    is given back, and PostgreSQL records it as a failed job, its owner's,
    of the type the entry says, created when it was admitted: once its hot
    copy is gone (CODEINSIGHT_JOB_TTL), GET /job/:id and GET /jobs still
    show it."""
    before = counter(harness).get("reserved", 0)
    job_id = harness.submit(file_path="skew.py", file_content="import os\n")
    reserved = counter(harness)["reserved"]
    assert reserved > before
    rewrite_entry(harness, job_id, edit)
    newer = edit is unknown_type

    # A type this release does not know is shown as it is: the newer
    # release's contract, not this one's, describes that job.
    with newer_schema(harness) if newer else contextlib.nullcontext(), \
            another_release() if newer else contextlib.nullcontext():
        harness.start_worker("fast")
        job = harness.poll_job(job_id, timeout=JOB_TIMEOUT_S)
        assert job["status"] == "failed" and "malformed queue entry" in job["error"], job
        assert job["created_at"] and job["user_id"] == harness.default_user_id, job
        harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)
        # Nothing was run, nothing is charged, and nothing stays reserved.
        wait_until(lambda: counter(harness).get("reserved", 0) == before, 5, 0.05,
                   desc=f"reservation back to {before} (is {counter(harness)})")
        assert counter(harness).get("used", 0) == 0

        # The system of record has it, as the hot copy showed it.
        rows = harness.psql_rows(
            "SELECT status, error, type, user_id, ci_ts(created_at), attempts FROM jobs"
            f" WHERE job_id = '{job_id}'")
        assert rows == [["failed", "malformed queue entry", NEWER_TYPE if newer else "review",
                         harness.default_user_id, job["created_at"], "0"]], rows
        assert harness.redis_cli("DEL", f"job:{job_id}") == "1"
        st, stored = harness.get_job(job_id)
        assert st == 200, stored
        assert (stored["status"], stored["error"], stored["created_at"], stored["user_id"],
                stored["started_at"]) == ("failed", "malformed queue entry", job["created_at"],
                                          harness.default_user_id, None), stored
        st, _, page = harness.http("GET", "/jobs?status=failed")
        assert st == 200 and job_id in [j["job_id"] for j in page["jobs"]], page


def test_an_entry_of_a_later_format_is_left_for_a_newer_worker(harness, gateway, clean_state):
    """An entry whose format is later than this release's (JOB_ENTRY_FORMAT,
    common/job.h: a newer gateway's, for its own workers) is not run and
    not failed: the worker leaves it pending, and past the visibility
    timeout a reclaim pass offers it to the pool's workers again, which
    (of this release too) leave it again. The job stays queued, its
    reservation held, nothing charged or dead-lettered; an entry of this
    release's format beside it runs."""
    before = counter(harness).get("reserved", 0)
    job_id = harness.submit(file_path="later.py", file_content="import os\n")
    reserved = counter(harness)["reserved"]
    rewrite_entry(harness, job_id, lambda meta: meta.update(format="2"))
    env = {"CODEINSIGHT_VISIBILITY_TIMEOUT_MS": "1000", "CODEINSIGHT_READ_BLOCK_MS": "200"}
    workers = [harness.start_worker("fast", env), harness.start_worker("fast", env)]
    def left():
        return [e for w in workers for e in w.events("job_left_for_newer", job_id=job_id)]

    wait_until(lambda: len(left()) >= 2, 20, 0.1, desc="the entry left, reclaimed, left again")
    first = left()[0]
    assert (first["format"], first["known"], first["level"]) == ("2", "1", "warn"), first

    ok = harness.submit(file_path="now.py", file_content="import os\n")
    assert harness.poll_job(ok, timeout=JOB_TIMEOUT_S)["status"] == "done"
    # No worker started it (job_start.lua writes the hash) or stored it.
    assert harness.redis_cli("EXISTS", f"job:{job_id}") == "0"
    assert harness.psql_int(f"SELECT count(*) FROM jobs WHERE job_id = '{job_id}'") == 0
    assert counter(harness)["reserved"] == reserved > before
    pending = harness.redis_cli("XPENDING", STREAM_FAST, GROUP_FAST).splitlines()
    assert pending[0] == "1", pending
    for w in workers:
        assert not w.events("job_rejected") and not w.events("job_dead_lettered"), w.tail()
    harness.stop_workers()


def test_an_entry_postgresql_cannot_store_still_ends_its_job(harness, gateway, clean_state):
    """A newer gateway's request type before the newer release's migrations
    ran (out of the order docs/operations.md gives): PostgreSQL refuses the
    rejected job's row, as it may refuse any document; the job is still
    published as failed with its own error, its entry retired and its
    reservation given back, once the refusals are ridden out."""
    before = counter(harness).get("reserved", 0)
    job_id = harness.submit(file_path="skew.py", file_content="import os\n")
    rewrite_entry(harness, job_id, unknown_type)

    w = harness.start_worker("fast", {"CODEINSIGHT_RETRY_MAX_MS": "100"})
    with another_release():
        job = harness.poll_job(job_id, timeout=JOB_TIMEOUT_S)
    assert job["status"] == "failed" and job["error"] == "malformed queue entry", job
    assert [r["stored"] for r in w.events("job_persist_abandoned", job_id=job_id)] == \
        ["none"], w.tail()
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)
    wait_until(lambda: counter(harness).get("reserved", 0) == before, 5, 0.05,
               desc=f"reservation back to {before} (is {counter(harness)})")
    assert harness.psql_int(f"SELECT count(*) FROM jobs WHERE job_id = '{job_id}'") == 0


def test_an_entry_with_fields_this_release_does_not_know_is_processed(harness, gateway,
                                                                    clean_state):
    """A newer gateway's entry carrying members and fields this worker does
    not know (in meta and beside it) is the same job to it: done, charged
    as any other, nothing left reserved."""
    before = counter(harness).get("reserved", 0)
    job_id = harness.submit(file_path="extra.py", file_content="import os\n")

    def add_unknown(meta: dict) -> None:
        meta["x_future_member"] = "v2"
        meta["x_future_object"] = {"nested": [1, 2]}

    rewrite_entry(harness, job_id, add_unknown, extra={"x_future_field": "z" * 100})
    harness.start_worker("fast")
    job = harness.poll_job(job_id, timeout=JOB_TIMEOUT_S)
    assert job["status"] == "done" and job["error"] is None, job
    assert job["file_path"] == "extra.py" and job["user_id"] == harness.default_user_id, job
    assert any(f["rule_id"] == "F401" for f in job["findings"]), job
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)
    wait_until(lambda: counter(harness).get("reserved", 0) == before, 5, 0.05,
               desc=f"reservation back to {before} (is {counter(harness)})")

def test_a_job_stored_by_an_early_release_still_renders(harness, gateway):
    """A row as the first releases stored it (migrations 001-002 only: no
    provider, usage, ranges, file hash or task result; a finding without
    fix or confidence), read back through the current ci_job_get: the
    view, and the exports built from it, still answer 200."""
    job_id = "01a00000-0000-7000-8000-" + uuid.uuid4().hex[:12]
    harness.psql(
        "INSERT INTO jobs (job_id, type, status, file_path, language, pool, worker, attempts,"
        " summary, notes, linters, created_at, started_at, finished_at, user_id) VALUES"
        f" ('{job_id}', 'review', 'done', 'old.py', 'python', 'fast', 'w', 1,"
        " '1 finding', '[]', '[]', '2025-01-01T00:00:00Z', '2025-01-01T00:00:01Z',"
        f" '2025-01-01T00:00:02Z', '{harness.default_user_id}');"
        " INSERT INTO findings (job_id, idx, line, severity, category, rule_id, message,"
        f" source) VALUES ('{job_id}', 0, 1, 'minor', 'maintainability', 'F401',"
        " '''os'' imported but unused', 'lint:flake8')")
    try:
        st, job = harness.get_job(job_id)
        assert st == 200, job
        assert_job_shape(job)
        assert job["status"] == "done" and job["findings"][0]["rule_id"] == "F401", job
        for fmt in ("sarif", "rdjson"):
            st, _, body = harness.http("GET", f"/job/{job_id}?format={fmt}")
            assert st == 200, (fmt, body)
    finally:
        harness.psql(f"DELETE FROM jobs WHERE job_id = '{job_id}'")


def test_every_gateway_script_reloads_after_a_script_flush(harness, gateway, clean_state):
    """A new release's gateway, or a Redis restarted or failed over,
    leaves the script cache without the scripts a running gateway calls by
    SHA1 (EVALSHA). Each call answered NOSCRIPT is sent again with its
    source, once: with the cache emptied before every request, every route
    that runs a script answers as it would have, and the gateway is never
    restarted."""
    def flushed(method, path, body=None, auth=DEFAULT, want=200):
        assert harness.redis_cli("SCRIPT", "FLUSH") == "OK"
        kw = {} if auth is DEFAULT else {"auth": auth}
        st, _, data = harness.http(method, path, body, **kw)
        assert st == want, (method, path, st, data)
        return data

    password = "correct horse battery staple 42"
    email, _, key = harness.new_user("pro", password=password, tag="flush")
    job = flushed("POST", "/review", {"file_path": "f.py", "file_content": "import os\n",
                                      "request_type": "review"}, auth=key,
                  want=202)["job_id"]                                    # gate, admit
    assert flushed("GET", f"/job/{job}", auth=key)["status"] == "queued"  # job_read
    assert job in [j["job_id"] for j in flushed("GET", "/jobs", auth=key)["jobs"]]
    flushed("GET", "/queue/info", auth=key)                              # queue_info
    flushed("DELETE", f"/job/{job}", auth=key)                           # job_cancel
    created = flushed("POST", "/keys", {"name": "flush"}, auth=key, want=201)
    harness.remember(created["key"])
    flushed("GET", "/whoami", auth=created["key"])                       # auth_fill
    flushed("DELETE", f"/keys/{created['key_id']}", auth=key, want=204)  # key_revoke
    flushed("GET", "/whoami", auth="ci_live_" + "Q" * 32, want=401)      # unknown_key
    assert "access_token" in flushed("POST", "/auth/login",
                              {"email": email, "password": password}, auth=None)  # ratelimit
    assert gateway.alive()


DEFAULT = object()


# Deliveries a job may have (CODEINSIGHT_MAX_ATTEMPTS) in the rolling-deploy test.
DRAIN_MAX_ATTEMPTS = 2


def test_a_job_longer_than_the_grace_survives_more_drains_than_max_attempts(
        harness, gateway, fake, clean_state):
    """Rolling the workers (or a scale-down) SIGTERMs each in turn; a job
    longer than CODEINSIGHT_SHUTDOWN_GRACE (a heavy task, a slow model) is
    left pending by each, as docs/operations.md ("Upgrades") says, for the
    next worker to take over. A drain is not a crash: the job did not take
    its worker down, so it must not spend the deliveries
    CODEINSIGHT_MAX_ATTEMPTS allows before it is given up as a poison job.
    Here it meets as many drains as that, then a worker that stays."""
    marker = "upgrade" + secrets.token_hex(6)
    fake.default({"latency_ms": 0, "text": EMPTY_ANSWER})
    fake.script([{"match": marker, "latency_ms": 20_000, "text": EMPTY_ANSWER,
                  "times": DRAIN_MAX_ATTEMPTS}])
    env = {**anthropic_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
           "CODEINSIGHT_LLM_MAX_ATTEMPTS": "1", "CODEINSIGHT_READ_BLOCK_MS": "200",
           "CODEINSIGHT_SHUTDOWN_GRACE": "1", "CODEINSIGHT_VISIBILITY_TIMEOUT_MS": "1000",
           "CODEINSIGHT_MAX_ATTEMPTS": str(DRAIN_MAX_ATTEMPTS)}
    job_id = harness.submit(file_path="slow.go",
                            file_content=f"// {marker}\npackage main\n")
    for i in range(DRAIN_MAX_ATTEMPTS):
        w = harness.start_worker("fast", env)
        w.wait_for_log("job_started", timeout=JOB_TIMEOUT_S, job_id=job_id)
        wait_until(lambda: fake.count(marker) >= 1 + i, 10, 0.05, desc="the model is asked")
        rc = w.stop(signal.SIGTERM, timeout=30)
        assert rc == 0 and [r["job_id"] for r in w.events("job_abandoned")] == [job_id], \
            w.tail()
    harness.start_worker("fast", env)
    job = harness.poll_job(job_id, timeout=JOB_TIMEOUT_S)
    assert job["status"] == "done", (job["status"], job["error"])
    assert harness.redis_int("XLEN", STREAM_FAST + ":dead") == 0


def test_a_job_a_draining_worker_leaves_goes_on_at_once_on_a_worker_that_stays(
        harness, gateway, fake, clean_state):
    """A worker drained in a rolling deploy leaves a job longer than its
    grace pending. A crashed worker's entries wait out the visibility
    timeout (it may still be alive, cut off); a drained one has said it is
    done with the job, so a worker that stays takes the job over at once,
    not a visibility timeout later (an hour here: without the hand-over
    the job would not finish within the test). The job keeps its one
    delivery."""
    marker = "handover" + secrets.token_hex(6)
    fake.default({"latency_ms": 0, "text": EMPTY_ANSWER})
    fake.script([{"match": marker, "latency_ms": 20_000, "text": EMPTY_ANSWER, "times": 1}])
    env = {**anthropic_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
           "CODEINSIGHT_LLM_MAX_ATTEMPTS": "1", "CODEINSIGHT_READ_BLOCK_MS": "200",
           "CODEINSIGHT_SHUTDOWN_GRACE": "1", "CODEINSIGHT_VISIBILITY_TIMEOUT_MS": "3600000"}
    leaving = harness.start_worker("fast", env)
    job_id = harness.submit(file_path="handover.go",
                            file_content=f"// {marker}\npackage main\n")
    leaving.wait_for_log("job_started", timeout=JOB_TIMEOUT_S, job_id=job_id)
    wait_until(lambda: fake.count(marker) >= 1, 10, 0.05, desc="the model is asked")
    staying = harness.start_worker("fast", env)
    assert leaving.stop(signal.SIGTERM, timeout=30) == 0, leaving.tail()
    assert [r["job_id"] for r in leaving.events("job_abandoned")] == [job_id], leaving.tail()

    job = harness.poll_job(job_id, timeout=JOB_TIMEOUT_S)
    assert job["status"] == "done" and job["attempts"] == 1, job
    assert job["worker"] == staying.wait_for_log("worker_started")["consumer"], job
    # Between the two workers it was queued again, not running on one stopped.
    types = [ln for ln in harness.redis_cli(
        "EVAL", "local o = {} for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do "
        "o[#o + 1] = e[2][2] end return o", "1", f"jobev:{job_id}").splitlines() if ln]
    status = [t for t in types if t in ("running", "requeued", "done", "failed")]
    assert status == ["running", "requeued", "running", "done"], types
    assert [r["count"] for r in staying.events("entries_reclaimed")] == [1], staying.tail()


def rcache_entries(harness) -> list[str]:
    return [k for k in harness.redis_cli("--scan", "--pattern", "rcache:*").splitlines() if k]


def test_after_a_rolling_deploy_the_result_cache_follows_the_workers_left(
        harness, gateway, fake, clean_state):
    """A rolling deployment of the workers: the old release (here, without
    a model) and the new one (with one) overlap, and an old worker is
    restarted meanwhile (a crash, an OOM kill, a node drained: its
    container starts again and publishes its answer versions as it starts,
    docs/admission.md "Result cache"). Once the roll is over only new
    workers run, so a result only an old worker gave is not their answer:
    an identical submission must be a new job, not the old result, at the
    latest once the new workers have refreshed their versions (each does
    with its heartbeat, every third of CODEINSIGHT_VISIBILITY_TIMEOUT_MS)."""
    marker = "rollcache" + secrets.token_hex(6)
    fake.default({"latency_ms": 0, "text": EMPTY_ANSWER})
    new = {**anthropic_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
           "CODEINSIGHT_READ_BLOCK_MS": "200", "CODEINSIGHT_VISIBILITY_TIMEOUT_MS": "3000"}
    old = {"CODEINSIGHT_READ_BLOCK_MS": "200", "CODEINSIGHT_VISIBILITY_TIMEOUT_MS": "3000"}
    body = {"file_path": "roll.go", "file_content": f"// {marker}\npackage main\n",
            "request_type": "review"}

    w_old = harness.start_worker("fast", old)
    first = harness.poll_job(harness.submit(**body), timeout=JOB_TIMEOUT_S)
    assert first["status"] == "done" and first["degraded_reason"].startswith("offline"), first
    wait_until(lambda: rcache_entries(harness), 10, 0.05, desc="an rcache: entry")

    w_new = harness.start_worker("fast", new)                           # the roll begins
    harness.wait_answers_published(w_new)
    w_old.stop(signal.SIGTERM, timeout=30)                              # an old worker
    w_old = harness.start_worker("fast", old)                           # ... restarted
    harness.wait_answers_published(w_old)
    w_old.stop(signal.SIGTERM, timeout=30)                              # the roll ends
    harness.wait_answers_published(w_new, timeout=10)   # a few of its heartbeats

    status, hdrs, again = harness.http("POST", "/review", body)
    assert (status, hdrs.get("X-Cache")) == (202, None), \
        (status, hdrs.get("X-Cache"), again.get("provider"), again.get("degraded_reason"))
    job = harness.poll_job(again["job_id"], timeout=JOB_TIMEOUT_S)
    assert job["provider"] == "anthropic" and not job["degraded"], job


def test_a_redis_that_refuses_writes_is_unavailable_on_every_route(harness, gateway,
                                                                 clean_state):
    """Redis answers but refuses to write: a master demoted to a replica by
    a failover (READONLY; a managed endpoint moves to the new master, the
    connections to the old one stay), one restarting from its AOF
    (LOADING), one out of memory (OOM). Every route then answers 503
    redis_unavailable with Retry-After, as a Redis that is down does: the
    identity of a key not cached yet, an unknown key, a login among them,
    not 502 protocol_error. And the gateway answers again once Redis
    takes writes, without a restart."""
    password = "correct horse battery staple 42"
    email, _, key = harness.new_user("pro", password=password, tag="ro")
    fresh_key = harness.issue_key(email, "never-used")       # its identity not cached
    harness.redis_cli("REPLICAOF", "127.0.0.1", str(free_port()))
    try:
        for method, path, body, auth in [
                ("POST", "/review", {"file_path": "ro.py", "file_content": "x = 1\n",
                                     "request_type": "review"}, key),
                ("GET", "/whoami", None, fresh_key),
                ("GET", "/whoami", None, "ci_live_" + "Q" * 32),
                ("POST", "/auth/login", {"email": email, "password": password}, None)]:
            resp = harness.http(method, path, body, auth=auth)
            assert_problem(resp, 503, "redis_unavailable")
            assert resp[1].get("Retry-After"), (method, path, resp[1])
    finally:
        harness.redis_cli("REPLICAOF", "NO", "ONE")
    st, _, who = harness.http("GET", "/whoami", auth=fresh_key)
    assert st == 200, who
    st, _, tok = harness.http("POST", "/auth/login", {"email": email, "password": password},
                              auth=None)
    assert st == 200 and "access_token" in tok, tok
    assert gateway.alive()
