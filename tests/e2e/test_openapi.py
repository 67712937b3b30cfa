"""The API document (docs/openapi.yaml, OpenAPI 3.1) is linted by a real
linter (@redocly/cli from npm, pinned in tests/tools), served by the gateway
at GET /openapi.json exactly as written, names every route of the route
table and every error code of the error table, and real responses of every
route, errors included, validate against it (tests/e2e/contract.py; strict:
an undocumented member fails).

Every response any e2e test receives is also checked against the document
at the end of the session (test_zz_contract.py).

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_openapi.py
"""

from __future__ import annotations

import hashlib
import re
import secrets
import subprocess
from pathlib import Path

import pytest
import yaml

from contract import Contract, ContractError, load_spec
from fakemodel import anthropic_env, answer, module_fake
from harness import wait_until

ROOT = Path(__file__).resolve().parents[2]
REDOCLY = ROOT / "tests" / "tools" / "node_modules" / ".bin" / "redocly"
ANTHROPIC_KEY = "sk-ant-e2e-openapi-" + secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract()


@pytest.fixture(scope="module")
def fake_server(harness, _module_isolation):
    with module_fake(harness, "fake-llm-openapi", [ANTHROPIC_KEY]) as f:
        yield f


@pytest.fixture(scope="module")
def ogw(harness, fake_server):
    return harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                  **anthropic_env(fake_server)}, default=True)


def call(harness, contract: Contract, method: str, path: str, body=None, **kw):
    """One request; the response must keep the contract."""
    status, headers, data = harness.http(method, path, body, **kw)
    contract.check(method, path, status, headers, data)
    return status, headers, data


# --------------------------------------------------------- the document ----

