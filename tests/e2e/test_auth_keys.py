"""API keys and credential parsing (docs/admission.md, "Identity"): keys
issued by codeinsight-admin and by POST /keys (shown once, stored as a keyed
BLAKE2b hash), GET /keys, revocation through DELETE /keys/<id> and
codeinsight-admin key-revoke at once (the cached identity and its copy for
PostgreSQL outages notwithstanding), other users' keys, and every 401 code of a
malformed, unknown or oversized credential, each with WWW-Authenticate."""

import hashlib
import secrets
import subprocess
import uuid

import pytest

from harness import API_KEY_RE, RFC3339_RE, UUID_RE, assert_problem, wait_until
from tokens import assert_401

VALID_REVIEW = {"file_path": "app.py", "file_content": "import os\n", "request_type": "review"}
KEY_CREATED_KEYS = {"key_id", "name", "prefix", "key", "created_at"}
KEY_LISTED_KEYS = {"key_id", "name", "prefix", "created_at", "last_used_at", "revoked_at"}


@pytest.fixture(scope="module", autouse=True)
def _gw(gateway):
    return gateway


def key_hash(harness, key):
    """What PostgreSQL must store: BLAKE2b-256 keyed with the pepper, hex."""
    return hashlib.blake2b(key.encode(), digest_size=32,
                           key=harness.key_pepper.encode()).hexdigest()


def whoami(harness, auth):
    status, headers, body = harness.http("GET", "/whoami", auth=auth)
    assert status == 200, body
    return body


def create_key(harness, auth, name="api"):
    status, headers, body = harness.http("POST", "/keys", {"name": name}, auth=auth)
    assert status == 201, body
    assert isinstance(body, dict) and set(body) == KEY_CREATED_KEYS, body
    harness.remember(body["key"])
    return body


# ---- issuing ----------------------------------------------------------------

def test_admin_issued_key_identifies_its_user(harness):
    email, user_id, key = harness.new_user("pro", tag="adminkey")
    assert API_KEY_RE.match(key) and len(key) == 40
    me = whoami(harness, key)
    assert me["user_id"] == user_id
    assert me["email"] == email
    assert me["plan"] == "pro"
    assert set(me) >= {"user_id", "email", "plan", "limits", "usage", "soft_throttled",
                       "degraded"}, me
    assert set(me["limits"]) >= {"submit", "read", "auth", "tokens_per_month"}, me
    assert me["limits"]["tokens_per_month"] == 500000
    assert set(me["usage"]) >= {"tokens_used", "tokens_reserved", "month"}, me
    # Only the keyed hash is stored, never the key.
    rows = harness.psql_rows(f"SELECT prefix, key_hash FROM api_keys WHERE user_id = '{user_id}'")
    assert rows == [[key[:12], key_hash(harness, key)]], rows
    assert harness.psql_int(f"SELECT count(*) FROM api_keys WHERE key_hash LIKE '%{key[12:]}%' "
                            f"OR name LIKE '%{key[12:]}%'") == 0


def test_admin_key_list_shows_prefix_only(harness):
    email, _, key = harness.new_user(tag="keylist")
    r = harness.admin("key-list", email)
    assert key[:12] in r.stdout
    assert key not in r.stdout and key[12:] not in r.stdout


def test_admin_refuses_duplicate_user_and_bad_plan(harness):
    email, _, _ = harness.new_user(tag="dup")
    assert harness.admin("user-create", email, check=False).returncode != 0
    assert harness.admin("user-create", email.upper(), check=False).returncode != 0
    assert harness.admin("user-create", "x-" + email, "--plan", "gold",
                         check=False).returncode != 0
    assert harness.admin("key-issue", "nobody-" + email, check=False).returncode != 0
    # Each bad argument is named: a plan by the plans there are.
    r = harness.admin("user-plan", email, "free", check=False)
    assert r.returncode == 1 and "plan must be lite, pro or business" in r.stderr, r.stderr
    r = harness.admin("user-plan", "not-an-email", "pro", check=False)
    assert r.returncode == 1 and "not a valid email address" in r.stderr, r.stderr
    assert harness.admin("user-plan", email, "business").returncode == 0


