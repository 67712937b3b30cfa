"""Our own JWTs (docs/admission.md, "Identity"): HS256 with
CODEINSIGHT_JWT_SECRET, iss codeinsight, exp required (at most 1 h after iat),
exp/nbf with 60 s leeway. Tokens are signed here with PyJWT and the session's
secret; every refusal is a 401 with its own code and WWW-Authenticate."""

import hashlib
import hmac
import json
import uuid

import pytest

from tokens import (SigningKey, assert_401, b64url, b64url_json, hmac_token, now, own_claims,
                    own_token, sign_hs256, unsigned_token)


@pytest.fixture(scope="module", autouse=True)
def _gw(gateway):
    return gateway


@pytest.fixture(scope="module")
def user(harness):
    """(email, user_id) of a lite user."""
    email, user_id, _ = harness.new_user(tag="jwt")
    return email, user_id


def whoami(harness, token):
    return harness.http("GET", "/whoami", auth=token)


def test_self_signed_token_accepted(harness, user):
    email, user_id = user
    status, headers, body = whoami(harness, own_token(harness, user_id))
    assert status == 200, body
    assert body["user_id"] == user_id and body["email"] == email
    assert headers.get("RateLimit-Limit") is not None


def test_token_within_leeway_accepted(harness, user):
    t = now()
    tok = own_token(harness, user[1], iat=t - 600, exp=t - 30)      # expired 30 s ago
    assert whoami(harness, tok)[0] == 200
    tok = own_token(harness, user[1], nbf=t + 30)                  # valid in 30 s
    assert whoami(harness, tok)[0] == 200


def test_plan_comes_from_the_database_not_the_token(harness, user):
    status, _, body = whoami(harness, own_token(harness, user[1], plan="business"))
    assert status == 200, body
    assert body["plan"] == "lite"


def test_expired(harness, user):
    t = now()
    assert_401(whoami(harness, own_token(harness, user[1], iat=t - 4000, exp=t - 3600)),
               "token_expired")
    assert_401(whoami(harness, own_token(harness, user[1], iat=t - 700, exp=t - 90)),
               "token_expired")


def test_not_yet_valid(harness, user):
    assert_401(whoami(harness, own_token(harness, user[1], nbf=now() + 3600)),
               "token_not_yet_valid")


def test_wrong_issuer(harness, user):
    assert_401(whoami(harness, own_token(harness, user[1], iss="evil")), "token_wrong_issuer")
    assert_401(whoami(harness, own_token(harness, user[1], iss=None)), "token_wrong_issuer")


def test_alg_none(harness, user):
    tok = unsigned_token(own_claims(user[1]))
    assert_401(whoami(harness, tok), "token_alg_not_allowed")
    tok = unsigned_token(own_claims(user[1]), alg="None")
    assert_401(whoami(harness, tok), "token_alg_not_allowed")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_hmac_algs(harness, user, alg):
    tok = sign_hs256(own_claims(user[1]), harness.jwt_secret, algorithm=alg)
    assert_401(whoami(harness, tok), "token_alg_not_allowed")


def test_public_key_alg_without_jwks(harness, user):
    # The default gateway has no SUPABASE_JWKS_URL: RS256/ES256 are refused.
    for kind in ("rsa", "ec"):
        tok = SigningKey(kind).sign(own_claims(user[1]))
        assert_401(whoami(harness, tok), "token_alg_not_allowed")


def test_wrong_secret(harness, user):
    tok = sign_hs256(own_claims(user[1]), "not-the-secret-" + "x" * 40)
    assert_401(whoami(harness, tok), "invalid_token")


def test_tampered_payload(harness, user):
    _, other_id, _ = harness.new_user(tag="jwt-victim")
    head, _, sig = own_token(harness, user[1]).split(".")
    forged = f"{head}.{b64url_json(own_claims(other_id))}.{sig}"
    harness.remember(forged)
    assert_401(whoami(harness, forged), "invalid_token")


