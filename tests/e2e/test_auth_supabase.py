"""Supabase tokens (docs/admission.md, "Identity"): RS256/ES256 with keys from
SUPABASE_JWKS_URL (served here by a small http.server on 127.0.0.1, keys made
with `cryptography`), HS256 with SUPABASE_JWT_SECRET, iss/aud checks, users
created on first sight (plan lite), unknown kids, key rotation with a refetch
at most once a minute, and the HS256/RSA key-confusion attack.

The rotation gateway is started by the first test and checked again by the
last one: the minute between its JWKS fetches passes while the other tests
run."""

import time
import uuid

import pytest

from harness import UUID_RE, wait_until
from tokens import (SUPABASE_AUDIENCE, SUPABASE_ISSUER, JwksServer, SigningKey, assert_401,
                    hmac_token, now, own_token, sign_hs256, supabase_claims)

REFETCH_MIN_S = 60
SUPABASE_SECRET = "sb-secret-" + uuid.uuid4().hex + uuid.uuid4().hex


def supabase_env(url=None, secret=None):
    env = {"SUPABASE_JWT_ISSUER": SUPABASE_ISSUER, "SUPABASE_JWT_AUDIENCE": SUPABASE_AUDIENCE}
    if url:
        env["SUPABASE_JWKS_URL"] = url
    if secret:
        env["SUPABASE_JWT_SECRET"] = secret
    return env


@pytest.fixture(scope="module")
def rsa_key():
    return SigningKey("rsa", "rsa-1")


@pytest.fixture(scope="module")
def ec_key():
    return SigningKey("ec", "ec-1")


@pytest.fixture(scope="module")
def jwks(rsa_key, ec_key):
    server = JwksServer([rsa_key, ec_key])
    yield server
    server.close()


@pytest.fixture(scope="module")
def sb_gw(harness, jwks):
    """JWKS only: no SUPABASE_JWT_SECRET."""
    gw = harness.start_gateway(supabase_env(url=jwks.url), default=False)
    # the key cache is warmed at start, or filled by the first token
    return gw


@pytest.fixture(scope="module")
def rotation(harness):
    """A gateway of its own and a JWKS server of its own, for rotation."""
    old = SigningKey("rsa", "rot-old")
    server = JwksServer([old])
    gw = harness.start_gateway(supabase_env(url=server.url), default=False)
    state = {"old": old, "new": SigningKey("rsa", "rot-new"), "server": server, "gw": gw}
    yield state
    server.close()


def call(harness, gw, token, path="/whoami"):
    return harness.http("GET", path, auth=token, gateway=gw)


def assert_fetch_spacing(server):
    """The gateway never fetched the JWKS twice within a minute."""
    gets = list(server.gets)
    gaps = [b - a for a, b in zip(gets, gets[1:])]
    assert all(g >= REFETCH_MIN_S - 1 for g in gaps), f"JWKS fetched {len(gets)} times, gaps {gaps}"


# ---- rotation, part 1 (first test of the module) ------------------------------

def test_rotation_gateway_accepts_the_first_key(harness, rotation):
    tok = rotation["old"].sign(supabase_claims())
    status, _, body = call(harness, rotation["gw"], tok)
    assert status == 200, body
    assert rotation["server"].get_count() >= 1


# ---- acceptance -----------------------------------------------------------------

def test_rs256_accepted_and_user_created(harness, sb_gw, rsa_key):
    sub = str(uuid.uuid4())
    email = f"SB-{sub[:8]}@Example.com"
    tok = rsa_key.sign(supabase_claims(sub, email=email))
    status, headers, me = call(harness, sb_gw, tok)
    assert status == 200, me
    assert UUID_RE.match(me["user_id"]), me
    assert me["plan"] == "lite"
    assert me["email"] == email.lower()
    assert headers.get("RateLimit-Limit") is not None
    rows = harness.psql_rows(f"SELECT user_id, plan, email FROM users WHERE external_sub = '{sub}'")
    assert rows == [[me["user_id"], "lite", email.lower()]], rows
    # seen again (a new token, and after the identity cache is gone): same user
    harness.redis_cli("EVAL", "for _, k in ipairs(redis.call('KEYS', 'auth:ext:*')) do "
                      "redis.call('DEL', k) end", "0")
    tok2 = rsa_key.sign(supabase_claims(sub, email=email, iat=now() - 5))
    status, _, again = call(harness, sb_gw, tok2)
    assert status == 200 and again["user_id"] == me["user_id"], again
    assert harness.psql_int(f"SELECT count(*) FROM users WHERE external_sub = '{sub}'") == 1
    # and it can submit and read its own jobs
    job_id = harness.submit(auth=tok, gateway=sb_gw)
    assert harness.get_job(job_id, gateway=sb_gw, auth=tok)[0] == 200


