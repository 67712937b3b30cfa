"""Idempotency-Key on POST /review (docs/admission.md, "Idempotency"): the
same key and body from the same user replay the first answer (same job_id,
202, Idempotent-Replayed: true) and create nothing; another body is 422
idempotency_key_reused; a malformed key is 400 invalid_idempotency_key; keys
are scoped to their user. The key is checked before the result cache: a
key's answer never changes with what the cache holds, and a key first
answered from the cache replays that hit (200, X-Cache: hit)."""

import threading

import pytest

from harness import STREAM_FAST, assert_problem, job_entry_of, wait_until
from tokens import own_token

BODY = {"file_path": "idem.py", "file_content": "import os\n", "request_type": "review"}


@pytest.fixture(scope="module", autouse=True)
def _gw(gateway):
    return gateway


def post(harness, key, idem, body=BODY, **kw):
    headers = {"Idempotency-Key": idem} if idem is not None else {}
    return harness.http("POST", "/review", body, headers=headers, auth=key, **kw)


def list_jobs(harness, key):
    status, _, body = harness.http("GET", "/jobs?limit=100", auth=key)
    assert status == 200, body
    return body["jobs"]


def test_same_key_same_body_replays(harness):
    _, user_id, key = harness.new_user(tag="idem")
    xlen0 = harness.redis_int("XLEN", STREAM_FAST)
    s1, h1, b1 = post(harness, key, "order-42")
    assert s1 == 202, b1
    assert h1.get("Idempotent-Replayed") is None, h1
    s2, h2, b2 = post(harness, key, "order-42")
    assert s2 == 202, b2
    assert h2.get("Idempotent-Replayed") == "true", h2
    assert b2["job_id"] == b1["job_id"]
    assert b2["status"] == "queued" and b2["poll"] == f"/job/{b1['job_id']}", b2
    assert h2.get("Location") == f"/job/{b1['job_id']}", h2
    # nothing new was created
    jobs = list_jobs(harness, key)
    assert [j["job_id"] for j in jobs] == [b1["job_id"]], jobs
    assert harness.redis_int("XLEN", STREAM_FAST) == xlen0 + 1
    assert harness.redis_int("ZCARD", f"jobs:{user_id}") == 1


def test_replay_does_not_reserve_twice(harness):
    _, _, key = harness.new_user(tag="idem-budget")
    assert post(harness, key, "budget-1")[0] == 202
    reserved = harness.http("GET", "/whoami", auth=key)[2]["usage"]["tokens_reserved"]
    assert reserved > 0
    for _ in range(3):
        assert post(harness, key, "budget-1")[0] == 202
    assert harness.http("GET", "/whoami", auth=key)[2]["usage"]["tokens_reserved"] == reserved


def test_same_key_other_body_is_422(harness):
    _, _, key = harness.new_user(tag="idem-conflict")
    s1, _, b1 = post(harness, key, "k-1")
    assert s1 == 202, b1
    other = dict(BODY, file_content="import sys\n")
    resp = post(harness, key, "k-1", body=other)
    assert_problem(resp, 422, "idempotency_key_reused")
    assert resp[1].get("Idempotent-Replayed") is None
    # the first body still replays, and no second job exists
    s3, h3, b3 = post(harness, key, "k-1")
    assert s3 == 202 and b3["job_id"] == b1["job_id"] and h3.get("Idempotent-Replayed") == "true"
    assert len(list_jobs(harness, key)) == 1


def test_without_key_every_post_is_a_new_job(harness):
    _, _, key = harness.new_user(tag="idem-none")
    ids = {post(harness, key, None)[2]["job_id"] for _ in range(3)}
    assert len(ids) == 3


def test_keys_are_per_user(harness):
    _, _, key_a = harness.new_user(tag="idem-a")
    _, _, key_b = harness.new_user(tag="idem-b")
    s1, _, b1 = post(harness, key_a, "shared-key")
    s2, h2, b2 = post(harness, key_b, "shared-key")
    assert s1 == s2 == 202, (b1, b2)
    assert b2["job_id"] != b1["job_id"]
    assert h2.get("Idempotent-Replayed") is None, h2
    # B's key remembers B's body (a different body is refused against it) ...
    s3, _, b3 = post(harness, key_b, "shared-key", body=dict(BODY, file_path="b.py"))
    assert s3 == 422 and b3["code"] == "idempotency_key_reused", b3
    # ... and A's still replays A's job; neither sees the other's job
    s4, h4, b4 = post(harness, key_a, "shared-key")
    assert s4 == 202 and b4["job_id"] == b1["job_id"] and h4.get("Idempotent-Replayed") == "true"
    assert harness.get_job(b1["job_id"], auth=key_b)[0] == 404


