"""POST /auth/login (docs/admission.md): a right password gives an HS256
token that identifies the user; a wrong password and an unknown email are
indistinguishable (same body, comparable time); attempts are limited per
email (burst 5) and per client address (burst 10) before any password is
checked, with 429 rate_limited, Retry-After and RateLimit-* headers."""

import itertools
import re
import secrets
import statistics
import subprocess
import time

import jwt
import pytest

from harness import assert_problem
from tokens import OWN_ISSUER, assert_401, assert_429, rate_headers

PASSWORD = "correct horse battery staple"
LOGIN_EMAIL_BURST = 5
LOGIN_EMAIL_PER_MIN = 10
LOGIN_ADDR_BURST = 10
LOGIN_ADDR_PER_MIN = 30


@pytest.fixture(scope="module", autouse=True)
def _gw(gateway):
    return gateway


@pytest.fixture(autouse=True)
def fresh_address_buckets(harness):
    """Every test starts with full per-address login buckets (all requests
    come from loopback addresses)."""
    harness.redis_cli("DEL", "rl:ip:127.0.0.1:login", "rl:ip:127.0.0.2:login")
    yield


def login(harness, email, password, **kw):
    harness.remember(password)      # wrong ones too: no password may reach a log
    return harness.http("POST", "/auth/login", {"email": email, "password": password},
                        auth=None, **kw)


def strip_rid(body):
    return {k: body[k] for k in ("type", "title", "status", "detail", "code")}


def test_login_gives_a_working_token(harness):
    email, user_id, _ = harness.new_user("pro", password=PASSWORD, tag="login")
    status, headers, body = login(harness, email, PASSWORD)
    assert status == 200, body
    assert set(body) >= {"access_token", "token_type", "expires_in"}, body
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and 0 < body["expires_in"] <= 3600, body
    token = body["access_token"]
    harness.remember(token)
    rate_headers(headers)  # login is a limited route

    claims = jwt.decode(token, harness.jwt_secret, algorithms=["HS256"], issuer=OWN_ISSUER)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert claims["sub"] == user_id
    assert claims["plan"] == "pro"
    assert claims["iss"] == OWN_ISSUER
    assert claims["exp"] - claims["iat"] <= 3600
    assert abs(claims["iat"] - time.time()) < 120

    status, _, me = harness.http("GET", "/whoami", auth=token)
    assert status == 200, me
    assert me["user_id"] == user_id and me["email"] == email and me["plan"] == "pro"
    # the token also submits and reads jobs
    job_id = harness.submit(auth=token)
    assert harness.get_job(job_id, auth=token)[0] == 200


def test_email_is_case_insensitive(harness):
    email, user_id, _ = harness.new_user(password=PASSWORD, tag="case")
    status, _, body = login(harness, email.upper(), PASSWORD)
    assert status == 200, body
    harness.remember(body["access_token"])
    assert jwt.decode(body["access_token"], harness.jwt_secret, algorithms=["HS256"])["sub"] \
        == user_id


def test_non_ascii_email_is_case_insensitive(harness):
    """A user created as Ä...@x.example (stored as PostgreSQL's lower()
    has it) logs in with the address in any case."""
    if harness.psql("SELECT lower('Ä') = 'ä'") != "t":
        pytest.skip("the database's LC_CTYPE is not a UTF-8 locale: lower() is ASCII-only")
    tag = secrets.token_hex(3)
    user_id = harness.create_user(f"Ä-{tag}@x.example", password=PASSWORD)
    for email in (f"ä-{tag}@x.example", f"Ä-{tag}@X.EXAMPLE"):
        status, _, body = login(harness, email, PASSWORD)
        assert status == 200, (email, body)
        harness.remember(body["access_token"])
        assert jwt.decode(body["access_token"], harness.jwt_secret,
                          algorithms=["HS256"])["sub"] == user_id


def test_user_without_password_cannot_log_in(harness):
    email, _, _ = harness.new_user(tag="nopw")
    body = assert_problem(login(harness, email, PASSWORD), 401, "invalid_credentials")
    assert body["code"] == "invalid_credentials"


