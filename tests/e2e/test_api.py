"""Gateway API without workers: health, submission, routing to streams,
job documents of queued jobs, X-Request-Id, 404/405."""

import json
import socket
import uuid

import pytest

from harness import (REQUEST_ID_RE, STREAM_FAST, STREAM_HEAVY, UUID7_RE, assert_job_shape,
                     assert_problem)


def test_healthz(harness, gateway):
    status, headers, body = harness.http("GET", "/healthz")
    assert status == 200
    assert body == {"status": "ok"}
    assert REQUEST_ID_RE.match(headers.get("X-Request-Id") or "")
    assert (headers.get("Content-Type") or "").startswith("application/json")


def test_readyz_all_up(harness, gateway):
    status, headers, body = harness.http("GET", "/readyz")
    assert status == 200, body
    assert body == {"status": "ready", "checks": {"redis": "ok", "postgres": "ok"}}
    assert REQUEST_ID_RE.match(headers.get("X-Request-Id") or "")


@pytest.mark.parametrize("request_type,stream,other", [
    ("review", STREAM_FAST, STREAM_HEAVY),
    ("debug", STREAM_HEAVY, STREAM_FAST),
    ("architecture", STREAM_HEAVY, STREAM_FAST),
])
def test_submit_routes_to_stream(harness, gateway, clean_state, request_type, stream, other):
    extra = {"debug": {"error_log": "NameError: name 'x' is not defined\n"},
             "architecture": {"user_request": "a URL shortener"}}.get(request_type, {})
    status, headers, body = harness.http("POST", "/review", {
        "file_path": "app.py", "file_content": "import os\n", "request_type": request_type,
        **extra})
    assert status == 202, body
    job_id = body["job_id"]
    assert UUID7_RE.match(job_id), job_id
    assert len(job_id) == 36
    assert body["status"] == "queued"
    assert body["poll"] == f"/job/{job_id}"
    assert headers.get("Location") == f"/job/{job_id}"
    assert REQUEST_ID_RE.match(headers.get("X-Request-Id") or "")
    assert harness.redis_int("XLEN", stream) == 1
    assert harness.redis_cli("EXISTS", other) == "0" or harness.redis_int("XLEN", other) == 0
    # the id names the job's entry, its hot copy until a worker takes it
    entry = harness.queued_entry(job_id)
    assert entry is not None and entry["user_id"] == harness.default_user_id, entry
    assert json.loads(entry["meta"])["type"] == request_type, entry
    assert harness.redis_cli("EXISTS", f"job:{job_id}") == "0"


def test_job_ids_are_unique_and_time_ordered(harness, gateway, clean_state):
    ids = [harness.submit() for _ in range(5)]
    assert len(set(ids)) == 5
    # UUIDv7: the first 48 bits are a millisecond timestamp -> non-decreasing
    stamps = [int(i.replace("-", "")[:12], 16) for i in ids]
    assert stamps == sorted(stamps)


def test_queued_job_document(harness, gateway, clean_state):
    job_id = harness.submit(file_path="src/app.py", file_content="import os\n",
                            request_type="review", repo_id="repo-42",
                            headers={"X-Request-Id": "e2e-queued-1"})
    status, job = harness.get_job(job_id)
    assert status == 200, job
    assert_job_shape(job)
    assert job["job_id"] == job_id
    assert job["type"] == "review"
    assert job["status"] == "queued"
    assert job["file_path"] == "src/app.py"
    # Job ids are case-insensitive: the same job, in its canonical form.
    status, upper = harness.get_job(job_id.upper())
    assert status == 200 and upper["job_id"] == job_id, upper
    assert job["repo_id"] == "repo-42"
    assert job["request_id"] == "e2e-queued-1"
    assert job["worker"] is None
    assert job["started_at"] is None and job["finished_at"] is None
    assert job["findings"] == []
    assert job["error"] is None


