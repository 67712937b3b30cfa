"""Credentials for the admission tests: JWTs signed here (PyJWT and
cryptography, Debian packages python3-jwt and python3-cryptography), a small
JWKS server on loopback, and assertions on 401 answers.

Everything a test signs is remembered by the session harness, so the final
log scan also looks for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import secrets
import threading
import time
import uuid
from typing import Any, Optional

import jwt  # PyJWT
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import harness as harness_mod
from harness import assert_problem

OWN_ISSUER = "codeinsight"
SUPABASE_ISSUER = "https://e2e-project.supabase.co/auth/v1"
SUPABASE_AUDIENCE = "authenticated"


def _remember(token: str) -> str:
    h = harness_mod._current
    if h is not None:
        h.remember(token)
    return token


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def now() -> int:
    return int(time.time())


# ------------------------------------------------------------- own tokens --

def own_claims(sub: str, **overrides: Any) -> dict:
    """Claims of a valid login token for user `sub` (10 minutes); an
    override whose value is None removes that claim."""
    t = now()
    claims = {"sub": sub, "iss": OWN_ISSUER, "plan": "lite", "iat": t, "exp": t + 600}
    for k, v in overrides.items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    return claims


def sign_hs256(claims: dict, secret: str | bytes, headers: Optional[dict] = None,
               algorithm: str = "HS256") -> str:
    return _remember(jwt.encode(claims, secret, algorithm=algorithm, headers=headers))


def own_token(h: "harness_mod.Harness", sub: str, **overrides: Any) -> str:
    """A token as POST /auth/login would issue it, signed with the session's
    CODEINSIGHT_JWT_SECRET."""
    return sign_hs256(own_claims(sub, **overrides), h.jwt_secret)


def hmac_token(header: dict, claims: dict, key: bytes) -> str:
    """header.payload signed with HMAC-SHA-256 under any key (PyJWT refuses
    PEM-looking HMAC keys, which is exactly what the key-confusion attack
    uses)."""
    signing = f"{b64url_json(header)}.{b64url_json(claims)}"
    mac = hmac.new(key, signing.encode(), hashlib.sha256).digest()
    return _remember(f"{signing}.{b64url(mac)}")


def unsigned_token(claims: dict, alg: str = "none") -> str:
    """An alg "none" token: header.payload. (empty signature)."""
    return f"{b64url_json({'alg': alg, 'typ': 'JWT'})}.{b64url_json(claims)}."


# ------------------------------------------------------ public-key tokens --

class SigningKey:
    """An RSA 2048 (RS256) or EC P-256 (ES256) key pair with a kid."""

    def __init__(self, kind: str, kid: Optional[str] = None):
        self.kind = kind
        self.kid = kid or f"{kind}-{secrets.token_hex(4)}"
        if kind == "rsa":
            self.alg = "RS256"
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif kind == "ec":
            self.alg = "ES256"
            self.private = ec.generate_private_key(ec.SECP256R1())
        else:
            raise ValueError(kind)
        self.public = self.private.public_key()

    def public_pem(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwk(self) -> dict:
        nums = self.public.public_numbers()
        if self.kind == "rsa":
            n = nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")
            e = nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")
            return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                    "n": b64url(n), "e": b64url(e)}
        return {"kty": "EC", "kid": self.kid, "use": "sig", "alg": "ES256", "crv": "P-256",
                "x": b64url(nums.x.to_bytes(32, "big")), "y": b64url(nums.y.to_bytes(32, "big"))}

    def sign(self, claims: dict, kid: Any = "default", alg: Optional[str] = None) -> str:
        """claims signed with this key; kid: "default" (this key's kid), None
        (no kid header) or any other kid to put in the header."""
        headers = {} if kid is None else {"kid": self.kid if kid == "default" else kid}
        return _remember(jwt.encode(claims, self.private, algorithm=alg or self.alg,
                                    headers=headers))


def supabase_claims(sub: Optional[str] = None, email: Optional[str] = None,
                    **overrides: Any) -> dict:
    """Claims of a valid Supabase access token (10 minutes)."""
    t = now()
    sub = sub or str(uuid.uuid4())
    claims = {"sub": sub, "iss": SUPABASE_ISSUER, "aud": SUPABASE_AUDIENCE,
              "email": email or f"sb-{sub[:8]}@example.com", "role": "authenticated",
              "iat": t, "exp": t + 600}
    for k, v in overrides.items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    return claims


class JwksServer:
    """Serves a JWKS document at /jwks.json on 127.0.0.1 (a thread); counts
    and timestamps every GET."""

    def __init__(self, keys: list[SigningKey]):
        self._lock = threading.Lock()
        self._doc = b""
        self.gets: list[float] = []     # time.monotonic() of each GET
        self.set_keys(keys)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                with outer._lock:
                    outer.gets.append(time.monotonic())
                    doc = outer._doc
                if self.path.split("?")[0] != "/jwks.json":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(doc)))
                self.end_headers()
                self.wfile.write(doc)

            def log_message(self, fmt, *args):  # quiet
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/jwks.json"
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def set_keys(self, keys: list[SigningKey]) -> None:
        with self._lock:
            self._doc = json.dumps({"keys": [k.jwk() for k in keys]}).encode()

    def get_count(self) -> int:
        with self._lock:
            return len(self.gets)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


# ------------------------------------------------------------- assertions --

def assert_401(resp: tuple, code: str, token_sent: bool = True) -> dict:
    """A 401 problem with this code and the WWW-Authenticate challenge
    RFC 6750 section 3.1 describes: error="invalid_token" when the request
    presented a bearer token (token_sent) and it was refused; no error
    attribute when it presented none (no Authorization header, another
    scheme, "Bearer" alone, a login's wrong password)."""
    body = assert_problem(resp, 401, code)
    challenge = resp[1].get("WWW-Authenticate")
    assert challenge is not None, f"401 {code} without WWW-Authenticate: {resp[1]!r}"
    if token_sent and code not in ("missing_credentials", "invalid_credentials"):
        assert challenge == 'Bearer realm="codeinsight", error="invalid_token"', challenge
    else:
        assert challenge == 'Bearer realm="codeinsight"', challenge
    return body


def rate_headers(headers: "harness_mod.Headers") -> tuple[int, int, int]:
    """(RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset) as integers;
    fails when one is missing or not a non-negative integer."""
    out = []
    for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
        v = headers.get(name)
        assert v is not None and v.strip().isdigit(), f"{name}: {v!r} in {headers!r}"
        out.append(int(v))
    return out[0], out[1], out[2]


def assert_429(resp: tuple, limit: Optional[int] = None) -> dict:
    """429 rate_limited with Retry-After >= 1 and the RateLimit-* headers."""
    body = assert_problem(resp, 429, "rate_limited")
    retry = resp[1].get("Retry-After")
    assert retry is not None and retry.strip().isdigit() and int(retry) >= 1, \
        f"Retry-After {retry!r}"
    lim, remaining, reset = rate_headers(resp[1])
    if limit is not None:
        assert lim == limit, f"RateLimit-Limit {lim} != {limit}"
    assert remaining == 0, f"RateLimit-Remaining {remaining} on a refusal"
    assert reset >= 1, f"RateLimit-Reset {reset}"
    return body
