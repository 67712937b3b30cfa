"""Credentials PostgreSQL does not know (docs/operations.md, "Request
threads"): the answer is cached in Redis for AUTH_UNKNOWN_TTL_S
(gateway/auth.h), so repeating a well-formed but unknown API key, or a valid
token of a user that does not exist, costs one identity query, not one per
request, and request threads do not wait on PostgreSQL for it.

Identity queries are counted by wrapping ci_key_identity and
ci_user_identity in functions that first log their argument to a table;
the originals are put back after each test.

Distinct unknown API keys are also limited per client address
(plans_unknown_keys_per_ip): past the limit, a key missing from the cache is
refused with 429 before PostgreSQL is asked."""

import hashlib
import secrets
import time
import uuid

import pytest

from tokens import assert_401, assert_429, own_token

AUTH_UNKNOWN_TTL_S = 30             # gateway/auth.h
REQUESTS = 40
UNKNOWN_KEYS_BURST = 40             # common/plans.c, plans_unknown_keys_per_ip
UNKNOWN_KEYS_PER_MIN = 20


@pytest.fixture(scope="module", autouse=True)
def _gw(gateway):
    return gateway


WRAP = """
CREATE TABLE e2e_identity_reads (fn text NOT NULL, arg text NOT NULL);
ALTER FUNCTION ci_key_identity(text) RENAME TO e2e_orig_key_identity;
CREATE FUNCTION ci_key_identity(hash text) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO e2e_identity_reads VALUES ('key', hash);
    RETURN e2e_orig_key_identity(hash);
END $$;
ALTER FUNCTION ci_user_identity(uuid) RENAME TO e2e_orig_user_identity;
CREATE FUNCTION ci_user_identity(id uuid) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO e2e_identity_reads VALUES ('user', id::text);
    RETURN e2e_orig_user_identity(id);
END $$;
"""

UNWRAP = """
DROP FUNCTION IF EXISTS ci_key_identity(text);
ALTER FUNCTION e2e_orig_key_identity(text) RENAME TO ci_key_identity;
DROP FUNCTION IF EXISTS ci_user_identity(uuid);
ALTER FUNCTION e2e_orig_user_identity(uuid) RENAME TO ci_user_identity;
DROP TABLE e2e_identity_reads;
"""


@pytest.fixture
def identity_reads(harness):
    """reads(fn, arg): how many times ci_<fn>_identity(arg) ran since the
    test started."""
    harness.psql(WRAP)

    def reads(fn: str, arg: str) -> int:
        return harness.psql_int("SELECT count(*) FROM e2e_identity_reads "
                                f"WHERE fn = '{fn}' AND arg = '{arg}'")
    try:
        yield reads
    finally:
        harness.psql(UNWRAP)


def random_key() -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "ci_live_" + "".join(secrets.choice(alphabet) for _ in range(32))


def key_hash(harness, key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=32,
                           key=harness.key_pepper.encode()).hexdigest()


def test_unknown_key_is_looked_up_once(harness, identity_reads):
    key = random_key()
    khash = key_hash(harness, key)
    job = "0190a8d4-5b6c-7def-8123-456789abcdef"
    review = {"request_type": "review", "file_path": "a.py", "file_content": "x = 1\n"}
    # Request threads (whoami, a poll), a waiting thread (/jobs) and admission.
    for i in range(REQUESTS):
        resp = [harness.http("GET", "/whoami", auth=key),
                harness.http("GET", f"/job/{job}", auth=key),
                harness.http("GET", "/jobs", auth=key),
                harness.http("POST", "/review", review, auth=key)][i % 4]
        assert_401(resp, "invalid_api_key")
    assert identity_reads("key", khash) == 1
    cache = f"auth:key:{khash}"
    assert harness.redis_cli("HGET", cache, "unknown") == "1"
    assert harness.redis_cli("HGET", cache, "user_id") == ""
    assert 0 < harness.redis_int("TTL", cache) <= AUTH_UNKNOWN_TTL_S
    assert harness.redis_cli("EXISTS", f"stale:{cache}") == "0"
    # Once the answer expires, PostgreSQL is asked again (once).
    harness.redis_cli("DEL", cache)
    for _ in range(3):
        assert_401(harness.http("GET", "/whoami", auth=key), "invalid_api_key")
    assert identity_reads("key", khash) == 2


def test_known_key_still_works(harness, identity_reads):
    """A real key is read once per cache lifetime, as before."""
    _, user_id, key = harness.new_user(tag="known")
    for _ in range(5):
        status, _, body = harness.http("GET", "/whoami", auth=key)
        assert status == 200 and body["user_id"] == user_id, body
    assert identity_reads("key", key_hash(harness, key)) == 1