def test_token_too_large(harness, user):
    tok = own_token(harness, user[1], pad="p" * 9000)
    assert len(tok) > 8192
    assert_401(whoami(harness, tok), "token_too_large")


def test_just_under_the_size_limit(harness, user):
    base = len(own_token(harness, user[1], pad=""))
    # each 3 payload bytes are 4 token characters
    pad = (8192 - base) * 3 // 4 - 3
    tok = own_token(harness, user[1], pad="p" * pad)
    assert 8000 < len(tok) <= 8192, len(tok)
    status, _, body = whoami(harness, tok)
    assert status == 200, body


@pytest.mark.parametrize("shape", ["two-segments", "four-segments"])
def test_not_a_jwt(harness, user, shape):
    # "a token that is neither an API key nor a JWT" (three segments)
    head, payload, sig = own_token(harness, user[1]).split(".")
    tok = f"{head}.{payload}" if shape == "two-segments" else f"{head}.{payload}.{sig}.{sig}"
    assert_401(whoami(harness, tok), "malformed_credentials")


@pytest.mark.parametrize("case", [
    "garbage-segments", "header-not-json", "bad-base64", "padding",
])
def test_malformed_jwt(harness, user, case):
    good = own_token(harness, user[1])
    head, payload, sig = good.split(".")
    tok = {
        "garbage-segments": "abc.def.ghi",
        "header-not-json": f"{b64url(b'not json')}.{payload}.{sig}",
        "bad-base64": f"{head}.{payload}!.{sig}",
        "padding": f"{head}.{payload}.{sig}==",
    }[case]
    assert_401(whoami(harness, tok), "invalid_token")


@pytest.mark.parametrize("case,claims", [
    ("no-exp", {"exp": None}),
    ("exp-string", {"exp": "tomorrow"}),
    ("iat-string", {"iat": "now"}),
    ("sub-number", {"sub": 42}),
    ("sub-not-uuid", {"sub": "alice"}),
    ("lifetime-over-1h", {"exp": now() + 7200}),
])
def test_bad_claims(harness, user, case, claims):
    claims = {**own_claims(user[1]), **claims}
    claims = {k: v for k, v in claims.items() if v is not None}
    tok = hmac_token({"alg": "HS256", "typ": "JWT"}, claims, harness.jwt_secret.encode())
    assert_401(whoami(harness, tok), "invalid_token")


def test_unknown_user(harness):
    assert_401(whoami(harness, own_token(harness, str(uuid.uuid4()))), "invalid_token")


def test_duplicate_claims_refused(harness, user):
    # {"sub": <user>, "sub": <other>}: parsers disagree on which one wins.
    _, other_id, _ = harness.new_user(tag="jwt-dup")
    payload = json.dumps(own_claims(user[1]))[:-1] + f', "sub": "{other_id}"}}'
    signing = f"{b64url_json({'alg': 'HS256', 'typ': 'JWT'})}.{b64url(payload.encode())}"
    sig = hmac.new(harness.jwt_secret.encode(), signing.encode(), hashlib.sha256).digest()
    tok = f"{signing}.{b64url(sig)}"
    harness.remember(tok)
    assert_401(whoami(harness, tok), "invalid_token")


def test_login_token_and_self_signed_token_share_the_user_bucket(harness):
    # JWT identities are limited per user id (not per token).
    email, user_id, _ = harness.new_user(tag="jwt-bucket")
    r1 = whoami(harness, own_token(harness, user_id))
    r2 = whoami(harness, own_token(harness, user_id, iat=now() - 1))
    assert r1[0] == r2[0] == 200
    rem1, rem2 = int(r1[1]["RateLimit-Remaining"]), int(r2[1]["RateLimit-Remaining"])
    assert rem2 <= rem1, (rem1, rem2)


def test_problem_never_echoes_the_token(harness, user):
    tok = sign_hs256(own_claims(user[1]), "not-the-secret-" + "y" * 40)
    resp = whoami(harness, tok)
    body = assert_401(resp, "invalid_token")
    text = json.dumps(body) + repr(resp[1])
    for part in tok.split("."):
        assert part not in text