def test_lint_with_redocly():
    assert REDOCLY.exists(), "tests/tools not installed: run `make deps`"
    r = subprocess.run([str(REDOCLY), "lint", "--format=stylish",
                        "--config", str(ROOT / "docs" / "redocly.yaml"),
                        str(ROOT / "docs" / "openapi.yaml")],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "warning" not in out.lower(), out


def test_served_document_is_the_file(harness, ogw, contract):
    status, headers, body = call(harness, contract, "GET", "/openapi.json", auth=None)
    assert status == 200, body
    assert (headers.get("Content-Type") or "").startswith("application/json")
    assert body == yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
    assert body["openapi"].startswith("3.1")


def _route_table() -> set[tuple[str, str]]:
    src = (ROOT / "gateway" / "routes.c").read_text()
    table = src.split("route_table[] = {", 1)[1].split("};", 1)[0]
    routes = re.findall(r'\{\s*"([A-Z]+)",\s*"([^"]+)"', table)
    assert routes, "no routes parsed from gateway/routes.c"
    return {(m, re.sub(r":[a-z_]+", "{}", p)) for m, p in routes}


def test_every_route_is_documented_and_nothing_else(contract):
    documented = {(m, re.sub(r"\{[^}]+\}", "{}", t)) for m, t in contract.operations()}
    routes = _route_table()
    assert routes - documented == set(), "routes missing from docs/openapi.yaml"
    assert documented - routes == set(), "docs/openapi.yaml documents routes that do not exist"


def test_every_error_code_is_documented():
    src = (ROOT / "common" / "err.c").read_text()
    codes = set(re.findall(r'\]\s*=\s*\{"([a-z_]+)",', src)) - {"ok"}
    assert len(codes) > 30
    problem = load_spec()["components"]["schemas"]["Problem"]["properties"]["code"]
    assert set(problem["enum"]) == codes


def test_contract_checker_catches_violations(contract):
    """The checker itself fails on what it must fail on."""
    ok = {"status": "ok"}
    contract.check("GET", "/healthz", 200, {"Content-Type": "application/json"}, ok)
    bad = [
        ("GET", "/healthz", 200, {"Content-Type": "text/plain"}, ok),            # media type
        ("GET", "/healthz", 418, {"Content-Type": "application/json"}, ok),      # status
        ("GET", "/nowhere", 200, {"Content-Type": "application/json"}, ok),      # path
        ("GET", "/whoami", 200, {"Content-Type": "application/json"},
         {"user_id": 5}),                                                         # type
        ("GET", "/healthz", 200, {"Content-Type": "application/json"},
         {"status": "ok", "undocumented": 1}),                                    # strict
    ]
    for args in bad:
        with pytest.raises(ContractError):
            contract.check(*args)


# ------------------------------------------------ real responses, by route ----

def test_contract_probes_and_ops(harness, ogw, contract):
    assert call(harness, contract, "GET", "/healthz", auth=None)[0] == 200
    assert call(harness, contract, "GET", "/readyz", auth=None)[0] == 200
    assert call(harness, contract, "GET", "/metrics", auth=None)[0] == 200
    assert call(harness, contract, "GET", "/queue/info")[0] == 200
    # The figures over every user: the default user is no operator.
    assert call(harness, contract, "GET", "/stats")[0] == 403
    assert call(harness, contract, "GET", "/stats", auth=harness.operator_key())[0] == 200
    assert call(harness, contract, "GET", "/queue/info", auth=None)[0] == 401


def test_contract_identity_routes(harness, ogw, contract):
    email = f"openapi-{secrets.token_hex(4)}@example.com"
    password = "pw-" + secrets.token_urlsafe(12)
    harness.create_user(email, plan="pro", password=password)
    harness.remember(password)

    s, _, tok = call(harness, contract, "POST", "/auth/login",
                     {"email": email, "password": password}, auth=None)
    assert s == 200, tok
    harness.remember(tok["access_token"])
    assert call(harness, contract, "POST", "/auth/login",
                {"email": email, "password": password + "x"}, auth=None)[0] == 401
    assert call(harness, contract, "POST", "/auth/login", {"email": email},
                auth=None)[0] in (400, 422)

    jwt = tok["access_token"]
    assert call(harness, contract, "GET", "/whoami", auth=jwt)[0] == 200
    assert call(harness, contract, "GET", "/whoami", auth=None)[0] == 401
    assert call(harness, contract, "GET", "/whoami", auth="ci_live_" + "x" * 32)[0] == 401
    assert call(harness, contract, "GET", "/usage", auth=jwt)[0] == 200
    assert call(harness, contract, "GET", "/usage?month=2026-11", auth=jwt)[0] == 200
    assert call(harness, contract, "GET", "/usage?month=nov", auth=jwt)[0] == 400

    s, _, created = call(harness, contract, "POST", "/keys", {"name": "contract"}, auth=jwt)
    assert s == 201, created
    harness.remember(created["key"])
    assert call(harness, contract, "POST", "/keys", {"name": 5}, auth=jwt)[0] == 400
    s, _, keys = call(harness, contract, "GET", "/keys", auth=jwt)
    assert s == 200 and any(k["key_id"] == created["key_id"] for k in keys["keys"]), keys
    assert call(harness, contract, "DELETE", f"/keys/{created['key_id']}", auth=jwt)[0] == 204
    assert call(harness, contract, "DELETE", "/keys/0190f0e0-0000-7000-8000-000000000000",
                auth=jwt)[0] == 404
    # Bodies: the wrong media type and one over the limit, on both body routes.
    text = {"Content-Type": "text/plain"}
    big = b'{"name":"' + b"x" * (2 << 20) + b'"}'
    for path, auth in (("/keys", jwt), ("/auth/login", None)):
        assert call(harness, contract, "POST", path, raw=b"{}", headers=text,
                    auth=auth)[0] == 415, path
        assert call(harness, contract, "POST", path, raw=big, auth=auth)[0] == 413, path


FIX = ("--- a/svc/head.go\n+++ b/svc/head.go\n@@ -4,3 +4,6 @@\n func Head(xs []int) int {\n"
       "+\tif len(xs) == 0 {\n+\t\treturn 0\n+\t}\n \treturn xs[0]\n }\n")


def test_contract_review_jobs_exports_events_fixes(harness, ogw, fake_server, clean_state,
                                                   contract):
    fake_server.reset()
    m = "openapi" + secrets.token_hex(6)
    src = f"package svc\n\n// {m}\nfunc Head(xs []int) int {{\n\treturn xs[0]\n}}\n"
    finding = {"line": 5, "severity": "major", "category": "correctness",
               "message": "xs[0] panics on an empty slice.", "confidence": 0.8, "fix": FIX}
    fake_server.script([{"match": m, "text": answer([finding], "One panic.")}])
    body = {"request_type": "review", "file_path": "svc/head.go", "file_content": src}

    s, h, queued = call(harness, contract, "POST", "/review", body)
    assert s == 202, queued
    jid = queued["job_id"]
    assert call(harness, contract, "GET", f"/job/{jid}")[2]["status"] == "queued"
    assert call(harness, contract, "GET", f"/job/{jid}?format=sarif")[0] == 409
    harness.start_worker("fast", {**anthropic_env(fake_server),
                                  "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
                                  "CODEINSIGHT_READ_BLOCK_MS": "200"})
    harness.poll_job(jid, timeout=30)
    s, _, done = call(harness, contract, "GET", f"/job/{jid}")
    assert s == 200 and done["status"] == "done", done
    assert [f.get("fix") for f in done["findings"] if f["source"] == "model"] == [FIX], done
    assert call(harness, contract, "GET", "/jobs")[0] == 200
    assert call(harness, contract, "GET", "/jobs?status=done&limit=5")[0] == 200
    assert call(harness, contract, "GET", "/jobs?limit=0")[0] == 400

    # Exports.
    s, h, sarif = call(harness, contract, "GET", f"/job/{jid}?format=sarif")
    assert s == 200 and sarif["version"] == "2.1.0", sarif
    assert call(harness, contract, "GET", f"/job/{jid}?format=rdjson")[0] == 200
    assert call(harness, contract, "GET", f"/job/{jid}?format=xml")[0] == 400

    # Events of a finished job: its history, the final event, the end.
    s, h, stream = call(harness, contract, "GET", f"/job/{jid}/events")
    assert s == 200 and "event: done" in stream, stream
    last = [line[4:] for line in stream.splitlines() if line.startswith("id: ")][-1]
    assert call(harness, contract, "GET", f"/job/{jid}/events",
                headers={"Last-Event-ID": last})[0] == 204
    assert call(harness, contract, "GET", f"/job/{jid}/events",
                headers={"Last-Event-ID": "yesterday"})[0] == 400
    assert call(harness, contract, "GET",
                "/job/0190f0e0-0000-7000-8000-000000000000/events")[0] == 404

    # Apply the fix, and the refusals.
    fid = next(f["id"] for f in done["findings"] if f["source"] == "model")
    base = hashlib.sha256(src.encode()).hexdigest()
    req = {"job_id": jid, "finding_id": fid, "base_sha256": base, "approve": True}
    s, _, applied = call(harness, contract, "POST", "/apply-fix", req)
    assert s == 200 and "if len(xs) == 0" in applied["content"], applied
    assert call(harness, contract, "POST", "/apply-fix", {**req, "approve": False})[0] == 400
    assert call(harness, contract, "POST", "/apply-fix", {**req, "base_sha256": "0" * 64})[0] == 409
    assert call(harness, contract, "POST", "/apply-fix", {**req, "finding_id": "f99"})[0] == 404
    s, _, audit = call(harness, contract, "GET", "/audit")
    assert s == 200 and audit, audit
    assert call(harness, contract, "GET", "/audit?limit=0")[0] == 400

    # The result cache answers an identical submission inside the POST.
    wait_until(lambda: harness.redis_cli("--scan", "--pattern", "rcache:*"), 10, 0.05,
               desc="an rcache: entry")
    s, h, hit = call(harness, contract, "POST", "/review", body)
    assert s == 200 and h.get("X-Cache") == "hit", hit

    # Diff-aware review: a refused diff.
    assert call(harness, contract, "POST", "/review", {**body, "diff": "not a diff"})[0] == 422

    # Errors of the submission path.
    assert call(harness, contract, "POST", "/review", b"{not json")[0] == 400
    assert call(harness, contract, "POST", "/review", body,
                headers={"Content-Type": "text/plain"})[0] == 415
    assert call(harness, contract, "POST", "/review", {"request_type": "review"})[0] == 400
    assert call(harness, contract, "POST", "/review", body, auth=None)[0] == 401
    assert call(harness, contract, "POST", "/review",
                {"request_type": "stress", "base_url": "http://127.0.0.1:1/",
                 "requests": [{"method": "GET", "path": "/"}], "rate": 1,
                 "duration_s": 1})[0] in (403, 422)
    assert call(harness, contract, "GET", "/job/0190f0e0-0000-7000-8000-000000000000")[0] == 404
    assert call(harness, contract, "GET", "/job/not-a-uuid")[0] == 404

    # Someone else's job looks like no job.
    _, _, other_key = harness.new_user(plan="pro")
    assert call(harness, contract, "GET", f"/job/{jid}", auth=other_key)[0] == 404


def test_contract_rate_limited(harness, ogw, contract):
    """A gateway with the plans' real rates: the 429 keeps the contract."""
    gw = harness.start_gateway()
    _, _, key = harness.new_user(plan="lite")
    got = None
    for _ in range(400):                         # lite's read burst is far below this
        status, headers, data = harness.http("GET", "/whoami", gateway=gw, auth=key)
        contract.check("GET", "/whoami", status, headers, data)
        if status == 429:
            got = (status, headers, data)
            break
    assert got is not None, "no 429 within 400 reads"
    assert got[1].get("Retry-After") is not None