def test_optional_fields_accepted(harness, gateway, clean_state):
    job_id = harness.submit(file_path="pkg/mod.py", file_content="x = 1\n", request_type="debug",
                            repo_id="r1", language="python",
                            cursor_context={"line": 1, "end_line": 2},
                            diff="--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -0,0 +1 @@\n+x = 1\n",
                            error_log="Traceback (most recent call last):\n  boom\n")
    status, job = harness.get_job(job_id)
    assert status == 200
    assert_job_shape(job)
    assert job["type"] == "debug"
    assert job["language"] == "python"
    assert job["status"] == "queued"


# ---- X-Request-Id ----------------------------------------------------------

@pytest.mark.parametrize("rid", ["e2e-abc.123_X", "a", "Z" * 64])
def test_request_id_echoed(harness, gateway, rid):
    status, headers, _ = harness.http("GET", "/healthz", headers={"X-Request-Id": rid})
    assert status == 200
    assert headers.get("X-Request-Id") == rid


@pytest.mark.parametrize("rid", ["bad id", "x" * 65, "semi;colon", "slash/id", "quote\"d", "é"])
def test_request_id_insane_replaced(harness, gateway, rid):
    status, headers, _ = harness.http("GET", "/healthz",
                                      headers={"X-Request-Id": rid.encode().decode("latin-1")})
    assert status == 200
    got = headers.get("X-Request-Id")
    assert got and got != rid and REQUEST_ID_RE.match(got), got


def test_request_id_generated_unique(harness, gateway):
    ids = {harness.http("GET", "/healthz")[1].get("X-Request-Id") for _ in range(5)}
    assert len(ids) == 5 and all(REQUEST_ID_RE.match(i or "") for i in ids)


def test_request_id_on_submit_and_error(harness, gateway, clean_state):
    status, headers, body = harness.http("POST", "/review", {
        "file_path": "a.py", "file_content": "x = 1\n", "request_type": "review"},
        headers={"X-Request-Id": "e2e-submit-7"})
    assert status == 202, body
    assert headers.get("X-Request-Id") == "e2e-submit-7"
    resp = harness.http("GET", "/no/such/route", headers={"X-Request-Id": "e2e-404-7"})
    body = assert_problem(resp, 404, "not_found")
    assert body["request_id"] == "e2e-404-7"


# ---- 404 / 405 -----------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/"), ("GET", "/nope"), ("POST", "/reviews"), ("GET", "/jobs/extra"),
    ("GET", "/healthz/extra"), ("GET", "/review/extra"),
])
def test_unknown_route(harness, gateway, method, path):
    resp = harness.http(method, path, body={} if method == "POST" else None)
    assert_problem(resp, 404, "not_found")


@pytest.mark.parametrize("job_id", [
    "not-a-uuid",
    "x",
    str(uuid.uuid4()),                             # well-formed but not v7, unknown
    "0190a8d4-5b6c-7def-8123-456789abcdef",        # well-formed v7, unknown
    "0190A8D4-5B6C-7DEF-8123-456789ABCDEF-extra",  # junk
    "%00",
])
def test_unknown_job(harness, gateway, job_id):
    assert_problem(harness.http("GET", f"/job/{job_id}"), 404, "job_not_found")


@pytest.mark.parametrize("method,path,allowed", [
    ("GET", "/review", "POST"),
    ("PUT", "/review", "POST"),
    ("DELETE", "/review", "POST"),
    ("PUT", "/job/x", "DELETE"),
    ("POST", "/job/0190a8d4-5b6c-7def-8123-456789abcdef", "GET"),
    ("POST", "/healthz", "GET"),
    ("DELETE", "/readyz", "GET"),
])
def test_method_not_allowed(harness, gateway, method, path, allowed):
    resp = harness.http(method, path, body={} if method in ("POST", "PUT") else None)
    assert_problem(resp, 405, "method_not_allowed")
    allow = resp[1].get("Allow")
    assert allow, f"405 without Allow header: {resp[1]!r}"
    methods = {m.strip().upper() for m in allow.split(",")}
    assert allowed in methods, allow
    assert method not in methods, allow