def test_token_of_unknown_user_is_looked_up_once(harness, identity_reads):
    sub = str(uuid.uuid4())
    token = own_token(harness, sub)
    for i in range(REQUESTS):
        path = ("/whoami", "/jobs")[i % 2]
        assert_401(harness.http("GET", path, auth=token), "invalid_token")
    assert identity_reads("user", sub) == 1
    assert harness.redis_cli("HGET", f"auth:user:{sub}", "unknown") == "1"


SLOW_S = 3                          # the identity query's sleep below

SLOW = f"""
ALTER FUNCTION ci_key_identity(text) RENAME TO e2e_fast_key_identity;
CREATE FUNCTION ci_key_identity(hash text) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_sleep({SLOW_S});
    RETURN e2e_fast_key_identity(hash);
END $$;
"""

FAST = """
DROP FUNCTION IF EXISTS ci_key_identity(text);
ALTER FUNCTION e2e_fast_key_identity(text) RENAME TO ci_key_identity;
"""


def test_identity_query_does_not_hold_a_request_thread(harness):
    """With one request thread, a poll whose key is not in the cache waits on
    PostgreSQL on a waiting thread: /healthz and a cached caller's request
    are answered while it waits (before, they queued behind it)."""
    import threading

    _, _, known = harness.new_user(tag="slowpg")
    gw = harness.start_gateway({"CODEINSIGHT_HTTP_THREADS": "1"}, default=False)
    job = "0190a8d4-5b6c-7def-8123-456789abcdef"
    assert gw.http("GET", "/queue/info", auth=known)[0] == 200      # cached from here on
    harness.psql(SLOW)
    try:
        done = threading.Event()
        slow: list = []

        def bogus() -> None:
            slow.append(gw.http("GET", f"/job/{job}", auth=random_key(), timeout=SLOW_S + 20))
            done.set()

        t = threading.Thread(target=bogus)
        t.start()
        # The bogus request is in PostgreSQL's sleep for SLOW_S seconds.
        deadline = SLOW_S * 10
        while harness.psql_int("SELECT count(*) FROM pg_stat_activity "
                               "WHERE query LIKE '%ci_key_identity%' AND state = 'active' "
                               "AND pid <> pg_backend_pid()") == 0 and deadline > 0:
            deadline -= 1
            done.wait(0.1)
        assert not done.is_set(), "the identity query did not wait"
        status, _, _ = gw.http("GET", "/healthz", auth=None)
        assert status == 200
        status, _, body = gw.http("GET", "/queue/info", auth=known)
        assert status == 200, body
        assert not done.is_set(), "answered only after the slow identity query"
        t.join(SLOW_S + 30)
        assert_401(slow[0], "invalid_api_key")
    finally:
        harness.psql(FAST)
        gw.stop()


GUESSER = "127.0.0.3"               # a client address of its own: its bucket is this test's


def refused_for_a_while(harness, min_retry_s=3, tries=8):
    """Fresh unknown keys from GUESSER until a 429 whose Retry-After is at
    least min_retry_s, so the check that follows does not race the refill.
    Returns the 429."""
    for _ in range(tries):
        resp = harness.http("GET", "/whoami", auth=random_key(), source=GUESSER)
        if resp[0] == 429:
            if int(resp[1].get("Retry-After", "0")) >= min_retry_s:
                return resp
            time.sleep(int(resp[1]["Retry-After"]) + 0.1)
        else:
            assert_401(resp, "invalid_api_key")
    pytest.fail(f"no 429 with Retry-After >= {min_retry_s} in {tries} attempts")


