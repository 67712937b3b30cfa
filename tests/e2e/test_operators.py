"""The operator role (docs/operations.md, "Operators"; migration 011): GET
/stats, figures over every user, answers operators only and 403
operator_only to everyone else; `codeinsight-admin user-operator EMAIL
on|off` grants and revokes the role; GET /whoami says `operator`. The role
is cached with the identity, so a change is seen within
CODEINSIGHT_AUTH_CACHE_TTL + CODEINSIGHT_IDENTITY_CACHE_MS: tested here
with both short, through API keys, login tokens and Supabase tokens.

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_operators.py
"""

import secrets
import subprocess
import time
import uuid

import pytest

from harness import assert_problem, wait_until
from tokens import SUPABASE_AUDIENCE, SUPABASE_ISSUER, sign_hs256, supabase_claims

# The short-lived caches of the `quick` gateway: Redis keeps an identity 1 s,
# the gateway's own copy 1 s more at most; so a grant or revocation must be
# seen within BOUND_S (plus the time a request takes on a busy machine).
AUTH_TTL_S = 1
IDENTITY_MS = 1000
BOUND_S = AUTH_TTL_S + IDENTITY_MS / 1000
SLACK_S = 2.5
SUPABASE_SECRET = "sb-secret-" + uuid.uuid4().hex + uuid.uuid4().hex


@pytest.fixture(scope="module")
def quick(harness, _module_isolation):
    """A gateway with short identity caches, raised limits (so reads are
    admitted from leases, by its own copy of the identity) and Supabase
    tokens (HS256)."""
    gw = harness.start_gateway({"CODEINSIGHT_AUTH_CACHE_TTL": str(AUTH_TTL_S),
                                "CODEINSIGHT_IDENTITY_CACHE_MS": str(IDENTITY_MS),
                                "CODEINSIGHT_RATE_LIMIT_SCALE": "1000",
                                "SUPABASE_JWT_SECRET": SUPABASE_SECRET,
                                "SUPABASE_JWT_ISSUER": SUPABASE_ISSUER,
                                "SUPABASE_JWT_AUDIENCE": SUPABASE_AUDIENCE}, default=False)
    harness.remember(SUPABASE_SECRET)
    yield gw
    gw.stop()


def stats(harness, auth, gateway=None):
    return harness.http("GET", "/stats", auth=auth, gateway=gateway)


def is_operator(harness, auth, gateway=None) -> bool:
    status, _, me = harness.http("GET", "/whoami", auth=auth, gateway=gateway)
    assert status == 200, me
    assert isinstance(me["operator"], bool), me
    return me["operator"]


def assert_refused(resp) -> None:
    body = assert_problem(resp, 403, "operator_only")
    assert body["title"] == "Operators only", body
    assert "operator" in body["detail"], body


def seen_within_bound(harness, gateway, auth, want_status: int) -> float:
    """Seconds until GET /stats answers want_status (and /whoami agrees);
    fails past the documented bound (with slack)."""
    start = time.monotonic()

    def settled():
        status = stats(harness, auth, gateway)[0]
        return status == want_status and is_operator(harness, auth, gateway) == (status == 200)

    wait_until(settled, timeout=BOUND_S + SLACK_S + 5, interval=0.1)
    took = time.monotonic() - start
    assert took <= BOUND_S + SLACK_S, f"took {took:.2f} s, bound {BOUND_S} s"
    return took


def test_a_user_is_no_operator_until_granted(harness, gateway):
    """Every user, the session's default one included (made before the
    role existed in its tests' eyes), starts without the role."""
    assert harness.psql("SELECT operator FROM users WHERE email = "
                        f"'{harness.default_email}'") == "f"
    _, user_id, key = harness.new_user("business", tag="notop")
    assert harness.psql(f"SELECT operator FROM users WHERE user_id = '{user_id}'") == "f"
    assert_refused(stats(harness, key))
    assert_refused(stats(harness, harness.default_key))
    assert is_operator(harness, key) is False
    # HEAD is refused alike, without a body.
    status, headers, _ = harness.http("HEAD", "/stats", auth=key)
    assert status == 403 and headers.get("Content-Type", "").startswith(
        "application/problem+json"), (status, headers)
    # Unauthenticated callers are still told to authenticate first.
    assert_problem(stats(harness, None), 401, "missing_credentials")


