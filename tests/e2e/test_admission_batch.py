"""Batched admission (gateway/admit.h, docs/admission.md "Batches"): the
submissions that queue while Redis runs the previous batch go out in one
admit.lua call, and each is admitted exactly as it would be alone: its own
job id, hash, stream entry, index entry and budget reservation, and its own
answer; one admission failing inside the script fails alone.

Batching is made deterministic by `CLIENT PAUSE <ms> WRITE`: Redis holds
the gateway's script call (a script may write) until the pause ends, so the
submissions sent meanwhile all wait in the admission queue.

    /usr/bin/python3 -m pytest -q tests/e2e/test_admission_batch.py
"""

from __future__ import annotations

import concurrent.futures
import json
import re

from harness import STREAM_FAST, assert_problem, entry_fields

N = 20
PAUSE_MS = 1500


def evalsha_calls(harness) -> int:
    m = re.search(r"cmdstat_evalsha:calls=(\d+)", harness.redis_cli("INFO", "commandstats"))
    return int(m.group(1)) if m else 0


def entries(harness) -> dict:
    """The fast stream's entries by the job id naming each (common/job.h),
    each as a field dict."""
    raw = json.loads(harness.redis_cli(
        "EVAL", "return cjson.encode(redis.call('XRANGE', KEYS[1], '-', '+'))", "1", STREAM_FAST))
    out = {}
    for eid, flat in raw:
        fields = entry_fields(flat)
        ms, seq = (int(x) for x in eid.split("-"))
        m, s, bits = f"{ms:012x}", f"{seq:06x}", fields["id_bits"]
        out[f"{m[:8]}-{m[8:]}-7{bits[:3]}-8{s[:3]}-{s[3:]}{bits[3:]}"] = fields
    return out


def body(i: int) -> dict:
    return {"request_type": "review", "file_path": f"batch_{i}.go",
            "file_content": f"package main\n\n// submission {i}\nfunc F{i}() int {{ return {i} }}\n"}


def test_queued_submissions_share_one_script_call(harness, _module_isolation):
    gw = harness.start_gateway()
    _, uid, key = harness.new_user(plan="business", tag="batch")
    # The identity into Redis and the budget counter into being, first.
    status, _, first = gw.http("POST", "/review", body(-1), auth=key)
    assert status == 202, first
    month = entries(harness)[first["job_id"]]["month"]
    bkey = f"budget:{uid}:{month}"
    reserved0 = int(harness.redis_cli("HGET", bkey, "reserved"))
    xlen0 = int(harness.redis_cli("XLEN", STREAM_FAST))
    # One admission that fails inside the script: its idempotency record is
    # not a hash, so HMGET on it is refused (WRONGTYPE).
    harness.redis_cli("SET", f"idem:{uid}:poisoned", "not-a-hash")

    harness.redis_cli("CONFIG", "RESETSTAT")
    assert harness.redis_cli("CLIENT", "PAUSE", str(PAUSE_MS), "WRITE") == "OK"
    with concurrent.futures.ThreadPoolExecutor(max_workers=N + 1) as pool:
        futs = [pool.submit(gw.http, "POST", "/review", body(i), auth=key, timeout=30)
                for i in range(N)]
        bad = pool.submit(gw.http, "POST", "/review", body(N), auth=key, timeout=30,
                          headers={"Idempotency-Key": "poisoned"})
        answers = [f.result() for f in futs]
        poisoned = bad.result()

    for status, headers, b in answers:
        assert status == 202, b
        assert headers.get("location") == f"/job/{b['job_id']}"
    ids = [b["job_id"] for _, _, b in answers]
    assert len(set(ids)) == N
    assert_problem(poisoned, 503, "redis_unavailable")

    # Twenty-one submissions, a handful of script calls: each admission
    # thread's first batch left before the others arrived, the rest waited
    # for the pause (and one late arrival may make one more). Without
    # batching there would be 21.
    calls = evalsha_calls(harness)
    assert 1 <= calls <= 4, calls

    # Each admitted job as if alone.
    assert int(harness.redis_cli("XLEN", STREAM_FAST)) == xlen0 + N
    queued = entries(harness)
    # Ids sort as their entries were added: one batch shares Redis' clock
    # reading, each admission taking the next fraction of its millisecond.
    assert [i for i in queued if i in set(ids)] == sorted(ids)
    est = int(queued[ids[0]]["reserved"])
    assert est > 0
    for i, job_id in enumerate(ids):
        # The id names the job's entry, which holds what a worker needs and
        # what GET /job/:id shows while it is queued: no job hash yet. The
        # small fields travel as one JSON member, meta, the admission's own
        # (user_id ... id_bits) first (common/job.h); the code is a field.
        entry = queued[job_id]
        assert harness.queued_entry(job_id) == entry
        assert harness.redis_cli("EXISTS", f"job:{job_id}") == "0"
        meta = json.loads(entry["meta"])
        assert list(meta)[:6] == ["user_id", "month", "reserved", "throttled", "degraded",
                                  "result_key"], meta
        assert "id_bits" in meta and "file_content" not in meta, meta
        assert set(entry) - set(meta) == {"meta", "file_content"}, entry
        assert meta["type"] == "review" and meta["file_path"] == f"batch_{i}.go", meta
        assert meta["created_at"] and meta["request_id"], meta
        assert entry["user_id"] == uid and entry["month"] == month, entry
        assert entry["reserved"] == str(est), entry
        assert entry["throttled"] == "0" and entry["degraded"] == "0", entry
        assert entry["file_content"] == body(i)["file_content"], entry
        assert harness.redis_cli("ZSCORE", f"jobs:{uid}", job_id) == "0"
    # The batch's reservations added together, once each.
    assert int(harness.redis_cli("HGET", bkey, "reserved")) == reserved0 + N * est
    assert int(harness.redis_cli("TTL", f"jobs:{uid}")) > 0
    # The failed one left nothing behind.
    assert harness.redis_cli("TYPE", f"idem:{uid}:poisoned") == "string"

    # And every one is served: GET /job/:id answers queued.
    for i, job_id in enumerate(ids[:3]):
        status, _, job = gw.http("GET", f"/job/{job_id}", auth=key)
        assert status == 200 and job["status"] == "queued", job
        assert job["type"] == "review" and job["file_path"] == f"batch_{i}.go", job
        assert job["user_id"] == uid and job["created_at"], job