def folds_non_ascii(harness) -> bool:
    """PostgreSQL's lower() folds non-ASCII letters only when the database's
    LC_CTYPE is a UTF-8 locale (services.sh's initdb: C.UTF-8 when the host
    has it, else C)."""
    return harness.psql("SELECT lower('Ä') = 'ä'") == "t"


def test_admin_lower_cases_a_non_ascii_email_as_postgresql_does(harness):
    """An email with a capital beyond ASCII is stored as PostgreSQL's lower()
    has it (the users table's check), and found by any of its cases."""
    if not folds_non_ascii(harness):
        pytest.skip("the database's LC_CTYPE is not a UTF-8 locale: lower() is ASCII-only")
    tag = secrets.token_hex(3)
    upper, lower = f"Ä-{tag}@X.example", f"ä-{tag}@x.example"
    user_id = harness.create_user(upper, plan="pro")
    assert harness.psql(f"SELECT email FROM users WHERE user_id = '{user_id}'") == lower
    key = harness.issue_key(lower)
    assert harness.http("GET", "/whoami", auth=key)[2]["email"] == lower
    assert harness.admin("user-plan", f"ä-{tag}@X.EXAMPLE", "business").returncode == 0
    r = harness.admin("user-create", lower, check=False)
    assert r.returncode == 1 and "a user with this email exists" in r.stderr, r.stderr
    # Not UTF-8: refused by name, not by PostgreSQL's encoding check.
    r = harness.admin("user-create", f"a\udc93-{tag}@x.example", check=False)
    assert r.returncode == 1 and "not a valid email address" in r.stderr, r.stderr


def test_admin_and_migrate_help(harness):
    for tool, arg in (("codeinsight-admin", "--help"), ("codeinsight-migrate", "--help"),
                      ("codeinsight-admin", "nope"), ("codeinsight-migrate", "nope")):
        r = subprocess.run([str(harness.binary(tool)), arg], capture_output=True, text=True,
                           timeout=10, env={"PATH": "/usr/bin:/bin"})
        want = 0 if arg == "--help" else 2
        assert r.returncode == want, (tool, arg, r)
        assert "usage: " + tool in (r.stdout if want == 0 else r.stderr), (tool, arg, r)


def test_post_keys_shows_the_key_once(harness):
    email, user_id, key = harness.new_user(tag="postkeys")
    created = create_key(harness, key, name="laptop")
    assert created["name"] == "laptop"
    assert UUID_RE.match(created["key_id"]), created
    assert API_KEY_RE.match(created["key"]), created
    assert created["prefix"] == created["key"][:12]
    assert RFC3339_RE.match(created["created_at"]), created
    # the new key identifies the same user
    assert whoami(harness, created["key"])["user_id"] == user_id

    status, _, listed = harness.http("GET", "/keys", auth=key)
    assert status == 200, listed
    assert set(listed) == {"keys"}, listed
    by_id = {k["key_id"]: k for k in listed["keys"]}
    assert created["key_id"] in by_id and len(by_id) == 2, listed
    for k in listed["keys"]:
        assert set(k) == KEY_LISTED_KEYS, k
        assert k["revoked_at"] is None, k
        assert API_KEY_RE.match(k["prefix"] + "A" * 28), k
    new = by_id[created["key_id"]]
    assert new["name"] == "laptop" and new["prefix"] == created["prefix"]
    assert new["created_at"] is not None
    # used just above (identity cache miss records the use)
    assert new["last_used_at"] is not None and RFC3339_RE.match(new["last_used_at"]), new
    # the key itself is never shown again
    for secret in (created["key"], created["key"][12:], key, key[12:]):
        status, _, raw = harness.http("GET", "/keys", auth=created["key"])
        assert secret not in str(raw)
    assert harness.psql(f"SELECT key_hash FROM api_keys WHERE key_id = '{created['key_id']}'") \
        == key_hash(harness, created["key"])