def test_es256_accepted(harness, sb_gw, ec_key):
    sub = str(uuid.uuid4())
    status, _, me = call(harness, sb_gw, ec_key.sign(supabase_claims(sub)))
    assert status == 200, me
    assert me["plan"] == "lite"
    assert harness.psql(f"SELECT user_id FROM users WHERE external_sub = '{sub}'") == me["user_id"]


def test_token_without_email_accepted(harness, sb_gw, rsa_key):
    sub = str(uuid.uuid4())
    status, _, me = call(harness, sb_gw, rsa_key.sign(supabase_claims(sub, email=None)))
    assert status == 200, me
    assert me["plan"] == "lite"


def test_audience_array_accepted(harness, sb_gw, rsa_key):
    tok = rsa_key.sign(supabase_claims(aud=["other", SUPABASE_AUDIENCE]))
    assert call(harness, sb_gw, tok)[0] == 200


def test_own_tokens_still_accepted(harness, sb_gw):
    status, _, me = call(harness, sb_gw, own_token(harness, harness.default_user_id))
    assert status == 200, me
    assert me["user_id"] == harness.default_user_id
    assert call(harness, sb_gw, harness.default_key)[0] == 200


def test_email_of_a_local_account_does_not_grant_it(harness, sb_gw, rsa_key):
    # A Supabase subject whose email is a local user's must not become that user.
    # It is still created on first sight, with a placeholder address.
    tok = rsa_key.sign(supabase_claims(email=harness.default_email))
    status, _, body = call(harness, sb_gw, tok)
    assert status == 200, body
    assert body["user_id"] != harness.default_user_id, body
    assert body["email"] != harness.default_email and body["email"].endswith("@external.invalid")
    assert body["plan"] == "lite"


# ---- refusals ---------------------------------------------------------------------

def test_wrong_audience(harness, sb_gw, rsa_key):
    assert_401(call(harness, sb_gw, rsa_key.sign(supabase_claims(aud="other"))),
               "token_wrong_audience")
    assert_401(call(harness, sb_gw, rsa_key.sign(supabase_claims(aud=["a", "b"]))),
               "token_wrong_audience")
    assert_401(call(harness, sb_gw, rsa_key.sign(supabase_claims(aud=None))),
               "token_wrong_audience")


def test_wrong_issuer(harness, sb_gw, rsa_key, ec_key):
    bad = "https://evil.supabase.co/auth/v1"
    assert_401(call(harness, sb_gw, rsa_key.sign(supabase_claims(iss=bad))), "token_wrong_issuer")
    assert_401(call(harness, sb_gw, ec_key.sign(supabase_claims(iss=bad))), "token_wrong_issuer")


def test_expired_and_not_yet_valid(harness, sb_gw, rsa_key):
    t = now()
    assert_401(call(harness, sb_gw, rsa_key.sign(supabase_claims(iat=t - 7200, exp=t - 3600))),
               "token_expired")
    assert_401(call(harness, sb_gw, rsa_key.sign(supabase_claims(nbf=t + 3600))),
               "token_not_yet_valid")
    assert_401(call(harness, sb_gw, rsa_key.sign(supabase_claims(exp=None))), "invalid_token")


def test_unknown_kid_without_refetch_storm(harness, sb_gw, jwks, rsa_key):
    before = jwks.get_count()
    for i in range(5):
        tok = rsa_key.sign(supabase_claims(), kid=f"unknown-{i}")
        assert_401(call(harness, sb_gw, tok), "token_unknown_kid")
    # at most one refetch for all of them (none when the last fetch is recent)
    assert jwks.get_count() - before <= 1, jwks.gets
    assert_fetch_spacing(jwks)


def test_signed_by_another_key_under_a_known_kid(harness, sb_gw):
    impostor = SigningKey("rsa", "rsa-1")
    assert_401(call(harness, sb_gw, impostor.sign(supabase_claims())), "invalid_token")
    impostor_ec = SigningKey("ec", "ec-1")
    assert_401(call(harness, sb_gw, impostor_ec.sign(supabase_claims())), "invalid_token")