def test_wrong_password_and_unknown_email_look_the_same(harness):
    email, _, _ = harness.new_user(password=PASSWORD, tag="same")
    wrong = login(harness, email, "wrong " + PASSWORD)
    unknown = login(harness, "nobody-" + email, "wrong " + PASSWORD)
    b1 = assert_problem(wrong, 401, "invalid_credentials")
    b2 = assert_problem(unknown, 401, "invalid_credentials")
    assert strip_rid(b1) == strip_rid(b2)
    assert set(b1) == set(b2), (b1, b2)
    assert b1["request_id"] != b2["request_id"]
    # nothing in the answer tells the two apart either
    for name in ("Content-Type", "WWW-Authenticate", "Content-Length", "RateLimit-Limit"):
        assert wrong[1].get(name) == unknown[1].get(name), name


def test_unknown_email_costs_a_password_verification(harness):
    # "take the same time (a dummy argon2id verification runs for unknown
    # emails)": loosely, an unknown email is not answered much faster.
    email, _, _ = harness.new_user(password=PASSWORD, tag="timing")
    known, unknown = [], []
    for i in range(3):
        t = time.monotonic()
        assert login(harness, email, f"wrong-{i} {PASSWORD}")[0] == 401
        known.append(time.monotonic() - t)
        t = time.monotonic()
        assert login(harness, f"nobody-{i}-{email}", f"wrong-{i} {PASSWORD}")[0] == 401
        unknown.append(time.monotonic() - t)
    k, u = statistics.median(known), statistics.median(unknown)
    assert u >= 0.3 * k, f"unknown email answered in {u:.3f}s vs {k:.3f}s for a known one"


def test_login_401_has_www_authenticate(harness):
    """A wrong password presented no bearer token: the challenge names the
    scheme, and no error (RFC 6750 section 3.1: invalid_token is for a
    token that was sent), even when the login carried one."""
    email, _, key = harness.new_user(password=PASSWORD, tag="challenge")
    assert_401(login(harness, email, "wrong " + PASSWORD), "invalid_credentials",
               token_sent=False)
    resp = harness.http("POST", "/auth/login", {"email": email, "password": "wrong " + PASSWORD},
                        auth=key)
    assert_401(resp, "invalid_credentials", token_sent=False)


@pytest.mark.parametrize("body", [b"{", b"[]", {"email": "a@example.com"}, {"password": "x"},
                                  {"email": 1, "password": "p"}])
def test_login_malformed_body(harness, body):
    status, _, problem = harness.http("POST", "/auth/login", body, auth=None)
    assert status == 400, problem
    assert problem["code"] in ("invalid_json", "missing_field", "invalid_field_type"), problem


# Found by tests/e2e/test_fuzz_http.py: an email that is not UTF-8 reached
# PostgreSQL (502).
@pytest.mark.parametrize("body,code,field", [
    (b'{"email":"a\x93@example.com","password":"p"}', "invalid_encoding", "email"),
    (b'{"email":"a@example.com","password":"p\xff"}', "invalid_encoding", "password"),
    (b'{"email":"a\\u0000@example.com","password":"p"}', "invalid_encoding", "email"),
    ({"email": "a" * 255 + "@example.com", "password": "p"}, "field_too_long", "email"),
    ({"email": "a@example.com", "password": "p" * 1025}, "field_too_long", "password"),
    (b'{"email":"a@example.com","password":"p"}\x00', "invalid_json", None),
])
def test_login_bad_strings(harness, body, code, field):
    resp = harness.http("POST", "/auth/login", body, auth=None)
    if field is None:
        assert_problem(resp, 400, code)
    else:
        assert_problem(resp, 400, code, field=field)


def refusal_that_lasts(attempt, min_retry_s, tries=6):
    """Repeats attempt() (a login the bucket under test refuses once empty)
    until a 429 whose Retry-After is at least min_retry_s: no token comes
    back for min_retry_s - 1 s, so the checks that follow do not race the
    refill, however slow the machine. A 429 promising a token sooner is
    waited out and that token taken. Returns the lasting 429."""
    for _ in range(tries):
        resp = attempt()
        if resp[0] == 429:
            retry = int(resp[1].get("Retry-After", "0"))
            if retry >= min_retry_s:
                return resp
            time.sleep(retry + 0.1)
        else:
            assert_problem(resp, 401, "invalid_credentials")
    pytest.fail(f"no 429 with Retry-After >= {min_retry_s} in {tries} attempts")