@pytest.mark.parametrize("body,code", [
    ({}, "missing_field"),
    ({"name": 5}, {"missing_field", "invalid_field_type"}),
    ({"name": ""}, "invalid_field_value"),
    ({"name": "n" * 101}, {"invalid_field_value", "field_too_long"}),
    (b"{", "invalid_json"),
    (b"[]", "invalid_json"),
    # Found by tests/e2e/test_fuzz_http.py: these reached PostgreSQL (502).
    (b'{"name":"ci\xb7key"}', "invalid_encoding"),
    (b'{"name":"ci\\u0000key"}', "invalid_encoding"),
    (b'{"name":"ci"}\x00', "invalid_json"),
    (b'{"name":"ci"} trailing', "invalid_json"),
])
def test_post_keys_validation(harness, body, code):
    _, _, key = harness.new_user(tag="keyval")
    assert_problem(harness.http("POST", "/keys", body, auth=key), 400, code)


# ---- revocation -------------------------------------------------------------

def test_revocation_takes_effect_at_once(harness):
    email, user_id, key1 = harness.new_user(tag="revoke")
    key2 = create_key(harness, key1, name="to-revoke")
    k2, k2_id = key2["key"], key2["key_id"]
    # k2's identity is now cached in Redis
    assert whoami(harness, k2)["user_id"] == user_id
    cache = f"auth:key:{key_hash(harness, k2)}"
    assert harness.redis_cli("EXISTS", cache) == "1", "identity not cached after a request"
    assert harness.redis_cli("HGET", cache, "key_id") == k2_id

    status, headers, body = harness.http("DELETE", f"/keys/{k2_id}", auth=key1)
    assert status == 204, body
    assert body in ("", None), body
    # No content, so no Content-Type either.
    assert headers.get("Content-Type") is None, headers.items

    assert_401(harness.http("GET", "/whoami", auth=k2), "revoked_api_key")
    assert_401(harness.http("POST", "/review", VALID_REVIEW, auth=k2), "revoked_api_key")
    assert_401(harness.http("GET", "/jobs", auth=k2), "revoked_api_key")
    # the user's other key is untouched
    assert whoami(harness, key1)["user_id"] == user_id

    status, _, listed = harness.http("GET", "/keys", auth=key1)
    assert status == 200
    by_id = {k["key_id"]: k for k in listed["keys"]}
    assert by_id[k2_id]["revoked_at"] is not None and RFC3339_RE.match(by_id[k2_id]["revoked_at"])

    # Once the cache entry is gone, PostgreSQL still says revoked.
    harness.redis_cli("DEL", cache)
    assert_401(harness.http("GET", "/whoami", auth=k2), "revoked_api_key")


def test_a_key_can_revoke_itself(harness):
    _, _, key = harness.new_user(tag="selfrevoke")
    key_id = harness.key_ids[key]
    whoami(harness, key)
    status, _, body = harness.http("DELETE", f"/keys/{key_id}", auth=key)
    assert status == 204, body
    assert_401(harness.http("GET", "/keys", auth=key), "revoked_api_key")


def test_fill_after_revocation_keeps_it(harness):
    """DELETE /keys/<id> updates PostgreSQL, then sets revoked=1 in Redis; a
    cache fill that read PostgreSQL just before comes after it with
    revoked=0. Here PostgreSQL is left unrevoked to stand for that earlier
    read: the fill from it keeps the revocation the long-lived copy holds
    (before, it wrote revoked=0 and the key worked again)."""
    _, _, key = harness.new_user(tag="revoke-race")
    cache = f"auth:key:{key_hash(harness, key)}"
    stale = f"stale:{cache}"
    assert harness.redis_cli("EXISTS", cache) == "0"
    harness.redis_cli("HSET", stale, "revoked", "1")
    harness.redis_cli("EXPIRE", stale, "86400")
    assert_401(harness.http("GET", "/whoami", auth=key), "revoked_api_key")
    for k in (cache, stale):
        assert harness.redis_cli("HGET", k, "revoked") == "1", k
        assert harness.redis_cli("HGET", k, "key_id") == harness.key_ids[key], k


