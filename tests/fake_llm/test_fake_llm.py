"""Tests for tests/fake_llm/fake_llm.py (standard library + pytest only).

Run from the repo root:  /usr/bin/python3 -m pytest -q tests/fake_llm

Every server is a subprocess on a free port (--port 0) that gets
PR_SET_PDEATHSIG and is killed at teardown; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import ctypes
import http.client
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

HERE = Path(__file__).resolve().parent
SERVER = HERE / "fake_llm.py"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
READY_TIMEOUT = 10
HTTP_TIMEOUT = 10

ANT_HEADERS = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01",
               "content-type": "application/json"}
OAI_HEADERS = {"Authorization": "Bearer sk-test", "content-type": "application/json"}
DEFAULT_TEXT = '{"findings":[],"summary":"No issues found."}'

try:
    _LIBC: Optional[ctypes.CDLL] = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover
    _LIBC = None


def _preexec(nofile_soft: Optional[int] = None):
    parent = os.getpid()

    def fn() -> None:
        if _LIBC is not None:
            _LIBC.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        if nofile_soft is not None:
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile_soft, hard))
    return fn


class Server:
    def __init__(self, *extra: str, nofile_soft: Optional[int] = None):
        self.proc = subprocess.Popen(
            [PYTHON, str(SERVER), "--port", "0", "--host", "127.0.0.1", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=_preexec(nofile_soft))
        self.ready_line = self._read_line(READY_TIMEOUT)
        self.port = json.loads(self.ready_line)["port"]

    def _read_line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        deadline = time.monotonic() + timeout
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    self.stop()
                    raise AssertionError(f"fake_llm not ready in {timeout}s: {buf!r}")
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    err = self.proc.stderr.read() if self.proc.stderr else b""
                    raise AssertionError(f"fake_llm exited: {buf!r} {err!r}")
                buf += chunk
        finally:
            sel.close()
        line, _, rest = buf.partition(b"\n")
        self.extra_stdout = rest
        return line.decode()

    def stop(self) -> Optional[int]:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()
        return self.proc.returncode

    # ---------------------------------------------------------------- HTTP
    def call(self, method: str, path: str, body: Any = None,
             headers: Optional[dict[str, str]] = None, timeout: float = HTTP_TIMEOUT,
             conn: Optional[http.client.HTTPConnection] = None
             ) -> tuple[int, dict[str, str], bytes]:
        own = conn is None
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
            c.request(method, path, body=data, headers=headers or {})
            r = c.getresponse()
            payload = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, payload
        finally:
            if own:
                c.close()

    def ctl(self, method: str, path: str, body: Any = None) -> Any:
        status, _, payload = self.call(method, "/_control/" + path, body)
        assert status == 200, (status, payload)
        return json.loads(payload)

    def ant(self, body: Any = None, headers: Optional[dict[str, str]] = None, **kw: Any):
        body = body if body is not None else ant_body()
        return self.call("POST", "/v1/messages", body,
                         ANT_HEADERS if headers is None else headers, **kw)

    def oai(self, body: Any = None, path: str = "/v1/chat/completions",
            headers: Optional[dict[str, str]] = None, **kw: Any):
        body = body if body is not None else oai_body()
        return self.call("POST", path, body, OAI_HEADERS if headers is None else headers, **kw)


def ant_body(user: str = "Review this C file: int main(void){return 0;}",
             system: Any = "You are a C code reviewer.") -> dict:
    return {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": system,
            "messages": [{"role": "user", "content": user}]}


def oai_body(user: str = "Review this C file: int main(void){return 0;}") -> dict:
    return {"model": "gpt-4o-mini", "max_tokens": 1024,
            "messages": [{"role": "system", "content": "You are a C code reviewer."},
                         {"role": "user", "content": user}]}


def wait_for(pred, timeout: float = 5.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(step)
    return last


@pytest.fixture(scope="module")
def srv() -> Iterator[Server]:
    s = Server()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(autouse=True)
def _reset(request):
    if "srv" in request.fixturenames:
        request.getfixturevalue("srv").ctl("POST", "reset")
    yield


# ====================================================================== startup
def test_ready_line_is_exact(srv: Server):
    assert json.loads(srv.ready_line) == {"event": "fake_llm_ready", "port": srv.port}
    assert srv.port > 0
    assert srv.ctl("GET", "health")["ok"] is True


def test_limits_raised_at_start():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    s = Server(nofile_soft=min(256, hard))
    try:
        lim = s.ctl("GET", "stats")["limits"]
        assert lim["backlog"] >= 1024
        assert lim["nofile_soft"] == lim["nofile_hard"] == hard
        if shutil.which("ss"):
            out = subprocess.run(["ss", "-Hltn", f"sport = :{s.port}"], capture_output=True,
                                 text=True, timeout=10).stdout.split()
            # LISTEN Recv-Q Send-Q(=effective backlog) ...
            if len(out) >= 3 and out[0] == "LISTEN":
                somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
                assert int(out[2]) >= min(1024, somaxconn)
    finally:
        s.stop()


def test_sigterm_exits_promptly():
    s = Server()
    c = socket.create_connection(("127.0.0.1", s.port), timeout=5)  # an idle keep-alive conn
    try:
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        s.proc.wait(5)
        assert time.monotonic() - t0 < 5
        assert s.proc.returncode == 0
    finally:
        c.close()
        s.stop()


# ====================================================================== Anthropic
def test_anthropic_success_shape(srv: Server):
    system = [{"type": "text", "text": "You are a C reviewer.",
               "cache_control": {"type": "ephemeral"}}]
    body = ant_body(user="x" * 400, system=system)
    status, h, payload = srv.ant(body)
    assert status == 200
    assert h["content-type"] == "application/json"
    assert h["request-id"].startswith("req_")
    for k in ("anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining",
              "anthropic-ratelimit-requests-reset", "anthropic-ratelimit-tokens-remaining"):
        assert k in h
    obj = json.loads(payload)
    assert set(obj) == {"id", "type", "role", "model", "content", "stop_reason",
                        "stop_sequence", "usage"}
    assert obj["id"].startswith("msg_")
    assert obj["type"] == "message" and obj["role"] == "assistant"
    assert obj["model"] == "claude-sonnet-4-5"
    assert obj["content"] == [{"type": "text", "text": DEFAULT_TEXT}]
    assert obj["stop_reason"] == "end_turn" and obj["stop_sequence"] is None
    text = "You are a C reviewer.\n" + "x" * 400
    assert obj["usage"] == {"input_tokens": len(text) // 4,
                            "output_tokens": len(DEFAULT_TEXT) // 4,
                            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    json.loads(obj["content"][0]["text"])  # the default answer is a valid review


def test_anthropic_scripted_text_and_usage(srv: Server):
    answer = {"findings": [{"line": 3, "severity": "major", "message": "leak"}],
              "summary": "One leak."}
    srv.ctl("POST", "script", [{"text": answer,
                                "usage": {"cache_read_input_tokens": 1200, "input_tokens": 7}}])
    status, _, payload = srv.ant()
    obj = json.loads(payload)
    assert status == 200
    assert json.loads(obj["content"][0]["text"]) == answer
    assert obj["usage"]["cache_read_input_tokens"] == 1200
    assert obj["usage"]["input_tokens"] == 7
    assert obj["usage"]["cache_creation_input_tokens"] == 0


def test_anthropic_validation(srv: Server):
    st, _, p = srv.ant(headers={"anthropic-version": "2023-06-01"})
    assert st == 401
    assert json.loads(p) == {"type": "error", "error": {
        "type": "authentication_error", "message": "x-api-key header is required"}}
    st, _, p = srv.ant(headers={"x-api-key": "k"})
    assert st == 400 and json.loads(p)["error"]["type"] == "invalid_request_error"
    st, _, p = srv.call("POST", "/v1/messages", b"{not json", ANT_HEADERS)
    assert st == 400 and json.loads(p)["type"] == "error"
    body = ant_body()
    del body["max_tokens"]
    st, _, p = srv.ant(body)
    assert st == 400 and "max_tokens" in json.loads(p)["error"]["message"]
    # validation failures do not consume scripted steps
    srv.ctl("POST", "script", [{"text": "kept"}])
    srv.ant(headers={})
    st, _, p = srv.ant()
    assert json.loads(p)["content"][0]["text"] == "kept"


# ====================================================================== OpenAI / OpenRouter
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api/v1/chat/completions"])
def test_openai_success_shape(srv: Server, path: str):
    status, h, payload = srv.oai(path=path)
    assert status == 200
    assert h["content-type"] == "application/json" and h["x-request-id"]
    obj = json.loads(payload)
    assert set(obj) == {"id", "object", "created", "model", "choices", "usage"}
    assert obj["object"] == "chat.completion" and obj["model"] == "gpt-4o-mini"
    assert obj["choices"] == [{"index": 0, "message": {"role": "assistant",
                                                       "content": DEFAULT_TEXT},
                               "finish_reason": "stop"}]
    text = "You are a C code reviewer.\nReview this C file: int main(void){return 0;}"
    pt, ct = len(text) // 4, len(DEFAULT_TEXT) // 4
    assert obj["usage"] == {"prompt_tokens": pt, "completion_tokens": ct,
                            "total_tokens": pt + ct, "prompt_tokens_details": {"cached_tokens": 0}}


def test_openrouter_cost_only_when_scripted(srv: Server):
    srv.ctl("POST", "script", [{"cost": 0.00123, "times": 2}])
    _, _, p = srv.oai(path="/api/v1/chat/completions")
    assert json.loads(p)["usage"]["cost"] == 0.00123
    _, _, p = srv.oai(path="/v1/chat/completions")  # plain OpenAI never has cost
    assert "cost" not in json.loads(p)["usage"]
    _, _, p = srv.oai(path="/api/v1/chat/completions")  # default: no cost
    assert "cost" not in json.loads(p)["usage"]


def test_openai_usage_override_and_finish(srv: Server):
    srv.ctl("POST", "script", [{"text": "abc", "stop_reason": "max_tokens",
                                "usage": {"prompt_tokens": 100, "completion_tokens": 5,
                                          "prompt_tokens_details": {"cached_tokens": 80}}}])
    _, _, p = srv.oai()
    obj = json.loads(p)
    assert obj["choices"][0]["finish_reason"] == "length"
    assert obj["usage"] == {"prompt_tokens": 100, "completion_tokens": 5, "total_tokens": 105,
                            "prompt_tokens_details": {"cached_tokens": 80}}


def test_refusal_fault(srv: Server):
    """A complete 200 reply without text, as a model that refuses sends it."""
    srv.ctl("POST", "script", [{"fault": "refusal", "times": 2}])
    st, _, p = srv.ant()
    obj = json.loads(p)
    assert st == 200 and obj["content"] == [] and obj["stop_reason"] == "refusal", obj
    assert obj["usage"]["input_tokens"] > 0
    st, _, p = srv.oai()
    choice = json.loads(p)["choices"][0]
    assert st == 200 and choice["message"]["content"] is None, choice
    assert choice["message"]["refusal"] and choice["finish_reason"] == "stop", choice


def test_openai_validation(srv: Server):
    st, _, p = srv.oai(headers={"content-type": "application/json"})
    err = json.loads(p)["error"]
    assert st == 401 and err["code"] == "invalid_api_key" and "API key" in err["message"]
    st, _, p = srv.oai(headers={"Authorization": "Basic abc"})
    assert st == 401
    st, _, p = srv.oai(body={"model": "m"})
    assert st == 400 and set(json.loads(p)["error"]) == {"message", "type", "param", "code"}


# ====================================================================== faults
ERR_CASES = [
    ("429", 429, "rate_limit_error", "requests"),
    ("529", 529, "overloaded_error", "server_error"),
    ("500", 500, "api_error", "server_error"),
    ("400", 400, "invalid_request_error", "invalid_request_error"),
    ("401", 401, "authentication_error", "invalid_request_error"),
    ("spend_limit", 429, "rate_limit_error", "insufficient_quota"),
]


@pytest.mark.parametrize("fault,status,ant_type,oai_type", ERR_CASES)
def test_error_faults_anthropic(srv: Server, fault, status, ant_type, oai_type):
    srv.ctl("POST", "script", [{"fault": fault}])
    st, h, p = srv.ant()
    assert st == status
    obj = json.loads(p)
    assert set(obj) == {"type", "error"} and obj["type"] == "error"
    assert set(obj["error"]) == {"type", "message"}
    assert obj["error"]["type"] == ant_type
    if fault == "429":
        assert h["retry-after"] == "1"
        assert h["anthropic-ratelimit-requests-reset"].endswith("Z")
        assert h["anthropic-ratelimit-requests-remaining"] == "0"
    if fault == "spend_limit":
        assert "You have reached your specified API usage limits" in obj["error"]["message"]
        assert "retry-after" not in h
    if fault == "529":
        assert h.get("x-should-retry") == "true"
    # the step was consumed: the next call gets the default answer
    assert srv.ant()[0] == 200


@pytest.mark.parametrize("fault,status,ant_type,oai_type", ERR_CASES)
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api/v1/chat/completions"])
def test_error_faults_openai(srv: Server, fault, status, ant_type, oai_type, path):
    srv.ctl("POST", "script", [{"fault": fault}])
    st, h, p = srv.oai(path=path)
    assert st == status
    obj = json.loads(p)
    assert set(obj) == {"error"}
    assert {"message", "type", "code"} <= set(obj["error"])
    assert obj["error"]["type"] == oai_type
    if fault == "429":
        assert h["retry-after"] == "1"
        assert h["x-ratelimit-remaining-requests"] == "0"
    if fault == "spend_limit":
        assert "retry-after" not in h
        assert "You have reached your specified API usage limits" in obj["error"]["message"]
    assert srv.oai(path=path)[0] == 200


def test_retry_after_and_status_override(srv: Server):
    srv.ctl("POST", "script", [{"fault": "429", "retry_after": 7},
                               {"fault": "spend_limit", "status": 402, "api": "openrouter"},
                               {"status": 503}])
    st, h, _ = srv.ant()
    assert st == 429 and h["retry-after"] == "7"
    reset = time.mktime(time.strptime(h["anthropic-ratelimit-requests-reset"],
                                      "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert 4 <= reset - time.time() <= 10
    st, _, p = srv.oai(path="/api/v1/chat/completions")
    assert st == 402 and json.loads(p)["error"]["code"] == 402
    st, _, p = srv.ant()
    assert st == 503 and json.loads(p)["type"] == "error"


def test_fault_non_json(srv: Server):
    srv.ctl("POST", "script", [{"fault": "non_json", "times": 2}])
    for call in (srv.ant, srv.oai):
        st, h, p = call()
        assert st == 200 and h["content-type"].startswith("text/html")
        assert p.lstrip().startswith(b"<")
        with pytest.raises(ValueError):
            json.loads(p)


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_fault_truncated(srv: Server, api: str):
    srv.ctl("POST", "script", [{"fault": "truncated"}])
    path, hdrs, body = (("/v1/messages", ANT_HEADERS, ant_body()) if api == "anthropic"
                        else ("/v1/chat/completions", OAI_HEADERS, oai_body()))
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=HTTP_TIMEOUT)
    try:
        c.request("POST", path, body=json.dumps(body).encode(), headers=hdrs)
        r = c.getresponse()
        assert r.status == 200
        length = int(r.getheader("content-length"))
        with pytest.raises(http.client.IncompleteRead) as ei:
            r.read()
        assert 0 < len(ei.value.partial) < length
    finally:
        c.close()
    assert srv.ant()[0] == 200


def test_fault_timeout_holds_until_client_gives_up(srv: Server):
    srv.ctl("POST", "script", [{"fault": "timeout"}])
    t0 = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        srv.ant(timeout=1.0)
    assert time.monotonic() - t0 >= 0.9
    st = wait_for(lambda: (lambda s: s if s["client_gave_up"] == 1 else None)(
        srv.ctl("GET", "stats")), timeout=5)
    assert st and st["client_gave_up"] == 1 and st["in_flight"] == 0
    assert st["by_fault"] == {"timeout": 1}
    assert srv.ant()[0] == 200


def test_latency(srv: Server):
    srv.ctl("POST", "script", [{"latency_ms": 400}])
    t0 = time.monotonic()
    assert srv.ant()[0] == 200
    assert time.monotonic() - t0 >= 0.39
    t0 = time.monotonic()
    assert srv.ant()[0] == 200
    assert time.monotonic() - t0 < 0.39


# ====================================================================== scripts
def test_script_match_order_and_consumption(srv: Server):
    srv.ctl("POST", "script", [{"match": "BETA", "text": "b"},
                               {"match": "ALPHA", "text": "a1"},
                               {"match": "ALPHA", "text": "a2"},
                               {"text": "any"}])
    text = lambda p: json.loads(p)["content"][0]["text"]  # noqa: E731
    assert text(srv.ant(ant_body(user="ALPHA here"))[2]) == "a1"
    assert text(srv.ant(ant_body(user="ALPHA again"))[2]) == "a2"
    assert text(srv.ant(ant_body(user="ALPHA third"))[2]) == "any"   # unmatched step
    assert text(srv.ant(ant_body(user="ALPHA fourth"))[2]) == DEFAULT_TEXT
    assert text(srv.ant(ant_body(user="the BETA one"))[2]) == "b"
    assert text(srv.ant(ant_body(user="the BETA one"))[2]) == DEFAULT_TEXT
    assert srv.ctl("GET", "stats")["script_remaining"] == 0


def test_script_match_decoded_text_and_api_filter(srv: Server):
    srv.ctl("POST", "script", [{"match": "naïve", "api": "openai", "text": "oai"},
                               {"match": "naïve", "text": "ant"}])
    # json.dumps escapes non-ASCII (\u00ef); match also looks at the decoded text
    st, _, p = srv.ant(ant_body(user="a naïve strcpy"))
    assert json.loads(p)["content"][0]["text"] == "ant"
    st, _, p = srv.oai(oai_body(user="a naïve strcpy"))
    assert json.loads(p)["choices"][0]["message"]["content"] == "oai"


def test_script_times_append_and_replace(srv: Server):
    assert srv.ctl("POST", "script", [{"text": "x", "times": 3}])["queued"] == 3
    assert srv.ctl("POST", "script", {"steps": [{"text": "y"}]})["queued"] == 4
    assert srv.ctl("POST", "script", {"steps": [{"text": "z", "times": 2}],
                                      "replace": True})["queued"] == 2
    texts = [json.loads(srv.ant()[2])["content"][0]["text"] for _ in range(3)]
    assert texts == ["z", "z", DEFAULT_TEXT]


def test_default_step_and_reset(srv: Server):
    r = srv.ctl("POST", "default", {"fault": "500"})
    assert r["default"]["fault"] == "500"
    assert srv.ant()[0] == 500 and srv.oai()[0] == 500
    srv.ctl("POST", "script", [{"text": "scripted"}])
    assert srv.ant()[0] == 200          # script wins over the default
    assert srv.ant()[0] == 500
    srv.ctl("POST", "default", {"text": "d2", "latency_ms": 0})
    assert json.loads(srv.ant()[2])["content"][0]["text"] == "d2"
    srv.ctl("POST", "reset")            # back to the built-in default
    assert json.loads(srv.ant()[2])["content"][0]["text"] == DEFAULT_TEXT


def test_control_rejects_bad_steps(srv: Server):
    for bad in ([{"fault": "418"}], [{"latncy_ms": 5}], [{"times": 0}], [1], {"nope": 1},
                [{"status": 99}], [{"api": "gemini"}], [{"latency_ms": -1}]):
        st, _, p = srv.call("POST", "/_control/script", bad)
        assert st == 400, bad
        assert "error" in json.loads(p)
    st, _, _ = srv.call("POST", "/_control/script", b"not json")
    assert st == 400
    assert srv.ctl("GET", "stats")["script_remaining"] == 0
    assert srv.call("GET", "/_control/nothing")[0] == 404
    assert srv.call("GET", "/_control/reset")[0] == 405


# ====================================================================== control: log & stats
def test_requests_log(srv: Server):
    srv.ctl("POST", "script", [{"fault": "529"}])
    t0 = time.time()
    srv.ant(ant_body(user="first"))
    srv.oai(oai_body(user="second"), path="/api/v1/chat/completions")
    srv.call("POST", "/v1/messages", b"{broken", ANT_HEADERS)
    log = srv.ctl("GET", "requests")
    assert log["count"] == 3
    reqs = log["requests"]
    assert [r["seq"] for r in reqs] == [1, 2, 3]
    assert [r["path"] for r in reqs] == ["/v1/messages", "/api/v1/chat/completions",
                                         "/v1/messages"]
    assert [r["api"] for r in reqs] == ["anthropic", "openrouter", "anthropic"]
    assert all(r["method"] == "POST" for r in reqs)
    assert reqs[0]["headers"]["x-api-key"] == "sk-ant-test"
    assert reqs[0]["headers"]["anthropic-version"] == "2023-06-01"
    assert reqs[1]["headers"]["authorization"] == "Bearer sk-test"
    assert reqs[0]["body"]["messages"][0]["content"] == "first"
    assert reqs[1]["body"]["messages"][1]["content"] == "second"
    assert reqs[2]["body"] is None and reqs[2]["body_text"] == "{broken"
    assert [r["status"] for r in reqs] == [529, 200, 400]
    assert reqs[0]["fault"] == "529"
    times = [r["arrived_at"] for r in reqs]
    assert times == sorted(times) and t0 - 1 <= times[0] <= time.time()
    assert [r["seq"] for r in srv.ctl("GET", "requests?since=2")["requests"]] == [3]
    # control traffic and unknown routes are not API requests
    assert srv.call("POST", "/v2/unknown", b"{}")[0] == 404
    assert srv.ctl("GET", "requests")["count"] == 3


def test_stats(srv: Server):
    srv.ctl("POST", "script", [{"fault": "429"}, {"fault": "429"}, {"fault": "500"}])
    for _ in range(3):
        srv.ant()
    srv.oai()
    srv.oai(path="/api/v1/chat/completions")
    st = srv.ctl("GET", "stats")
    assert st["requests_total"] == 5
    assert st["by_api"] == {"anthropic": 3, "openai": 1, "openrouter": 1}
    assert st["by_status"] == {"429": 2, "500": 1, "200": 2}
    assert st["by_fault"] == {"429": 2, "500": 1}
    assert st["scripted"] == 3 and st["defaulted"] == 2
    assert st["in_flight"] == 0 and st["max_in_flight"] >= 1
    srv.ctl("POST", "reset")
    st = srv.ctl("GET", "stats")
    assert st["requests_total"] == 0 and st["by_status"] == {} and st["max_in_flight"] == 0
    assert srv.ctl("GET", "requests") == {"requests": [], "count": 0}


# ====================================================================== HTTP/1.1 details
def test_keep_alive_reuses_one_connection(srv: Server):
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=HTTP_TIMEOUT)
    try:
        for i in range(5):
            st, h, _ = srv.call("POST", "/v1/messages", json.dumps(ant_body(f"n{i}")).encode(),
                                ANT_HEADERS, conn=c)
            assert st == 200 and h["connection"] == "keep-alive"
        # faults that answer keep the connection usable too
        srv.ctl("POST", "script", [{"fault": "429"}])
        st, _, _ = srv.call("POST", "/v1/messages", json.dumps(ant_body()).encode(),
                            ANT_HEADERS, conn=c)
        assert st == 429
        st, _, _ = srv.call("POST", "/v1/messages", json.dumps(ant_body()).encode(),
                            ANT_HEADERS, conn=c)
        assert st == 200
    finally:
        c.close()
    # 1 test connection + one short-lived connection per ctl/stats call
    assert srv.ctl("GET", "stats")["connections_total"] == 3


def test_chunked_request_body(srv: Server):
    data = json.dumps(ant_body(user="CHUNKED body")).encode()
    parts = [data[i:i + 7] for i in range(0, len(data), 7)]
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=HTTP_TIMEOUT)
    try:
        c.request("POST", "/v1/messages", body=iter(parts), headers=ANT_HEADERS,
                  encode_chunked=True)
        r = c.getresponse()
        assert r.status == 200
        json.loads(r.read())
    finally:
        c.close()
    req = srv.ctl("GET", "requests")["requests"][0]
    assert req["headers"]["transfer-encoding"] == "chunked"
    assert req["body"]["messages"][0]["content"] == "CHUNKED body"


def _raw(srv: Server, data: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out


def test_expect_100_continue(srv: Server):
    body = json.dumps(ant_body()).encode()
    head = (b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
            b"anthropic-version: 2023-06-01\r\nExpect: 100-continue\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(head)
        first = s.recv(100)
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(body)
        s.shutdown(socket.SHUT_WR)
        out = first
        for _ in range(1000):
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    assert b"HTTP/1.1 200 OK\r\n" in out


def test_pipelined_and_http10(srv: Server):
    body = json.dumps(ant_body()).encode()
    one = (b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
           b"anthropic-version: 2023-06-01\r\nContent-Length: " + str(len(body)).encode() +
           b"\r\n\r\n" + body)
    last = one.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n")
    out = _raw(srv, one + one + last)
    assert out.count(b"HTTP/1.1 200 OK") == 3
    out = _raw(srv, one.replace(b"HTTP/1.1\r\n", b"HTTP/1.0\r\n", 1))
    assert out.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in out


def test_malformed_http(srv: Server):
    out = _raw(srv, b"GARBAGE\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400")
    out = _raw(srv, b"POST /v1/messages HTTP/1.1\r\nContent-Length: abc\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400")
    out = _raw(srv, b"POST /v1/messages HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 413")
    assert srv.ctl("GET", "health")["ok"] is True


# ====================================================================== concurrency
N_CONC = 1000
CONC_LATENCY_MS = 2000
CONC_BUDGET_S = 15.0


async def _burst(port: int, n: int, budget: float) -> tuple[list[Any], float]:
    payload = json.dumps(ant_body()).encode()
    req = (b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: sk-ant-test\r\n"
           b"anthropic-version: 2023-06-01\r\ncontent-type: application/json\r\n"
           b"Connection: close\r\nContent-Length: " + str(len(payload)).encode() +
           b"\r\n\r\n" + payload)

    async def one() -> int:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        try:
            w.write(req)
            await w.drain()
            data = await r.read()
            head, _, body = data.partition(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            assert json.loads(body)["type"] == "message"
            return status
        finally:
            w.close()

    async def bounded() -> Any:
        try:
            return await asyncio.wait_for(one(), budget)
        except Exception as e:  # noqa: BLE001 - reported by the test
            return repr(e)

    t0 = time.monotonic()
    results = await asyncio.gather(*(bounded() for _ in range(n)))
    return results, time.monotonic() - t0


def test_thousand_concurrent_slow_requests(srv: Server):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = N_CONC + 200
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {need}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    srv.ctl("POST", "default", {"latency_ms": CONC_LATENCY_MS})
    try:
        results, elapsed = asyncio.run(_burst(srv.port, N_CONC, CONC_BUDGET_S))
    finally:
        srv.ctl("POST", "default", {})
    bad = [r for r in results if r != 200]
    st = srv.ctl("GET", "stats")
    print(json.dumps({"connections": N_CONC, "latency_ms": CONC_LATENCY_MS,
                      "elapsed_s": round(elapsed, 2), "ok": N_CONC - len(bad),
                      "max_in_flight": st["max_in_flight"],
                      "max_connections_open": st["max_connections_open"]}))
    assert not bad, bad[:5]
    assert elapsed < CONC_BUDGET_S
    assert elapsed >= CONC_LATENCY_MS / 1000 * 0.95
    assert st["max_in_flight"] >= N_CONC
    assert st["by_status"] == {"200": N_CONC}
    assert st["in_flight"] == 0


def test_cli_self_test():
    out = subprocess.run([PYTHON, str(SERVER), "--self-test", "300",
                          "--self-test-latency-ms", "500", "--self-test-deadline-s", "20"],
                         capture_output=True, text=True, timeout=60)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert out.returncode == 0, out
    assert res["ok"] == 300 and res["max_in_flight"] >= 300
