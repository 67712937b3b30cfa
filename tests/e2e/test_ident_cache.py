"""A gateway's own copy of identities and its leased tokens
(gateway/ident_cache.h, docs/operations.md "Identity copies and leases").

Buckets with a burst of at least 128 are taken from in leases of burst/64
(at most 256) tokens, spent by the replica without a round trip; the copy of
an identity is dropped on every replica as soon as its key is revoked (the
ci:auth channel). Smaller buckets, every plan at its real rates, stay exact:
tests/e2e/test_rate_limits.py."""

import time

import pytest

from harness import wait_until
from tokens import assert_401, rate_headers

SCALE = "1000"          # x10: the read burst is 1000 (lease 15), per_min 6000


@pytest.fixture(scope="module")
def pair(harness):
    env = {"CODEINSIGHT_RATE_LIMIT_SCALE": SCALE, "CODEINSIGHT_IDENTITY_CACHE_MS": "60000"}
    a = harness.start_gateway(env, default=False)
    b = harness.start_gateway(env, default=False)
    yield a, b
    a.stop()
    b.stop()


def key_row(harness, user_id):
    key_id, key_hash = harness.psql_rows(
        f"SELECT key_id, key_hash FROM api_keys WHERE user_id = '{user_id}' "
        "ORDER BY created_at LIMIT 1")[0]
    return key_id, key_hash