def test_fill_script_never_unrevokes(harness):
    """auth_fill.lua, driven directly: a revocation already in the cache
    entry is kept by a fill that says revoked=0, in both hashes; without
    one, the fill writes what it was given."""
    script = (harness.build_dir / "gen" / "schema" / "redis" / "auth_fill.lua").read_text()
    fields = ["user_id", str(uuid.uuid4()), "key_id", str(uuid.uuid4()), "email", "a@x.org",
              "plan", "lite", "read_burst", "100", "revoked", "0"]
    cache = f"auth:key:{secrets.token_hex(32)}"
    stale = f"stale:{cache}"
    harness.redis_cli("HSET", cache, "revoked", "1")        # as DELETE /keys leaves it
    assert harness.redis_cli("EVAL", script, "2", cache, stale, "60", "86400", *fields) == "1"
    for k in (cache, stale):
        assert harness.redis_cli("HGET", k, "revoked") == "1", k
        assert harness.redis_cli("HGET", k, "user_id") == fields[1], k
    assert 0 < harness.redis_int("TTL", cache) <= 60
    assert 60 < harness.redis_int("TTL", stale) <= 86400
    other = f"auth:key:{secrets.token_hex(32)}"
    assert harness.redis_cli("EVAL", script, "2", other, f"stale:{other}", "60", "86400",
                             *fields) == "0"
    assert harness.redis_cli("HGET", other, "revoked") == "0"
    assert harness.redis_cli("HGET", f"stale:{other}", "revoked") == "0"


def test_other_users_key_is_not_found(harness):
    _, a_id, a_key = harness.new_user(tag="owner")
    _, _, b_key = harness.new_user(tag="intruder")
    a_key_id = harness.key_ids[a_key]
    other = harness.http("DELETE", f"/keys/{a_key_id}", auth=b_key)
    unknown = harness.http("DELETE", f"/keys/{uuid.uuid4()}", auth=b_key)
    garbage = harness.http("DELETE", "/keys/not-a-key-id", auth=b_key)
    for resp in (other, unknown, garbage):
        assert resp[0] == 404, resp
        assert_problem(resp, 404, "not_found")
    strip = lambda b: {k: v for k, v in b.items() if k != "request_id"}  # noqa: E731
    assert strip(other[2]) == strip(unknown[2]), "another user's key looks unlike an unknown one"
    # A's key still works and B's listing does not show it
    assert whoami(harness, a_key)["user_id"] == a_id
    status, _, listed = harness.http("GET", "/keys", auth=b_key)
    assert a_key_id not in {k["key_id"] for k in listed["keys"]}
    assert harness.psql(f"SELECT revoked_at IS NULL FROM api_keys WHERE key_id = '{a_key_id}'") \
        == "t"


def test_revocation_redis_failure_answers_503_and_a_retry_completes(harness):
    """PostgreSQL is revoked first; when Redis then refuses the write (here
    the long-lived copy is a string, so the script's HSET fails), the key
    would still work from that copy during a PostgreSQL outage: 503
    redis_unavailable, not 204 (before: 204 and a log line). The retry is
    harmless and completes the revocation."""
    _, _, key1 = harness.new_user(tag="revoke-503")
    key2 = create_key(harness, key1, name="to-revoke")
    k2, k2_id = key2["key"], key2["key_id"]
    assert whoami(harness, k2)
    stale = f"stale:auth:key:{key_hash(harness, k2)}"
    harness.redis_cli("DEL", stale)
    harness.redis_cli("SET", stale, "not-a-hash")

    resp = harness.http("DELETE", f"/keys/{k2_id}", auth=key1)
    assert_problem(resp, 503, "redis_unavailable")
    assert resp[1].get("Retry-After"), resp[1]
    assert harness.psql(f"SELECT revoked_at IS NOT NULL FROM api_keys WHERE key_id = '{k2_id}'") \
        == "t"

    harness.redis_cli("DEL", stale)
    status, _, body = harness.http("DELETE", f"/keys/{k2_id}", auth=key1)
    assert status == 204, body
    assert harness.redis_cli("HGET", stale, "revoked") == "1"
    assert_401(harness.http("GET", "/whoami", auth=k2), "revoked_api_key")