def drain(harness, email_of, burst, per_min, own_headers=True):
    """Wrong passwords (to email_of(i)) until a 429; the bucket refills while
    we hammer it, so at least burst and at most burst + what refilled are
    let through. own_headers: the 401s' RateLimit-* headers are this
    bucket's (they show the tightest one: with a fresh email each time, the
    email's). Returns the 429."""
    t0 = time.monotonic()
    seen, resp = [], None
    for i in range(burst + 10):
        resp = login(harness, email_of(i), f"guess-{i}")
        if resp[0] == 429:
            break
        assert_problem(resp, 401, "invalid_credentials")
        limit, remaining, _ = rate_headers(resp[1])
        if own_headers:
            assert limit == burst, resp[1]
        seen.append(remaining)
    refill = int((time.monotonic() - t0) * per_min / 60)
    assert resp is not None and resp[0] == 429, seen
    assert burst <= len(seen) <= burst + refill, (seen, refill)
    if own_headers:
        assert seen[-1] == 0, seen
        if refill == 0:
            assert seen == list(range(burst - 1, -1, -1)), seen
    return resp


def test_per_email_limit(harness):
    email, _, _ = harness.new_user(password=PASSWORD, tag="brute")
    other, _, _ = harness.new_user(password=PASSWORD, tag="brute-other")
    resp = drain(harness, lambda i: email, LOGIN_EMAIL_BURST, LOGIN_EMAIL_PER_MIN)
    assert_429(resp, limit=LOGIN_EMAIL_BURST)
    more = itertools.count()
    refusal_that_lasts(lambda: login(harness, email, f"guess-more-{next(more)}"), 3)
    # every attempt took an address token too; what follows is about the
    # email's bucket
    harness.redis_cli("DEL", "rl:ip:127.0.0.1:login")
    # refused before the password is checked: the right one is refused too,
    # whatever the case of the address
    assert_429(login(harness, email, PASSWORD), limit=LOGIN_EMAIL_BURST)
    assert_429(login(harness, email.upper(), PASSWORD), limit=LOGIN_EMAIL_BURST)
    # another email from the same address is not affected
    status, _, body = login(harness, other, PASSWORD)
    assert status == 200, body
    harness.remember(body["access_token"])


def test_per_email_limit_folds_non_ascii_case(harness):
    """The email's bucket is the same whatever the case of its letters,
    beyond ASCII too: Ö and ö are one address."""
    if not re.search(r"(?im)^c\.utf-?8$", subprocess.run(["locale", "-a"], text=True,
                                                          capture_output=True).stdout):
        pytest.skip("no C.UTF-8 locale on this host: the gateway folds ASCII only")
    tag = secrets.token_hex(3)
    lower = f"ö-{tag}@example.com"
    resp = drain(harness, lambda i: lower, LOGIN_EMAIL_BURST, LOGIN_EMAIL_PER_MIN)
    assert_429(resp, limit=LOGIN_EMAIL_BURST)
    more = itertools.count()
    refusal_that_lasts(lambda: login(harness, lower, f"guess-more-{next(more)}"), 3)
    harness.redis_cli("DEL", "rl:ip:127.0.0.1:login")
    assert_429(login(harness, f"Ö-{tag}@EXAMPLE.com", PASSWORD), limit=LOGIN_EMAIL_BURST)


def test_per_address_limit(harness):
    email, _, _ = harness.new_user(password=PASSWORD, tag="addr")
    tag = f"{time.time_ns()}"
    resp = drain(harness, lambda i: f"addr-{i}-{tag}@example.com", LOGIN_ADDR_BURST,
                 LOGIN_ADDR_PER_MIN, own_headers=False)
    assert_429(resp, limit=LOGIN_ADDR_BURST)
    # a known user with the right password is refused too from this address,
    # whatever forwarding headers claim ...
    more = itertools.count()
    refusal_that_lasts(lambda: login(harness, f"addr-more-{next(more)}-{tag}@example.com",
                                     "whatever-password"), 2)
    assert_429(login(harness, email, PASSWORD), limit=LOGIN_ADDR_BURST)
    spoof = {"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7",
             "Forwarded": "for=203.0.113.7"}
    assert_429(login(harness, email, PASSWORD, headers=spoof), limit=LOGIN_ADDR_BURST)
    # ... but not from another client address
    status, _, body = login(harness, email, PASSWORD, source="127.0.0.2")
    assert status == 200, body
    harness.remember(body["access_token"])