def test_many_unknown_keys_from_one_address_are_refused(harness, identity_reads):
    _, user_id, known = harness.new_user(tag="guessed")
    harness.redis_cli("DEL", f"rl:ip:{GUESSER}:unknown_key")
    keys, resp = [], None
    t0 = time.monotonic()
    for _ in range(UNKNOWN_KEYS_BURST + 10):
        keys.append(random_key())
        resp = harness.http("GET", "/whoami", auth=keys[-1], source=GUESSER)
        if resp[0] == 429:
            break
        assert_401(resp, "invalid_api_key")
        # a 401 is about the key, not about the bucket
        assert "RateLimit-Limit" not in resp[1] and "Retry-After" not in resp[1], resp[1]
    refill = int((time.monotonic() - t0) * UNKNOWN_KEYS_PER_MIN / 60)
    assert resp is not None and resp[0] == 429, len(keys)
    body = assert_429(resp, limit=UNKNOWN_KEYS_BURST)
    assert "unknown API keys" in body["detail"], body
    assert UNKNOWN_KEYS_BURST <= len(keys) - 1 <= UNKNOWN_KEYS_BURST + refill, (len(keys), refill)
    # Each let-through key was looked up once; the refused one never was.
    assert identity_reads("key", key_hash(harness, keys[0])) == 1
    assert identity_reads("key", key_hash(harness, keys[-1])) == 0
    # A key already known to be unknown is answered from the cache: 401.
    refused_for_a_while(harness)
    assert_401(harness.http("GET", "/whoami", auth=keys[0], source=GUESSER), "invalid_api_key")
    # A real key that is not in the cache yet is refused from this address
    # too, on every path that looks keys up (documented: the price of not
    # asking PostgreSQL) ...
    review = {"request_type": "review", "file_path": "a.py", "file_content": "x = 2\n"}
    assert_429(harness.http("GET", "/whoami", auth=known, source=GUESSER))
    assert_429(harness.http("POST", "/review", review, auth=known, source=GUESSER))
    assert identity_reads("key", key_hash(harness, known)) == 0
    # ... but not from another address, and once cached, from none.
    status, _, body = harness.http("GET", "/whoami", auth=known, source="127.0.0.4")
    assert status == 200 and body["user_id"] == user_id, body
    refused_for_a_while(harness)
    status, _, body = harness.http("GET", "/whoami", auth=known, source=GUESSER)
    assert status == 200 and body["user_id"] == user_id, body
    harness.redis_cli("DEL", f"rl:ip:{GUESSER}:unknown_key")


def bucket_tokens(harness, addr):
    return float(harness.redis_cli("HGET", f"rl:ip:{addr}:unknown_key", "t") or "nan")


def test_keys_in_use_are_not_locked_out(harness, identity_reads):
    """A key known in the last 24 h (its stale copy) is looked up even from
    an address whose bucket a guesser keeps empty; a valid key's lookup
    gives its token back; an unknown key's keeps it spent."""
    addr = "127.0.0.5"
    harness.redis_cli("DEL", f"rl:ip:{addr}:unknown_key")
    _, user_id, known = harness.new_user(tag="in-use")
    _, _, fresh = harness.new_user(tag="fresh")
    cache = f"auth:key:{key_hash(harness, known)}"
    # Known from another address, then its cache entry expires.
    assert harness.http("GET", "/whoami", auth=known, source="127.0.0.6")[0] == 200
    harness.redis_cli("DEL", cache)
    assert harness.redis_cli("EXISTS", f"stale:{cache}") == "1"
    # One unknown key costs a token; a valid key's lookup costs none.
    assert_401(harness.http("GET", "/whoami", auth=random_key(), source=addr),
               "invalid_api_key")
    before = bucket_tokens(harness, addr)
    assert before < UNKNOWN_KEYS_BURST - 0.5, before
    status, _, body = harness.http("GET", "/whoami", auth=fresh, source=addr)
    assert status == 200, body
    assert bucket_tokens(harness, addr) >= before, "a valid key's token was not given back"
    # Emptied by a guesser, the bucket still lets the key in use through.
    for _ in range(UNKNOWN_KEYS_BURST + 10):
        resp = harness.http("GET", "/whoami", auth=random_key(), source=addr)
        if resp[0] == 429:
            break
    assert_429(resp, limit=UNKNOWN_KEYS_BURST)
    status, _, body = harness.http("GET", "/whoami", auth=known, source=addr)
    assert status == 200 and body["user_id"] == user_id, body
    assert identity_reads("key", key_hash(harness, known)) == 2
    harness.redis_cli("DEL", f"rl:ip:{addr}:unknown_key")


def test_parallel_guesses_cannot_outrun_the_bucket(harness, identity_reads):
    """Each lookup holds its token while PostgreSQL is asked: 80 distinct
    unknown keys sent 16 at a time get at most burst (+ refill) lookups."""
    from concurrent.futures import ThreadPoolExecutor

    addr = "127.0.0.7"
    harness.redis_cli("DEL", f"rl:ip:{addr}:unknown_key")
    keys = [random_key() for _ in range(2 * UNKNOWN_KEYS_BURST)]
    t0 = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(
            lambda k: harness.http("GET", "/whoami", auth=k, source=addr)[0], keys))
    refill = int((time.monotonic() - t0) * UNKNOWN_KEYS_PER_MIN / 60) + 1
    assert set(statuses) <= {401, 429}, statuses
    looked_up = sum(identity_reads("key", key_hash(harness, k)) for k in keys)
    assert statuses.count(401) == looked_up
    assert UNKNOWN_KEYS_BURST <= looked_up <= UNKNOWN_KEYS_BURST + refill, (looked_up, refill)
    harness.redis_cli("DEL", f"rl:ip:{addr}:unknown_key")