def test_admin_revocation_takes_effect_at_once(harness):
    # codeinsight-admin key-revoke tells Redis as DELETE /keys does: the
    # key is refused at once, not when its cached identity expires
    # (CODEINSIGHT_AUTH_CACHE_TTL, 60 s here), and its long-lived copy
    # says revoked too.
    _, _, key = harness.new_user(tag="adminrevoke")
    assert whoami(harness, key)
    harness.admin("key-revoke", harness.key_ids[key])
    cache = f"auth:key:{key_hash(harness, key)}"
    for k in (cache, f"stale:{cache}"):
        assert harness.redis_cli("HGET", k, "revoked") == "1", k

    def refused():
        resp = harness.http("GET", "/whoami", auth=key)
        return resp if resp[0] == 401 else None
    # The gateway's own copy goes when the ci:auth message arrives.
    resp = wait_until(refused, timeout=2, interval=0.05, desc="admin-revoked key refused")
    assert_401(resp, "revoked_api_key")


def test_admin_revoked_key_stays_refused_during_a_postgres_outage(harness):
    """The identity's long-lived copy (stale:, 24 h) is put back whenever
    PostgreSQL is unreachable. key-revoke used to update PostgreSQL only, so
    the copy still said revoked=0 and the key was accepted again for the
    whole outage once the cache entry had expired."""
    # A short Redis cache; no gateway-local copy: only Redis and PostgreSQL decide.
    gw = harness.start_gateway({"CODEINSIGHT_AUTH_CACHE_TTL": "1",
                                "CODEINSIGHT_IDENTITY_CACHE_MS": "0",
                                "CODEINSIGHT_RATE_LIMIT_SCALE": "10000"}, default=False)
    _, _, key = harness.new_user(tag="stale-revoke")
    cache = f"auth:key:{key_hash(harness, key)}"
    assert gw.http("GET", "/queue/info", auth=key)[0] == 200
    assert harness.redis_cli("HGET", f"stale:{cache}", "revoked") == "0"

    harness.admin("key-revoke", harness.key_ids[key])
    # Cache entries written before expire at once with TTL 1 s; drop it as
    # if it had, so only the stale copy is left to decide.
    harness.redis_cli("DEL", cache)
    harness.stop_pg()
    try:
        assert_401(gw.http("GET", "/queue/info", auth=key), "revoked_api_key")
    finally:
        if not harness.pg_up():
            harness.start_pg()
    assert_401(gw.http("GET", "/queue/info", auth=key), "revoked_api_key")
    gw.stop()


