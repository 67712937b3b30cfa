"""The fake model vendor (tests/fake_llm/fake_llm.py) as a subprocess, for
the model-pipeline e2e tests (Python standard library only).

    fake = FakeModel.start()        # --port 0, waits for the ready line
    fake.reset(); fake.script([{"match": marker, "fault": "429"}, ...])
    fake.requests(marker)           # recorded requests whose body holds marker
    fake.stats()["max_in_flight"]
    fake.stop()                     # always: SIGTERM, then SIGKILL

The server gets PR_SET_PDEATHSIG, so it dies with the test runner even if
teardown never runs. Its stdout/stderr go to files in log_dir (they hold no
request bodies: the server is not started with --verbose).
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKE_LLM = REPO_ROOT / "tests" / "fake_llm" / "fake_llm.py"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
READY_TIMEOUT = 15
CONTROL_TIMEOUT = 15

# The model's answer, as the role block asks for it.
EMPTY_ANSWER = '{"findings":[],"summary":"No issues found."}'

try:
    _LIBC: Optional[ctypes.CDLL] = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover
    _LIBC = None


def _preexec() -> Callable[[], None]:
    parent = os.getpid()

    def fn() -> None:
        if _LIBC is not None:
            _LIBC.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
    return fn


def answer(findings: Iterable[dict] = (), summary: str = "Reviewed.") -> str:
    """A model answer text: the JSON object the worker validates."""
    return json.dumps({"findings": list(findings), "summary": summary})


def finding(line: int, message: str, fix: Optional[str] = None, severity: str = "major",
            category: str = "correctness", confidence: float = 0.9, **more: Any) -> dict:
    """One finding of a model answer, as the review prompt asks for it."""
    f = {"line": line, "severity": severity, "category": category, "message": message,
         "confidence": confidence, **more}
    if fix is not None:
        f["fix"] = fix
    return f


def request_text(body: Any) -> str:
    """All prompt text of a recorded Anthropic/OpenAI request body."""
    parts: list[str] = []

    def content(c: Any) -> None:
        if isinstance(c, str):
            parts.append(c)
        elif isinstance(c, list):
            for b in c:
                if isinstance(b, dict) and isinstance(b.get("text"), str):
                    parts.append(b["text"])

    if isinstance(body, dict):
        content(body.get("system"))
        for m in body.get("messages") or []:
            if isinstance(m, dict):
                content(m.get("content"))
    return "\n".join(parts)


def abort_charge(body: Any) -> int:
    """What the worker charges for a model call with this request body that
    it aborted while out (worker/model_ask.h): the prompt's characters,
    system and user (request_text joins them with a newline), / 4 rounded
    up; the vendor reports no usage for it."""
    return (len(request_text(body).encode()) - 1 + 3) // 4


def user_text(body: Any) -> str:
    """The last user message of a recorded request body."""
    msgs = body.get("messages") if isinstance(body, dict) else None
    for m in reversed(msgs or []):
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                return c
            if isinstance(c, list):
                return "\n".join(b.get("text", "") for b in c if isinstance(b, dict))
    return ""


class FakeModel:
    def __init__(self, proc: subprocess.Popen, port: int, log_dir: Path):
        self.proc = proc
        self.port = port
        self.log_dir = log_dir
        self.base_url = f"http://127.0.0.1:{port}"

    # -- lifecycle --

    @classmethod
    def start(cls, log_dir: Path, name: str = "fake-llm",
              extra_args: Iterable[str] = ()) -> "FakeModel":
        log_dir.mkdir(parents=True, exist_ok=True)
        err = open(log_dir / f"{name}.err", "wb")
        try:
            proc = subprocess.Popen(
                [PYTHON, str(FAKE_LLM), "--port", "0", "--host", "127.0.0.1",
                 "--max-hang-s", "60", *extra_args],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                cwd=str(REPO_ROOT), preexec_fn=_preexec())
        finally:
            err.close()
        try:
            line = cls._ready_line(proc, READY_TIMEOUT)
            rec = json.loads(line)
            assert rec.get("event") == "fake_llm_ready", line
            port = int(rec["port"])
        except BaseException:
            cls._kill(proc)
            raise
        fake = cls(proc, port, log_dir)
        fake.wait_healthy()
        return fake

    @staticmethod
    def _ready_line(proc: subprocess.Popen, timeout: float) -> str:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        buf = b""
        deadline = time.monotonic() + timeout
        try:
            for _ in range(10_000):
                if b"\n" in buf:
                    return buf.split(b"\n", 1)[0].decode()
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    break
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
        finally:
            sel.close()
        raise AssertionError(f"fake_llm not ready within {timeout}s (exit {proc.poll()}): {buf!r}")

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()

    def stop(self) -> None:
        self._kill(self.proc)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_healthy(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        last: Any = None
        for _ in range(int(timeout / 0.05) + 10):
            try:
                status, body = self._call("GET", "/_control/health", timeout=2)
                if status == 200 and body.get("ok") is True:
                    return
                last = (status, body)
            except OSError as e:
                last = e
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        raise AssertionError(f"fake_llm not healthy: {last!r}")

    # -- control API --

    def _call(self, method: str, path: str, obj: Any = None,
              timeout: float = CONTROL_TIMEOUT) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            body = None if obj is None else json.dumps(obj).encode()
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, json.loads(data or b"null")
        finally:
            conn.close()

    def _ok(self, method: str, path: str, obj: Any = None) -> Any:
        status, body = self._call(method, path, obj)
        assert status == 200, f"fake_llm {method} {path} -> {status} {body!r}"
        return body

    def reset(self) -> None:
        self._ok("POST", "/_control/reset")

    def script(self, steps: list[dict], replace: bool = False) -> None:
        self._ok("POST", "/_control/script", {"steps": steps, "replace": replace})

    def default(self, step: dict) -> None:
        self._ok("POST", "/_control/default", step)

    def all_requests(self) -> list[dict]:
        return self._ok("GET", "/_control/requests")["requests"]

    def requests(self, marker: Optional[str] = None) -> list[dict]:
        """Recorded API requests, in arrival order; with marker, only those
        whose prompt text holds it."""
        reqs = self.all_requests()
        if marker is None:
            return reqs
        return [r for r in reqs if marker in request_text(r.get("body"))
                or marker in (r.get("body_text") or "")]

    def count(self, marker: Optional[str] = None) -> int:
        return len(self.requests(marker))

    def stats(self) -> dict:
        return self._ok("GET", "/_control/stats")


@contextlib.contextmanager
def module_fake(harness: Any, name: str, keys: Iterable[str] = ()):
    """The fake vendor for one test module, in the session's temp dir, always
    stopped; its API keys are remembered for the log scan."""
    for k in keys:
        harness.remember(k)
    f = FakeModel.start(harness.tmpdir / name, name=name)
    try:
        yield f
    finally:
        f.stop()


def anthropic_env(fake: "FakeModel") -> dict:
    """What gateway and worker need to aim at the fake as Anthropic."""
    return {"CODEINSIGHT_LLM_PROVIDER": "anthropic", "CODEINSIGHT_LLM_BASE_URL": fake.base_url}