def test_key_is_per_user_not_per_credential(harness):
    email, user_id, key1 = harness.new_user(tag="idem-creds")
    key2 = harness.issue_key(email, "second")
    s1, _, b1 = post(harness, key1, "same-user")
    s2, h2, b2 = post(harness, key2, "same-user")
    s3, h3, b3 = post(harness, own_token(harness, user_id), "same-user")
    assert s1 == s2 == s3 == 202, (b1, b2, b3)
    assert b1["job_id"] == b2["job_id"] == b3["job_id"]
    assert h2.get("Idempotent-Replayed") == "true" and h3.get("Idempotent-Replayed") == "true"


@pytest.mark.parametrize("idem", [
    "k" * 256, "has space", "tab\there", "", "caf\u00e9".encode().decode("latin-1"), "x\x7f",
], ids=["256-chars", "space", "tab", "empty", "non-ascii", "del"])
def test_malformed_key(harness, idem):
    _, user_id, key = harness.new_user(tag="idem-bad")
    resp = post(harness, key, idem)
    assert_problem(resp, 400, "invalid_idempotency_key")
    assert harness.redis_cli("EXISTS", f"jobs:{user_id}") == "0"


@pytest.mark.parametrize("idem", ["k" * 255, "!", "~" * 10, "a-b_c.d:e/f=g"],
                         ids=["255-chars", "one-char", "tilde", "punctuation"])
def test_well_formed_key(harness, idem):
    _, _, key = harness.new_user(tag="idem-ok")
    s1, _, b1 = post(harness, key, idem)
    s2, h2, b2 = post(harness, key, idem)
    assert s1 == s2 == 202, (b1, b2)
    assert b2["job_id"] == b1["job_id"] and h2.get("Idempotent-Replayed") == "true"


def test_concurrent_retries_create_one_job(harness):

    _, user_id, key = harness.new_user(tag="idem-race")
    results, barrier = [None] * 8, threading.Barrier(8)

    def one(i):
        barrier.wait(10)
        results[i] = post(harness, key, "race-key", timeout=30)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(r is not None and r[0] == 202 for r in results), results
    assert len({r[2]["job_id"] for r in results}) == 1, results
    replayed = [r for r in results if r[1].get("Idempotent-Replayed") == "true"]
    assert len(replayed) == 7, [r[1].get("Idempotent-Replayed") for r in results]
    assert harness.redis_int("ZCARD", f"jobs:{user_id}") == 1


def test_replay_returns_the_first_response(harness):
    _, user_id, key = harness.new_user(tag="idem-degraded")
    month = harness.psql("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')")
    harness.psql(f"INSERT INTO token_charges (job_id, user_id, month, tokens) VALUES "
                 f"(gen_random_uuid(), '{user_id}', '{month}', 1000000)")
    harness.redis_cli("DEL", f"budget:{user_id}:{month}")
    s1, h1, b1 = post(harness, key, "degraded-1")
    assert s1 == 202 and b1.get("warnings"), b1        # degraded: over the budget
    s2, h2, b2 = post(harness, key, "degraded-1")
    assert s2 == 202 and h2.get("Idempotent-Replayed") == "true", b2
    assert b2 == b1, (b1, b2)
    assert h2.get("Warning") == h1.get("Warning"), (h1, h2)


# Reviewed by an offline worker: static-only results are result-cached.
CACHE_BODY = {"file_path": "cache/idem.go", "file_content": "package idem\n",
              "request_type": "review"}
OTHER_BODY = dict(CACHE_BODY, file_content="package other\n")


def rcache_key(harness, job_id) -> str:
    """The result-cache key a queued job's result will be kept under."""
    return "rcache:" + harness.queued_entry(job_id)["result_key"]


def finish(harness, key, job_ids) -> None:
    """An offline worker finishes the queued jobs, then stops."""
    harness.start_worker("fast")
    try:
        for jid in job_ids:
            assert harness.poll_job(jid, timeout=30, auth=key)["status"] == "done", jid
    finally:
        harness.stop_workers()


def cached_twin(harness, key, body) -> str:
    """A keyless submission of body, finished and result-cached: its job id."""
    s, _, b = post(harness, key, None, body=body)
    assert s == 202, b
    rkey = rcache_key(harness, b["job_id"])
    finish(harness, key, [b["job_id"]])
    # The entry is "<job id> <answer version>" (docs/admission.md, "Result cache").
    wait_until(lambda: harness.redis_cli("GET", rkey).split(" ")[0] == b["job_id"], 10, 0.05,
               desc="the result-cache entry")
    return b["job_id"]