def test_alg_must_match_the_key(harness, sb_gw, rsa_key, ec_key):
    # an ES256 token naming the RSA key's kid, and the reverse
    assert_401(call(harness, sb_gw, ec_key.sign(supabase_claims(), kid="rsa-1")),
               "token_alg_not_allowed")
    assert_401(call(harness, sb_gw, rsa_key.sign(supabase_claims(), kid="ec-1")),
               "token_alg_not_allowed")


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256"])
def test_other_public_key_algs(harness, sb_gw, rsa_key, alg):
    tok = rsa_key.sign(supabase_claims(), alg=alg)
    assert_401(call(harness, sb_gw, tok), "token_alg_not_allowed")


@pytest.mark.parametrize("variant", ["pem", "pem-stripped", "jwks-only-secretless"])
def test_key_confusion_attack(harness, sb_gw, rsa_key, variant):
    # HS256 "signed" with the RSA public key as the HMAC secret: a verifier
    # that takes the key for the token's alg would accept it.
    pem = rsa_key.public_pem()
    key = pem.strip() if variant == "pem-stripped" else pem
    header = {"alg": "HS256", "typ": "JWT"}
    if variant != "jwks-only-secretless":
        header["kid"] = rsa_key.kid
    tok = hmac_token(header, supabase_claims(), key)
    assert_401(call(harness, sb_gw, tok), "token_alg_not_allowed")


def test_supabase_hs256_secret(harness):
    gw = harness.start_gateway(supabase_env(secret=SUPABASE_SECRET), default=False)
    sub = str(uuid.uuid4())
    tok = sign_hs256(supabase_claims(sub), SUPABASE_SECRET)
    status, _, me = call(harness, gw, tok)
    assert status == 200, me
    assert me["plan"] == "lite"
    assert harness.psql(f"SELECT user_id FROM users WHERE external_sub = '{sub}'") == me["user_id"]
    assert_401(call(harness, gw, sign_hs256(supabase_claims(), "wrong-" + SUPABASE_SECRET)),
               "invalid_token")
    assert_401(call(harness, gw, sign_hs256(supabase_claims(aud="x"), SUPABASE_SECRET)),
               "token_wrong_audience")
    assert_401(call(harness, gw, sign_hs256(supabase_claims(iss="https://x/"), SUPABASE_SECRET)),
               "token_wrong_issuer")
    # no JWKS configured: public-key tokens are refused
    assert_401(call(harness, gw, SigningKey("rsa").sign(supabase_claims())),
               "token_alg_not_allowed")
    # our own tokens still work next to Supabase's
    assert call(harness, gw, own_token(harness, harness.default_user_id))[0] == 200
    gw.stop()


# ---- rotation, part 2 (last test of the module) ----------------------------------

def test_rotation_new_kid_after_a_minute(harness, rotation):
    server, gw, old, new = rotation["server"], rotation["gw"], rotation["old"], rotation["new"]
    server.set_keys([new])                 # the IdP rotated its key
    assert server.gets, "the JWKS was never fetched"
    last = server.gets[-1]
    count = server.get_count()
    # Within a minute of the last fetch: no refetch, whatever the traffic.
    assert time.monotonic() - last < REFETCH_MIN_S - 5, \
        "the module took too long: the rotation gateway's minute is already over"
    for _ in range(4):
        assert_401(call(harness, gw, new.sign(supabase_claims())), "token_unknown_kid")
    assert server.get_count() == count, server.gets
    # After the minute, an unknown kid triggers one refetch and is accepted.
    time.sleep(max(0.0, last + REFETCH_MIN_S + 0.5 - time.monotonic()))

    def accepted():
        resp = call(harness, gw, new.sign(supabase_claims()))
        return resp if resp[0] == 200 else None
    resp = wait_until(accepted, timeout=10, interval=0.5, desc="token with the new kid accepted")
    assert resp[2]["plan"] == "lite"
    assert server.get_count() == count + 1, server.gets
    # The old key is gone from the new set; unknown kids do not refetch again.
    refetched = server.get_count()
    assert_401(call(harness, gw, old.sign(supabase_claims())), "token_unknown_kid")
    for i in range(4):
        assert_401(call(harness, gw, new.sign(supabase_claims(), kid=f"rot-x{i}")),
                   "token_unknown_kid")
    assert server.get_count() == refetched, server.gets
    assert_fetch_spacing(server)