def test_admin_revoke_without_redis_exits_3(harness):
    # PostgreSQL is revoked; Redis cannot be reached: exit 3, and stderr
    # says the key still works from the gateways' copies and what to do.
    _, _, key = harness.new_user(tag="adminrevoke-noredis")
    key_id = harness.key_ids[key]
    assert whoami(harness, key)
    r = harness.admin("key-revoke", key_id, check=False,
                      env={"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert r.returncode == 3, r.stderr
    assert "revoked in PostgreSQL" in r.stderr and f"key-revoke {key_id} again" in r.stderr, \
        r.stderr
    assert harness.psql(f"SELECT revoked_at IS NOT NULL FROM api_keys WHERE key_id = '{key_id}'") \
        == "t"
    stale = f"stale:auth:key:{key_hash(harness, key)}"
    assert harness.redis_cli("HGET", stale, "revoked") == "0"
    # Run again with Redis: done.
    assert harness.admin("key-revoke", key_id).returncode == 0
    assert harness.redis_cli("HGET", stale, "revoked") == "1"
    # A bad REDIS_URL is a configuration error, found before anything changes.
    _, _, other = harness.new_user(tag="adminrevoke-badurl")
    r = harness.admin("key-revoke", harness.key_ids[other], check=False,
                      env={"REDIS_URL": "rediss://127.0.0.1:1/0"})
    assert r.returncode == 2, r.stderr
    assert harness.psql("SELECT revoked_at IS NULL FROM api_keys "
                        f"WHERE key_id = '{harness.key_ids[other]}'") == "t"


# ---- malformed and unknown credentials --------------------------------------

def random_key():
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "ci_live_" + "".join(secrets.choice(alphabet) for _ in range(32))


@pytest.mark.parametrize("cred", [
    "unknown-well-formed",
    "ci_live_short",
    "ci_live_" + "A" * 31,
    "ci_live_" + "A" * 33,
    "ci_live_" + "A" * 31 + "-",
    "ci_live_" + "A" * 31 + "_",
], ids=["unknown", "short", "31", "33", "dash", "underscore"])
def test_unknown_or_malformed_api_key(harness, cred):
    cred = random_key() if cred == "unknown-well-formed" else cred
    assert_401(harness.http("GET", "/whoami", auth=cred), "invalid_api_key")
    assert_401(harness.http("POST", "/review", VALID_REVIEW, auth=cred), "invalid_api_key")


def test_key_of_another_pepper_is_unknown(harness):
    # A key is only valid under the pepper it was hashed with.
    gw = harness.start_gateway({"CODEINSIGHT_KEY_PEPPER": "other-" + secrets.token_hex(24)},
                               default=False)
    _, _, key = harness.new_user(tag="pepper")
    assert_401(harness.http("GET", "/whoami", auth=key, gateway=gw), "invalid_api_key")
    assert harness.http("GET", "/whoami", auth=key)[0] == 200
    gw.stop()


# A bearer token presented (and refused: error="invalid_token"), or none
# (no error attribute: RFC 6750 section 3.1).
@pytest.mark.parametrize("header,code,token_sent", [
    (None, "missing_credentials", False),
    ("Basic dXNlcjpwYXNzd29yZA==", "malformed_credentials", False),
    ("Bearer", "malformed_credentials", False),
    ("Bearer ", "malformed_credentials", False),
    ("Bearer a b", "malformed_credentials", True),
    ("Bearer not-a-key-nor-a-jwt", "malformed_credentials", True),
    ("Token ci_live_" + "A" * 32, "malformed_credentials", False),
    ("Bearer ci_live_" + "A" * 9000, "token_too_large", True),
    ("Bearer " + "x" * 9000, "token_too_large", True),
    ("Basic " + "x" * 9000, "token_too_large", False),
], ids=["none", "basic", "bearer-only", "bearer-space", "two-tokens", "neither", "token-scheme",
        "huge-key", "huge-other", "huge-basic"])
@pytest.mark.parametrize("method,path", [
    ("GET", "/whoami"), ("GET", "/usage"), ("GET", "/jobs"),
    ("GET", "/job/0190a8d4-5b6c-7def-8123-456789abcdef"),
    ("POST", "/review"), ("GET", "/keys"), ("POST", "/keys"),
    ("DELETE", "/keys/0190a8d4-5b6c-7def-8123-456789abcdef"),
])
def test_every_route_refuses_bad_credentials(harness, method, path, header, code, token_sent):
    body = {"/review": VALID_REVIEW, "/keys": {"name": "x"}}.get(path) if method == "POST" else None
    headers = {"Authorization": header} if header is not None else {}
    resp = harness.http(method, path, body, headers=headers, auth=None)
    assert_401(resp, code, token_sent)


def test_scheme_is_case_insensitive(harness):
    _, user_id, key = harness.new_user(tag="scheme")
    status, _, body = harness.http("GET", "/whoami", headers={"Authorization": f"bearer {key}"},
                                   auth=None)
    assert status == 200 and body["user_id"] == user_id, body


def test_public_routes_ignore_credentials(harness):
    for path in ("/healthz", "/readyz"):
        for headers in ({}, {"Authorization": "Bearer garbage"},
                        {"Authorization": f"Bearer {random_key()}"}):
            status, _, body = harness.http("GET", path, headers=headers, auth=None)
            assert status == 200, (path, headers, body)


def test_unknown_key_is_refused_before_validation(harness):
    _, _, key = harness.new_user(tag="order")
    key_id = harness.key_ids[key]
    assert harness.http("DELETE", f"/keys/{key_id}", auth=key)[0] == 204
    cases = [
        (random_key(), {"file_path": "a.py"}, {}, "invalid_api_key"),
        (random_key(), VALID_REVIEW, {"Idempotency-Key": "has space"}, "invalid_api_key"),
        (key, {"file_path": "a.py"}, {}, "revoked_api_key"),
        (key, VALID_REVIEW, {"Idempotency-Key": "has space"}, "revoked_api_key"),
    ]
    for cred, body, headers, code in cases:
        assert_401(harness.http("POST", "/review", body, headers=headers, auth=cred), code)