def test_an_operator_reads_stats(harness, gateway):
    email, _, key = harness.new_user("lite", tag="op")
    harness.set_operator(email)
    status, _, body = stats(harness, key)
    assert status == 200, body
    assert body["users"] == harness.psql_int("SELECT count(*) FROM users"), body
    assert is_operator(harness, key) is True
    # The session's operator, which the other modules' /stats calls use.
    assert stats(harness, harness.operator_key())[0] == 200


def test_an_operator_by_login_token(harness, gateway):
    """A login token (auth:user:<id>) carries no role itself: the role is
    the user's, looked up as the identity is."""
    password = "pw-" + secrets.token_urlsafe(12)
    email, _, _ = harness.new_user("pro", password=password, tag="opjwt")
    harness.set_operator(email)
    status, _, tok = harness.http("POST", "/auth/login", {"email": email, "password": password},
                                  auth=None)
    assert status == 200, tok
    harness.remember(tok["access_token"])
    assert stats(harness, tok["access_token"])[0] == 200
    assert is_operator(harness, tok["access_token"]) is True


def test_grant_and_revoke_are_seen_within_the_cache_times(harness, quick):
    """By API key: refused (and cached so), granted, seen; revoked, seen.
    The gateway admits from its own copy here (leases), so both caches are
    crossed."""
    email, _, key = harness.new_user("lite", tag="opttl")
    assert_refused(stats(harness, key, quick))
    assert is_operator(harness, key, quick) is False
    harness.set_operator(email, True)
    seen_within_bound(harness, quick, key, 200)
    harness.set_operator(email, False)
    seen_within_bound(harness, quick, key, 403)
    assert_refused(stats(harness, key, quick))


def test_grant_reaches_a_supabase_user(harness, quick):
    """A Supabase token's user (created on first sight, no role) granted by
    email: the identity cached as auth:ext:<hash> picks the role up too."""
    sub = str(uuid.uuid4())
    email = f"sb-op-{sub[:8]}@example.com"
    tok = sign_hs256(supabase_claims(sub, email=email), SUPABASE_SECRET)
    assert_refused(stats(harness, tok, quick))
    assert is_operator(harness, tok, quick) is False
    harness.set_operator(email, True)
    seen_within_bound(harness, quick, tok, 200)


def test_admin_user_operator_arguments(harness):
    """Exit status 0 done (again: harmless), 1 no such user, 2 usage; the
    email in any case; --help names it."""
    email, user_id, _ = harness.new_user(tag="opcli")
    row = f"SELECT operator FROM users WHERE user_id = '{user_id}'"
    r = harness.admin("user-operator", email.upper(), "on", check=False)
    assert r.returncode == 0, r.stderr
    assert "CODEINSIGHT_AUTH_CACHE_TTL" in r.stderr, r.stderr
    assert harness.psql(row) == "t"
    assert harness.admin("user-operator", email, "on", check=False).returncode == 0
    assert harness.psql(row) == "t"
    assert harness.admin("user-operator", email, "off", check=False).returncode == 0
    assert harness.psql(row) == "f"

    r = harness.admin("user-operator", "nobody-" + email, "on", check=False)
    assert r.returncode == 1 and "no user with this email" in r.stderr, r.stderr
    r = harness.admin("user-operator", "not-an-email", "on", check=False)
    assert r.returncode == 1 and "not a valid email address" in r.stderr, r.stderr
    assert "(invalid_field_value)" in r.stderr, r.stderr    # not "not_found"
    for args in ((email, "yes"), (email, "ON"), (email,), (email, "on", "x")):
        r = harness.admin("user-operator", *args, check=False)
        assert r.returncode == 2, (args, r)
        assert "usage: codeinsight-admin" in r.stderr, (args, r.stderr)
    assert harness.psql(row) == "f"

    r = subprocess.run([str(harness.binary("codeinsight-admin")), "--help"], capture_output=True,
                       text=True, timeout=10, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and "user-operator EMAIL on|off" in r.stdout, r