def test_batch_of_many_callers_and_a_newcomer(harness, _module_isolation):
    """Callers of a batch are admitted each under their own identity; a
    caller Redis does not know yet (an identity 'miss') continues on a
    waiting thread and is admitted too."""
    gw = harness.start_gateway()
    users = [harness.new_user(plan="business", tag=f"bm{i}") for i in range(4)]
    for _, _, key in users[:3]:         # known to Redis; the fourth is not
        status, _, b = gw.http("POST", "/review", body(100), auth=key)
        assert status == 202, b

    harness.redis_cli("CONFIG", "RESETSTAT")
    assert harness.redis_cli("CLIENT", "PAUSE", str(PAUSE_MS), "WRITE") == "OK"
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        futs = [(u, pool.submit(gw.http, "POST", "/review", body(200 + i), auth=u[2], timeout=30))
                for i, u in enumerate(users * 3)]
        answers = [(u, f.result()) for u, f in futs]

    for (_, uid, _), (status, _, b) in answers:
        assert status == 202, b
        assert harness.queued_entry(b["job_id"])["user_id"] == uid
        assert harness.redis_cli("ZSCORE", f"jobs:{uid}", b["job_id"]) == "0"
    assert len({b["job_id"] for _, (_, _, b) in answers}) == 12


def test_index_keeps_the_newest_ten_thousand(harness, _module_isolation):
    """A caller's job index (jobs:<user>, newest first for GET /jobs) is
    trimmed to its newest 10000 ids by each batch that adds to it."""
    gw = harness.start_gateway()
    _, uid, key = harness.new_user(plan="business", tag="trim")
    status, _, first = gw.http("POST", "/review", body(300), auth=key)
    assert status == 202, first
    # Older ids than any the gateway makes (their time is 0), 10005 of them.
    old = [f"00000000-0000-7000-8000-{i:012x}" for i in range(10005)]
    for k in range(0, len(old), 1000):
        args = []
        for m in old[k:k + 1000]:
            args += ["0", m]
        harness.redis_cli("ZADD", f"jobs:{uid}", *args)
    assert int(harness.redis_cli("ZCARD", f"jobs:{uid}")) == 10006

    status, _, b = gw.http("POST", "/review", body(301), auth=key)
    assert status == 202, b
    assert int(harness.redis_cli("ZCARD", f"jobs:{uid}")) == 10000
    for job_id in (first["job_id"], b["job_id"], old[-1]):
        assert harness.redis_cli("ZSCORE", f"jobs:{uid}", job_id) == "0", job_id
    # The oldest seven went.
    assert harness.redis_cli("ZSCORE", f"jobs:{uid}", old[6]) == ""
    assert harness.redis_cli("ZSCORE", f"jobs:{uid}", old[7]) == "0"


def test_stream_ahead_of_the_clock(harness, _module_isolation):
    """When the stream's last entry is later than Redis' clock (a clock
    stepped back), admit.lua adds the entry where Redis puts it, after that
    one, and the id names it with the fraction 0 (docs/admission.md, "Job
    ids")."""
    gw = harness.start_gateway()
    _, uid, key = harness.new_user(plan="business", tag="ahead")
    ahead = int(harness.redis_cli("TIME").splitlines()[0]) * 1000 + 60_000
    harness.redis_cli("XADD", STREAM_FAST, f"{ahead}-5", "placeholder", "1")

    status, _, b = gw.http("POST", "/review", body(400), auth=key)
    assert status == 202, b
    job_id = b["job_id"]
    m = f"{ahead:012x}"
    assert job_id.startswith(f"{m[:8]}-{m[8:]}-7000-8000-006"), job_id
    entry = harness.queued_entry(job_id)
    assert entry is not None and entry["id_bits"] == "000" + job_id[-9:], entry
    assert entry["user_id"] == uid and entry["file_content"] == body(400)["file_content"]
    harness.redis_cli("XDEL", STREAM_FAST, f"{ahead}-5")
    status, _, job = gw.http("GET", f"/job/{job_id}", auth=key)
    assert status == 200 and job["status"] == "queued" and job["user_id"] == uid, job
