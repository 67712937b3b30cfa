"""Audit reproductions (authentication and accounts).

test_admin_revoked_key_comes_back_during_a_postgres_outage: a key revoked
with codeinsight-admin is documented (docs/operations.md, "Revocation") to
be refused once CODEINSIGHT_AUTH_CACHE_TTL (plus the gateway's own copy's
lifetime) has passed. The identity's long-lived `stale:` copy (24 h, written
by every fill) still says revoked=0, and auth.c's cache_restore_stale()
copies it back whenever PostgreSQL is unreachable: the revoked key is
accepted again for the whole outage."""

import hashlib
import time

import pytest

from tokens import assert_401


def key_hash(harness, key):
    return hashlib.blake2b(key.encode(), digest_size=32,
                           key=harness.key_pepper.encode()[:64]).hexdigest()


@pytest.fixture(scope="module")
def gw(harness):
    # A short Redis cache so the documented delay is over quickly; no
    # gateway-local copy, so only Redis and PostgreSQL decide.
    g = harness.start_gateway({"CODEINSIGHT_AUTH_CACHE_TTL": "1",
                               "CODEINSIGHT_IDENTITY_CACHE_MS": "0",
                               "CODEINSIGHT_RATE_LIMIT_SCALE": "10000"}, default=False)
    yield g
    g.stop()


def test_admin_revoked_key_comes_back_during_a_postgres_outage(harness, gw):
    _, _, key = harness.new_user(tag="stale-revoke")
    key_id = harness.key_ids[key]
    cache = f"auth:key:{key_hash(harness, key)}"

    # Used once: the fill writes the cache entry and its stale: copy.
    assert gw.http("GET", "/queue/info", auth=key)[0] == 200
    assert harness.redis_cli("HGET", f"stale:{cache}", "revoked") == "0"

    harness.admin("key-revoke", key_id)
    # Past the documented delay (CODEINSIGHT_AUTH_CACHE_TTL = 1 s).
    time.sleep(2.5)
    assert harness.redis_cli("EXISTS", cache) == "0"

    harness.stop_pg()
    try:
        status, _, body = gw.http("GET", "/queue/info", auth=key)
        assert status == 401, (f"a key revoked {2.5} s ago (cache TTL 1 s) was accepted while "
                               f"PostgreSQL is down: {status} {body}")
        assert_401((status, _, body), "revoked_api_key")
    finally:
        if not harness.pg_up():
            harness.start_pg()
    # With PostgreSQL back, the key is refused as it should be.
    time.sleep(1.5)
    assert_401(gw.http("GET", "/queue/info", auth=key), "revoked_api_key")