def assert_hit(resp, job_id, replayed):
    status, headers, body = resp
    assert (status, headers.get("X-Cache")) == (200, "hit"), resp
    assert body["job_id"] == job_id and body["status"] == "done", body
    assert headers.get("Idempotent-Replayed") == ("true" if replayed else None), headers


def test_other_body_is_422_even_when_cached(harness):
    """K with body A, then K with body B whose result is cached: a conflict,
    not the cached answer."""
    _, _, key = harness.new_user(tag="idem-cache-conflict")
    s1, _, b1 = post(harness, key, "cc-1", body=CACHE_BODY)
    assert s1 == 202, b1
    cached_twin(harness, key, OTHER_BODY)
    resp = post(harness, key, "cc-1", body=OTHER_BODY)
    assert_problem(resp, 422, "idempotency_key_reused")
    assert resp[1].get("X-Cache") is None, resp[1]


def test_replay_keeps_its_job_when_a_twin_is_cached(harness):
    """K with A queued job1; a keyless twin job0 of A finished and is in the
    result cache: replaying K with A is still job1 (202), not job0."""
    _, _, key = harness.new_user(tag="idem-cache-twin")
    s1, _, b1 = post(harness, key, "twin-1", body=CACHE_BODY)
    s0, _, b0 = post(harness, key, None, body=CACHE_BODY)
    assert s1 == s0 == 202, (b1, b0)
    job1, job0 = b1["job_id"], b0["job_id"]
    rkey = rcache_key(harness, job0)
    finish(harness, key, [job1, job0])
    # Whichever finished last owns the entry: pin it to the keyless twin.
    version = harness.redis_cli("GET", rkey).split(" ")[1]
    harness.redis_cli("SET", rkey, f"{job0} {version}", "KEEPTTL")
    s2, h2, b2 = post(harness, key, "twin-1", body=CACHE_BODY)
    assert s2 == 202 and b2["job_id"] == job1, (s2, b2)
    assert h2.get("Idempotent-Replayed") == "true" and h2.get("X-Cache") is None, h2
    # Without the key, the same body is the cache hit.
    assert_hit(post(harness, key, None, body=CACHE_BODY), job0, replayed=False)


def test_key_first_answered_from_the_cache(harness):
    """K answered by a cache hit remembers it: K with the same body replays
    the hit, K with another body is a conflict and queues nothing."""
    _, user_id, key = harness.new_user(tag="idem-cache-first")
    job0 = cached_twin(harness, key, CACHE_BODY)
    xlen0 = harness.redis_int("XLEN", STREAM_FAST)
    assert_hit(post(harness, key, "hit-1", body=CACHE_BODY), job0, replayed=False)
    resp = post(harness, key, "hit-1", body=OTHER_BODY)
    assert_problem(resp, 422, "idempotency_key_reused")
    assert_hit(post(harness, key, "hit-1", body=CACHE_BODY), job0, replayed=True)
    assert harness.redis_int("XLEN", STREAM_FAST) == xlen0
    assert [j["job_id"] for j in list_jobs(harness, key)] == [job0]
    assert harness.redis_int("ZCARD", f"jobs:{user_id}") == 1


def test_key_whose_cached_job_is_gone_admits_anew(harness):
    """The finished job a key's cache hit named is deleted: the replay is a
    new job (202), which the key names from then on."""
    _, _, key = harness.new_user(tag="idem-cache-gone")
    job0 = cached_twin(harness, key, CACHE_BODY)
    assert_hit(post(harness, key, "gone-1", body=CACHE_BODY), job0, replayed=False)
    stream, eid = job_entry_of(job0)
    harness.redis_cli("DEL", f"job:{job0}")
    harness.redis_cli("XDEL", stream, eid)
    harness.psql(f"DELETE FROM jobs WHERE job_id = '{job0}'")
    s1, h1, b1 = post(harness, key, "gone-1", body=CACHE_BODY)
    assert s1 == 202 and b1["job_id"] != job0, (s1, b1)
    assert h1.get("Idempotent-Replayed") is None, h1
    s2, h2, b2 = post(harness, key, "gone-1", body=CACHE_BODY)
    assert s2 == 202 and b2["job_id"] == b1["job_id"], (s2, b2)
    assert h2.get("Idempotent-Replayed") == "true", h2
    assert_problem(post(harness, key, "gone-1", body=OTHER_BODY), 422, "idempotency_key_reused")