def head(harness, gateway, path: str):
    return gateway.raw(f"HEAD {path} HTTP/1.1\r\nHost: x\r\n"
                       f"Authorization: Bearer {harness.default_key}\r\n"
                       "Connection: close\r\n\r\n".encode(), method="HEAD", timeout=10)


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json", "/job/{jid}", "/whoami"])
def test_head_is_get_without_a_body(harness, gateway, path):
    """HEAD answers as GET does (status, content type and length), with no
    body: probes that use `curl -I` work, on every GET route."""
    path = path.format(jid=harness.submit(file_path="head.py"))
    status, headers, body = head(harness, gateway, path)
    get = harness.http("GET", path)
    assert status == get[0] == 200, (status, get)
    for name in ("Content-Type", "Content-Length"):
        assert headers.get(name) == get[1].get(name), (name, headers, get[1])
    assert body in (None, b"", ""), body


def test_head_of_an_event_stream_ends(harness, gateway):
    """A stream has no end to leave out: HEAD gets its headers and the
    connection ends (it does not follow the job)."""
    status, headers, body = head(harness, gateway, f"/job/{harness.submit(file_path='head.py')}/events")
    assert status == 200, status
    assert headers.get("Content-Type", "").startswith("text/event-stream"), headers
    assert body in (None, b"", ""), body


@pytest.mark.parametrize("path,code", [("/job/0190a8d4-5b6c-7def-8123-456789abcdef", 404),
                                       ("/review", 405)])
def test_head_refusals(harness, gateway, path, code):
    status, headers, _ = head(harness, gateway, path)
    assert status == code, status
    assert headers.get("Content-Type", "").startswith("application/problem+json"), headers


def test_method_not_allowed_detail_is_utf8(harness, gateway):
    """A method that is not UTF-8 is not echoed raw into the 405 detail: the
    body stays valid UTF-8 JSON (before, 'G\\xc3(T' was copied byte for byte)."""
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
    try:
        sock.sendall(b"G\xc3\x28T /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        wire = b""
        while chunk := sock.recv(65536):
            wire += chunk
    finally:
        sock.close()
    head, _, raw = wire.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].split(" ")[1] == "405", lines[0]
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    assert headers.get("content-type", "").startswith("application/problem+json"), headers
    text = raw.decode("utf-8")            # raises on invalid UTF-8
    body = json.loads(text)
    assert body["code"] == "method_not_allowed" and body["status"] == 405, body
    assert "/whoami" in body["detail"], body


def test_large_headers_served(harness, gateway, clean_state):
    """Headers of 8 KB (a long token, a long cookie) fit the memory each
    connection has (SERVER_CONNECTION_MEMORY; up to about 14 KB do): a
    submission and a poll still go through."""
    pad = "x" * 8000
    status, _, b = gateway.http("POST", "/review", {"request_type": "review", "file_path": "a.py",
                                                    "file_content": "x = 1\n"},
                                headers={"X-Padding": pad})
    assert status == 202, b
    status, _, job = gateway.http("GET", f"/job/{b['job_id']}", headers={"X-Padding": pad})
    assert status == 200 and job["file_path"] == "a.py", job


def test_oversized_headers_refused(harness, gateway):
    """Headers past the connection's memory are refused with a 4xx, and
    the gateway goes on serving."""
    wire = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"x" * 40000 +
            b"\r\nConnection: close\r\n\r\n")
    try:
        status, _, _ = gateway.raw(wire)
        assert 400 <= status < 500, status
    except (ConnectionError, OSError):
        pass                        # closed without an answer: refused too
    assert gateway.healthy()


def test_gateway_still_healthy(harness, gateway):
    assert gateway.alive()
    assert gateway.healthy()


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "-------", "2026-1x", "20261-1",
                                   "2026-011", "nov", ""])
def test_usage_month_must_be_a_month(harness, gateway, month):
    assert_problem(harness.http("GET", f"/usage?month={month}"), 400, "invalid_field_value")


@pytest.mark.parametrize("month", ["2026-01", "2026-10", "2026-12"])
def test_usage_of_a_month(harness, gateway, month):
    status, _, body = harness.http("GET", f"/usage?month={month}")
    assert status == 200 and body["month"] == month, body