def evalsha_calls(harness):
    for line in harness.redis_cli("INFO", "commandstats").splitlines():
        if line.startswith("cmdstat_evalsha:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


def test_reads_spend_a_lease_counting_down(harness, pair):
    a, _ = pair
    _, user_id, key = harness.new_user("lite", tag="lease")
    key_id, _ = key_row(harness, user_id)
    # The first request learns the identity (and takes one token: the
    # bucket's size is not known yet).
    assert harness.http("GET", "/whoami", auth=key, gateway=a)[0] == 200
    before = evalsha_calls(harness)
    seen = []
    for _ in range(12):
        status, headers, body = harness.http("GET", "/whoami", auth=key, gateway=a)
        assert status == 200, body
        seen.append(rate_headers(headers))
    # One script took a lease of 1000/64 = 15 tokens; the other 11 requests
    # were admitted by the gateway alone.
    assert evalsha_calls(harness) - before == 1
    bucket = float(harness.redis_cli("HGET", f"rl:{key_id}:read", "t").strip())
    assert 1000 - 16 <= bucket <= 1000 - 15, bucket     # plus what refilled in between
    # The headers still count every request: the bucket as last seen plus
    # the tokens this replica holds.
    assert [s[0] for s in seen] == [1000] * 12
    assert seen[0][1] in (998, 999), seen      # 999 when the bucket refilled meanwhile
    assert [s[1] for s in seen] == [seen[0][1] - i for i in range(12)], seen


def bucket(harness, key_id: str) -> tuple[float, int]:
    """(tokens, ms of the last take) of a key's read bucket."""
    t, ts = harness.redis_cli("HMGET", f"rl:{key_id}:read", "t", "ts").split()
    return float(t), int(ts)


def test_real_rates_are_not_leased(harness, pair):
    a, _ = pair
    gw = harness.start_gateway({"CODEINSIGHT_IDENTITY_CACHE_MS": "60000"}, default=False)
    try:
        _, user_id, key = harness.new_user("lite", tag="nolease")
        key_id, _ = key_row(harness, user_id)
        assert harness.http("GET", "/whoami", auth=key, gateway=gw)[0] == 200
        before = evalsha_calls(harness)
        t1, ts1 = bucket(harness, key_id)
        for _ in range(5):
            assert harness.http("GET", "/whoami", auth=key, gateway=gw)[0] == 200
        # burst 100 < 128: one token per request, each one from Redis
        assert evalsha_calls(harness) - before == 5
        # Five tokens taken, less what the bucket refilled meanwhile (600 a
        # minute, capped at the burst): bounds that hold however slow the run.
        t6, ts6 = bucket(harness, key_id)
        assert t1 - 5 - 1e-6 <= t6 <= min(100, t1 - 5 + (ts6 - ts1) * 600 / 60000) + 1e-6, \
            (t1, ts1, t6, ts6)
    finally:
        gw.stop()


def test_revocation_reaches_every_replica_at_once(harness, pair):
    a, b = pair
    email, user_id, key1 = harness.new_user("lite", tag="revoke-replicas")
    status, _, created = harness.http("POST", "/keys", {"name": "second"}, auth=key1, gateway=a)
    assert status == 201, created
    harness.remember(created["key"])
    key2 = created["key"]
    # b holds a fresh copy of key2 (kept 60 s here) and leased tokens
    for _ in range(3):
        resp = harness.http("GET", "/whoami", auth=key2, gateway=b)
        assert resp[0] == 200, resp
    t0 = time.monotonic()
    status, _, body = harness.http("DELETE", f"/keys/{created['key_id']}", auth=key1, gateway=a)
    assert status == 204, body
    resp = wait_until(lambda: (lambda r: r if r[0] == 401 else None)(
                          harness.http("GET", "/whoami", auth=key2, gateway=b)),
                      timeout=5, interval=0.05, desc="the revoked key refused by the other replica")
    assert time.monotonic() - t0 < 5
    assert_401(resp, "revoked_api_key")
    assert_401(harness.http("POST", "/review", {"request_type": "review", "file_path": "a.py",
                                                "file_content": "x = 1\n"},
                            auth=key2, gateway=b), "revoked_api_key")


def test_copy_is_used_until_the_channel_says_otherwise(harness, pair):
    """Proves the copy is really used (a change behind the gateway's back is
    not seen) and that a message on ci:auth alone drops it."""
    _, b = pair
    _, user_id, key = harness.new_user("lite", tag="channel")
    _, key_hash = key_row(harness, user_id)
    cache_key = f"auth:key:{key_hash}"
    # the first request learns the identity, the second takes a lease
    for _ in range(2):
        assert harness.http("GET", "/whoami", auth=key, gateway=b)[0] == 200
    harness.redis_cli("HSET", cache_key, "revoked", "1")
    assert harness.http("GET", "/whoami", auth=key, gateway=b)[0] == 200
    harness.redis_cli("PUBLISH", "ci:auth", cache_key)
    resp = wait_until(lambda: (lambda r: r if r[0] == 401 else None)(
                          harness.http("GET", "/whoami", auth=key, gateway=b)),
                      timeout=5, interval=0.05, desc="the copy dropped after the message")
    assert_401(resp, "revoked_api_key")


def test_replicas_share_one_bucket(harness, pair):
    """Leases never make tokens: alternating replicas from a full bucket are
    refused after at most the burst plus what refilled, and at least the
    burst minus what the two replicas may hold."""
    a, b = pair
    _, _, key = harness.new_user("lite", tag="lease-replicas")
    burst, lease, per_min = 1000, 15, 6000
    t0 = time.monotonic()
    accepted, last = 0, None
    for i in range(burst + 3000):
        if time.monotonic() - t0 > 60:
            break
        last = harness.http("GET", "/whoami", auth=key, gateway=(a, b)[i % 2])
        if last[0] != 200:
            break
        accepted += 1
    elapsed = time.monotonic() - t0
    assert last is not None and last[0] == 429, (accepted, last)
    refill = int(elapsed * per_min / 60) + 1
    assert burst - 2 * lease <= accepted <= burst + refill, (accepted, elapsed)


def test_submissions_spend_a_lease(harness):
    """POST /review with a leased token: admit.lua takes the caller from the
    gateway and skips the bucket, but still looks at the Redis copy of the
    identity: a missing one is filled again from PostgreSQL (so a later
    PostgreSQL outage finds it there), a revoked one is refused."""
    gw = harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "100000",
                                "CODEINSIGHT_IDENTITY_CACHE_MS": "60000"}, default=False)

    def post(i):
        return harness.http("POST", "/review", {"request_type": "review", "file_path": f"l{i}.py",
                                                "file_content": f"x = {i}\n"}, auth=key, gateway=gw)
    try:
        _, user_id, key = harness.new_user("business", tag="submit-lease")
        key_id, key_hash = key_row(harness, user_id)
        cache_key = f"auth:key:{key_hash}"
        for i in range(3):
            status, headers, body = post(i)
            assert status == 202, body
        # burst 60000: 1 token, then a lease of 256; the 4th is not taken in Redis
        taken_at = harness.redis_cli("HGET", f"rl:{key_id}:submit", "ts").strip()
        harness.redis_cli("DEL", cache_key)
        status, headers, body = post(3)
        assert status == 202, body
        assert harness.redis_cli("HGET", f"rl:{key_id}:submit", "ts").strip() == taken_at
        limit, remaining, _ = rate_headers(headers)
        assert limit == 60 * 1000 and limit - 4 <= remaining < limit, headers   # + refill
        assert harness.redis_cli("HGET", cache_key, "user_id").strip() == user_id
        assert harness.queued_entry(body["job_id"])["user_id"] == user_id
        assert harness.redis_int("ZCARD", f"jobs:{user_id}") == 4
        # A revocation seen only in Redis (no message) still stops a submission.
        harness.redis_cli("HSET", cache_key, "revoked", "1")
        assert_401(post(4), "revoked_api_key")
        assert harness.redis_int("ZCARD", f"jobs:{user_id}") == 4
    finally:
        gw.stop()
