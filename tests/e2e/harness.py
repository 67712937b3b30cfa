"""End-to-end harness for Code Insight (Python standard library only).

One ``Harness`` per pytest session owns a temp dir with a private Redis and
PostgreSQL (started through deploy/local/services.sh), runs the migrations,
and starts/stops gateway and worker processes on request. Everything it
starts is torn down by ``Harness.teardown()`` (pytest finalizer + atexit);
a watchdog process stops Redis/PostgreSQL even if the test runner is killed,
and gateways/workers get PR_SET_PDEATHSIG so they die with the runner.

Identity: the harness makes per-session secrets (``key_pepper``,
``jwt_secret``) that every gateway gets as CODEINSIGHT_KEY_PEPPER /
CODEINSIGHT_JWT_SECRET, creates a default user (plan business) with an API key
(``default_key``), and ``http()`` sends ``Authorization: Bearer <default key>``
unless the caller passes ``auth=`` (a key/token string, or None for no
Authorization header). ``admin()``, ``create_user()``, ``issue_key()`` and
``new_user()`` drive build/codeinsight-admin. Every credential the tests use is
remembered (``remember()``) so that ``secrets_in_logs()`` can check that none
of them ever reaches a log.

Module-level shortcuts (``start_gateway``, ``start_worker``, ``http``,
``poll_job``, ``redis_cli``, ``psql``, ``admin``, ``create_user``,
``issue_key``) act on the current session harness.
"""

from __future__ import annotations

import atexit
import ctypes
import datetime as _dt
import hashlib
import http.client as http_client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES_SH = REPO_ROOT / "deploy" / "local" / "services.sh"
SCHEMA_DIR = REPO_ROOT / "schema" / "migrations"
# Repository resources a worker finds relative to its working directory by
# default; workers run in the temp dir, so they get absolute paths.
WORKER_DIRS = {"CODEINSIGHT_PROMPTS_DIR": REPO_ROOT / "prompts",
               "CODEINSIGHT_ESLINT_DIR": REPO_ROOT / "deploy" / "eslint"}
# Never inherited from the runner: the processes under test get only what
# the harness (or a test) gives them: no real model provider, no Supabase.
_SCRUBBED_PREFIXES = ("CODEINSIGHT_", "SUPABASE_")
_SCRUBBED = {"REDIS_URL", "DATABASE_URL", "PORT", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY",
             "OPENAI_API_KEY"}

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
API_KEY_RE = re.compile(r"^ci_live_[A-Za-z0-9]{32}$")
UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SEVERITIES = {"critical", "major", "minor", "info"}
JOB_STATUSES = {"queued", "running", "done", "failed"}
LINTER_STATUSES = {"ok", "missing", "failed", "timeout"}
JOB_KEYS = {
    "job_id", "type", "status", "created_at", "started_at", "finished_at",
    "attempts", "file_path", "language", "repo_id", "request_id", "pool",
    "worker", "findings", "summary", "notes", "linters", "error",
}
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}

STREAM_FAST = "review_jobs"
STREAM_HEAVY = "review_jobs:heavy"
GROUP_FAST = "fast"
GROUP_HEAVY = "heavy"

# Bounds for every wait loop.
SERVICE_TIMEOUT = 90       # services.sh start/stop
MIGRATE_TIMEOUT = 60
GATEWAY_READY_TIMEOUT = 15
WORKER_READY_TIMEOUT = 15
STOP_TIMEOUT = 30
HTTP_TIMEOUT = 10

_PR_SET_PDEATHSIG = 1
try:
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - Linux only anyway
    _LIBC = None


def _preexec_pdeathsig(sig: int) -> Callable[[], None]:
    """preexec_fn: the child gets `sig` when the test runner dies."""
    parent = os.getpid()

    def fn() -> None:
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # runner died between fork and prctl
            os.kill(os.getpid(), sig)
    return fn


_used_ports: set[int] = set()


def free_port() -> int:
    """A currently free loopback TCP port (never the same twice per run)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _used_ports:
            _used_ports.add(port)
            return port
    raise RuntimeError("could not find a free port")


def wait_until(pred: Callable[[], Any], timeout: float, interval: float = 0.1,
               desc: str = "condition") -> Any:
    """Poll pred() until truthy (returned) or raise AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    max_iter = int(timeout / max(interval, 0.01)) + 10
    last = None
    for _ in range(max_iter):
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {desc} (last: {last!r})")


def parse_time(s: str) -> _dt.datetime:
    s = s.replace("z", "Z").replace("t", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    m = re.match(r"^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", s)
    if m and m.group(2):  # fromisoformat (3.11) handles >6 digits poorly
        s = m.group(1) + m.group(2)[:7].ljust(7, "0") + m.group(3)
    return _dt.datetime.fromisoformat(s)


# --------------------------------------------------------------------- HTTP --

class Headers:
    """Case-insensitive, multi-valued response headers."""

    def __init__(self, items: Iterable[tuple[str, str]]):
        self.items = list(items)

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        for k, v in self.items:
            if k.lower() == name.lower():
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        return [v for k, v in self.items if k.lower() == name.lower()]

    def __getitem__(self, name: str) -> str:
        v = self.get(name)
        if v is None:
            raise KeyError(name)
        return v

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __repr__(self) -> str:
        return f"Headers({self.items!r})"


def _parse_body(headers: Headers, data: bytes) -> Any:
    ctype = (headers.get("Content-Type") or "").lower()
    text = data.decode("utf-8", errors="replace")
    if "json" in ctype or text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def http_request(host: str, port: int, method: str, path: str, body: Any = None,
                 headers: Optional[dict] = None, raw: Optional[bytes] = None, *,
                 chunked: bool = False, chunk_size: int = 1000,
                 timeout: float = HTTP_TIMEOUT,
                 source: Optional[str] = None) -> tuple[int, Headers, Any]:
    """One HTTP/1.1 request on a fresh connection (Connection: close).

    body: a JSON-serialisable value (bytes/str are sent as is); raw: exact
    body bytes. Either gets a default ``Content-Type: application/json``;
    a header whose value is None is not sent at all. chunked=True sends the
    body with Transfer-Encoding: chunked and no Content-Length. source: the
    local address to connect from (e.g. "127.0.0.2": another client address
    on the loopback network). A server that
    answers early and closes while the body is still being sent is fine: the
    response is still read. Returns (status, headers, parsed JSON or text).
    """
    payload: Optional[bytes] = None
    if raw is not None:
        payload = bytes(raw)
    elif body is not None:
        if isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode("utf-8")
        else:
            payload = json.dumps(body).encode("utf-8")

    hdrs: dict[str, Optional[str]] = {"Host": f"{host}:{port}", "Connection": "close",
                                      "User-Agent": "codeinsight-e2e"}
    if payload is not None:
        hdrs["Content-Type"] = "application/json"
    for k, v in (headers or {}).items():
        for existing in [e for e in hdrs if e.lower() == k.lower()]:
            del hdrs[existing]
        hdrs[k] = v
    lower = {k.lower() for k, v in hdrs.items() if v is not None}
    if payload is not None:
        if chunked:
            if "transfer-encoding" not in lower:
                hdrs["Transfer-Encoding"] = "chunked"
        elif "content-length" not in lower:
            hdrs["Content-Length"] = str(len(payload))
    elif method.upper() in ("POST", "PUT", "PATCH") and "content-length" not in lower \
            and "transfer-encoding" not in lower:
        hdrs["Content-Length"] = "0"

    head = f"{method} {path} HTTP/1.1\r\n"
    for k, v in hdrs.items():
        if v is not None:
            head += f"{k}: {v}\r\n"
    head += "\r\n"
    wire = head.encode("latin-1")
    if payload is not None:
        if chunked:
            for i in range(0, len(payload), chunk_size):
                part = payload[i:i + chunk_size]
                wire += f"{len(part):x}\r\n".encode() + part + b"\r\n"
            wire += b"0\r\n\r\n"
        else:
            wire += payload
    return raw_http(host, port, wire, method=method, timeout=timeout, source=source)


def raw_http(host: str, port: int, wire: bytes, *, method: str = "GET",
             timeout: float = HTTP_TIMEOUT,
             source: Optional[str] = None) -> tuple[int, Headers, Any]:
    """Send exact request bytes, read one response. Raises ConnectionError /
    http.client exceptions if the server closes without a response."""
    sock = socket.create_connection((host, port), timeout=timeout,
                                    source_address=(source, 0) if source else None)
    send_error: Optional[BaseException] = None
    try:
        try:
            sock.sendall(wire)
        except (BrokenPipeError, ConnectionResetError) as e:
            send_error = e  # the server may have answered early: read it
        resp = http_client.HTTPResponse(sock, method=method)
        try:
            resp.begin()
            data = resp.read()
        except (http_client.HTTPException, OSError) as e:
            if send_error is not None:
                raise ConnectionError(f"send failed ({send_error!r}) and no response ({e!r})") from e
            raise
        headers = Headers(resp.getheaders())
        return resp.status, headers, _parse_body(headers, data)
    finally:
        sock.close()


# ---------------------------------------------------------------- processes --

class Proc:
    """A gateway or worker started by the harness; stdout/stderr go to files."""

    def __init__(self, name: str, argv: list[str], env: dict, logdir: Path, cwd: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = logdir / f"{name}.log"
        self.err_path = logdir / f"{name}.err"
        self.stop_timed_out = False
        with open(self.log_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(
                argv, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                start_new_session=True, preexec_fn=_preexec_pdeathsig(signal.SIGKILL))
        self.pid = self.popen.pid
        self.started_at = time.monotonic()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} pid={self.pid} rc={self.popen.poll()}>"

    @property
    def returncode(self) -> Optional[int]:
        return self.popen.poll()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def send_signal(self, sig: int) -> None:
        if self.alive():
            self.popen.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """Send sig, wait up to timeout (then SIGKILL); return the exit code
        (negative = killed by that signal, as in subprocess)."""
        if self.alive():
            try:
                self.popen.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                return self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.stop_timed_out = True
                self.popen.kill()
        return self.popen.wait(10)

    def kill(self) -> int:
        return self.stop(signal.SIGKILL, timeout=10)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout)

    def output(self) -> str:
        """Raw stdout followed by stderr (for diagnostics)."""
        parts = []
        for p in (self.log_path, self.err_path):
            try:
                parts.append(p.read_text(errors="replace"))
            except OSError:
                pass
        return "".join(parts)

    def tail(self, n: int = 30) -> str:
        lines = self.output().splitlines()
        return "\n".join(lines[-n:])

    def logs(self) -> list[dict]:
        """Every JSON-object line the process printed (stdout, then stderr)."""
        out = []
        for p in (self.log_path, self.err_path):
            try:
                text = p.read_text(errors="replace")
            except OSError:
                continue
            for line in text.splitlines():
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    out.append(obj)
        return out

    def events(self, event: str, **fields: Any) -> list[dict]:
        return [r for r in self.logs() if r.get("event") == event
                and all(r.get(k) == v for k, v in fields.items())]

    def wait_for_log(self, event: Optional[str] = None, timeout: float = 15,
                     pred: Optional[Callable[[dict], bool]] = None, **fields: Any) -> dict:
        """Wait (bounded) for a JSON log line with this event/fields/pred."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 10):
            for rec in self.logs():
                if event is not None and rec.get("event") != event:
                    continue
                if any(rec.get(k) != v for k, v in fields.items()):
                    continue
                if pred is not None and not pred(rec):
                    continue
                return rec
            if not self.alive():
                raise AssertionError(
                    f"{self.name} exited with {self.returncode} before logging "
                    f"event={event!r} {fields}; output:\n{self.tail()}")
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: no log line event={event!r} {fields} within "
                             f"{timeout}s; output:\n{self.tail()}")


class _Default:
    """Marker: `auth` not given, send the session's default API key."""

    def __repr__(self) -> str:
        return "DEFAULT_AUTH"


DEFAULT_AUTH: Any = _Default()


def with_auth(headers: Optional[dict], auth: Any, default: Optional[str]) -> dict:
    """headers plus `Authorization: Bearer <credential>`.

    auth: DEFAULT_AUTH (the default credential), None (no Authorization
    header), or a key/token string. A caller's own Authorization header (any
    case; value None drops it) always wins."""
    out = dict(headers or {})
    if any(k.lower() == "authorization" for k in out):
        return out
    cred = default if auth is DEFAULT_AUTH else auth
    if cred is not None:
        out["Authorization"] = f"Bearer {cred}"
    return out


class Gateway(Proc):
    def __init__(self, *a: Any, port: int, default_auth: Optional[str] = None,
                 remember: Optional[Callable[[str], None]] = None, **kw: Any):
        super().__init__(*a, **kw)
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.default_auth = default_auth       # credential sent unless auth= says otherwise
        self._remember = remember              # records credentials for the log scan

    def http(self, method: str, path: str, body: Any = None, headers: Optional[dict] = None,
             raw: Optional[bytes] = None, *, auth: Any = DEFAULT_AUTH,
             **kw: Any) -> tuple[int, Headers, Any]:
        """auth: DEFAULT_AUTH (the session's default API key), None (no
        Authorization header) or a key/token string."""
        if self._remember is not None and isinstance(auth, str):
            self._remember(auth)
        return http_request("127.0.0.1", self.port, method, path, body,
                            with_auth(headers, auth, self.default_auth), raw, **kw)

    def raw(self, wire: bytes, **kw: Any) -> tuple[int, Headers, Any]:
        return raw_http("127.0.0.1", self.port, wire, **kw)

    def healthy(self) -> bool:
        try:
            status, _, data = self.http("GET", "/healthz", auth=None, timeout=2)
        except OSError:
            return False
        return status == 200 and data == {"status": "ok"}


class Worker(Proc):
    def __init__(self, *a: Any, pool: str, **kw: Any):
        super().__init__(*a, **kw)
        self.pool = pool

    @property
    def consumer(self) -> Optional[str]:
        """Consumer name, if the worker_started line carries one."""
        for rec in self.events("worker_started"):
            for k in ("consumer", "worker", "name"):
                if isinstance(rec.get(k), str):
                    return rec[k]
        return None


# ------------------------------------------------------------------ harness --

_WATCHDOG = r"""
import os, shutil, signal, subprocess, sys, time
svc, tmp, rport, ppid, keep = sys.argv[1:6]
rpass = os.environ.pop("E2E_REDIS_PASSWORD", "")
def cleanup(*_):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for cmd in ([svc, "redis-stop", tmp + "/redis", rport, rpass], [svc, "pg-stop", tmp + "/pg"]):
        try:
            subprocess.run(cmd, timeout=60, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except Exception:
            pass
    if keep != "1":
        shutil.rmtree(tmp, ignore_errors=True)
    os._exit(0)
signal.signal(signal.SIGTERM, cleanup)
signal.signal(signal.SIGINT, signal.SIG_IGN)
if os.getppid() != int(ppid):
    cleanup()
while True:
    time.sleep(3600)
"""


class Harness:
    """Session-wide state: private Redis + PostgreSQL and the processes started."""

    def __init__(self, build_dir: Optional[str] = None, keep_tmp: bool = False):
        bd = Path(build_dir or os.environ.get("CODEINSIGHT_BUILD_DIR") or "build")
        self.build_dir = bd if bd.is_absolute() else (REPO_ROOT / bd)
        self.keep_tmp = keep_tmp or os.environ.get("CODEINSIGHT_E2E_KEEP") == "1"
        self.tmpdir: Optional[Path] = None
        self.redis_port = 0
        self.pg_port = 0
        self.redis_password = secrets.token_hex(16)
        self.pg_password = secrets.token_hex(16)
        # Per-session server secrets (>= 32 bytes), given to every gateway
        # (and the admin CLI): tests sign their own tokens with jwt_secret.
        self.key_pepper = "pepper-" + secrets.token_urlsafe(40)
        self.jwt_secret = "jwt-" + secrets.token_urlsafe(40)
        # Every credential, password and secret the tests used: none of them
        # may appear in any log (see secrets_in_logs()).
        self.secrets: set[str] = {self.redis_password, self.pg_password, self.key_pepper,
                                  self.jwt_secret}
        # The session's default user (plan business) and its API key, sent by
        # http() unless a caller passes auth=.
        self.default_email = "e2e-default@example.com"
        self.default_user_id = ""
        self.default_key = ""
        self.key_ids: dict[str, str] = {}    # API key -> key_id (keys issued via admin)
        self._operator_key = ""              # operator_key()'s, once made
        self.redis_url = ""
        self.database_url = ""
        self.procs: list[Proc] = []          # every process ever started
        self.module_procs: list[Proc] = []   # started since the last reset_procs()
        self.gateway: Optional[Gateway] = None  # default target of http()
        self._watchdog: Optional[subprocess.Popen] = None
        self._counter = 0
        self._torn_down = False
        self._started = False
        self.failed = False  # set by conftest when a test failed: keep the tmp dir

    # -- paths / binaries --

    def binary(self, name: str) -> Path:
        return self.build_dir / name

    def check_binaries(self) -> None:
        missing = [n for n in ("codeinsight-gateway", "codeinsight-worker", "codeinsight-migrate",
                               "codeinsight-admin")
                   if not os.access(self.binary(n), os.X_OK)]
        if missing:
            raise RuntimeError(f"missing binaries in {self.build_dir}: {', '.join(missing)} "
                               "(run `make` first, or set CODEINSIGHT_BUILD_DIR)")

    # -- lifecycle --

    def start(self) -> "Harness":
        global _current
        self.check_binaries()
        atexit.register(self.teardown)
        _current = self
        self.shm_before = set(shm_segments())
        self.tmpdir = Path(tempfile.mkdtemp(prefix="codeinsight-e2e-"))
        os.chmod(self.tmpdir, 0o755)  # the postgres user must traverse it
        (self.tmpdir / "logs").mkdir()
        self.redis_port = free_port()
        self.pg_port = free_port()
        self._start_watchdog()
        self._started = True
        self.start_redis()
        self.start_pg()
        self.migrate()
        self.default_user_id = self.create_user(self.default_email, plan="business")
        self.default_key = self.issue_key(self.default_email, "e2e-default")
        return self

    def _start_watchdog(self) -> None:
        assert self.tmpdir is not None
        env = dict(os.environ, E2E_REDIS_PASSWORD=self.redis_password)
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(SERVICES_SH), str(self.tmpdir),
             str(self.redis_port), str(os.getpid()), "1" if self.keep_tmp else "0"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_preexec_pdeathsig(signal.SIGTERM))

    def _services(self, *args: str, env_extra: Optional[dict] = None) -> str:
        env = dict(os.environ)
        env.update(env_extra or {})
        r = subprocess.run([str(SERVICES_SH), *args], env=env, capture_output=True, text=True,
                           timeout=SERVICE_TIMEOUT)
        if r.returncode != 0:
            raise RuntimeError(f"services.sh {args[0]} failed ({r.returncode}):\n"
                               f"{r.stderr}{r.stdout}")
        return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""

    def start_redis(self) -> str:
        assert self.tmpdir is not None
        self.redis_url = self._services("redis-start", str(self.tmpdir / "redis"),
                                        str(self.redis_port), self.redis_password)
        return self.redis_url

    def stop_redis(self) -> None:
        assert self.tmpdir is not None
        self._services("redis-stop", str(self.tmpdir / "redis"), str(self.redis_port),
                       self.redis_password)

    def start_pg(self) -> str:
        assert self.tmpdir is not None
        self.database_url = self._services("pg-start", str(self.tmpdir / "pg"), str(self.pg_port),
                                           self.pg_password, env_extra={"CODEINSIGHT_PG_FAST": "1"})
        return self.database_url

    def stop_pg(self) -> None:
        assert self.tmpdir is not None
        self._services("pg-stop", str(self.tmpdir / "pg"))

    def redis_up(self) -> bool:
        try:
            return self.redis_cli("PING", check=False) == "PONG"
        except (subprocess.SubprocessError, OSError):
            return False

    def pg_up(self) -> bool:
        try:
            return self.psql("SELECT 1", check=False) == "1"
        except (subprocess.SubprocessError, OSError):
            return False

    def ensure_services(self) -> None:
        """(Re)start Redis/PostgreSQL if a test left them stopped."""
        assert self.tmpdir is not None
        if not (self.tmpdir / "pg" / "data" / "PG_VERSION").exists():
            raise RuntimeError(f"the e2e state dir {self.tmpdir} vanished (deleted by someone "
                               "else?); not re-initializing behind the tests' back")
        if not self.redis_up():
            self.start_redis()
        if not self.pg_up():
            self.start_pg()

    def migrate(self, env_overrides: Optional[dict] = None) -> subprocess.CompletedProcess:
        env = self.child_env({"CODEINSIGHT_SCHEMA_DIR": str(SCHEMA_DIR), **(env_overrides or {})})
        r = subprocess.run([str(self.binary("codeinsight-migrate"))], env=env, cwd=str(REPO_ROOT),
                           capture_output=True, text=True, timeout=MIGRATE_TIMEOUT)
        if r.returncode != 0:
            raise RuntimeError(f"codeinsight-migrate failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r

    def teardown(self) -> None:
        """Idempotent: kill every child, stop Redis/PostgreSQL, remove tmp dir."""
        if self._torn_down:
            return
        self._torn_down = True
        errors = []
        for p in self.procs:
            try:
                if p.alive():
                    p.stop(signal.SIGTERM, timeout=10)
            except Exception as e:  # noqa: BLE001 - keep tearing down
                errors.append(f"{p.name}: {e!r}")
                try:
                    p.popen.kill()
                except OSError:
                    pass
        if self._started:
            for fn in (self.stop_redis, self.stop_pg):
                try:
                    fn()
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))
        if self._watchdog is not None and self._watchdog.poll() is None:
            if errors:   # let it retry the stop on its own
                self._watchdog.send_signal(signal.SIGTERM)
                try:
                    self._watchdog.wait(90)
                except subprocess.TimeoutExpired:
                    self._watchdog.kill()
            else:
                self._watchdog.kill()
                self._watchdog.wait(10)
        if self.tmpdir is not None and not (self.keep_tmp or self.failed):
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        if errors:
            print("e2e teardown problems:\n  " + "\n  ".join(errors), file=sys.stderr)

    # -- processes --

    def child_env(self, env_overrides: Optional[dict] = None) -> dict:
        """Environment for gateway/worker/migrate/admin: the runner's
        environment without CODEINSIGHT_*, SUPABASE_*, model provider keys,
        REDIS_URL/DATABASE_URL/PORT, plus ours. An override whose value is None
        removes that variable."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(_SCRUBBED_PREFIXES) and k not in _SCRUBBED}
        env.update({
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.database_url,
            "CODEINSIGHT_BIND": "127.0.0.1",
            "CODEINSIGHT_LOG_LEVEL": "debug",
        })
        for k, v in (env_overrides or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env

    def _name(self, base: str) -> str:
        self._counter += 1
        return f"{self._counter:03d}-{base}"

    def start_gateway(self, env_overrides: Optional[dict] = None, wait: bool = True,
                      timeout: float = GATEWAY_READY_TIMEOUT,
                      default: Optional[bool] = None,
                      wrapper: Optional[list[str]] = None) -> Gateway:
        """Start build/codeinsight-gateway on a free port; wait for /healthz.
        default: make it the target of http() (None: only if there is no live
        default gateway). wrapper: a command to run it under (valgrind ...)."""
        assert self.tmpdir is not None
        overrides = dict(env_overrides or {})
        port = int(overrides.pop("PORT", None) or free_port())
        for k in ("SUPABASE_JWT_SECRET", "CODEINSIGHT_KEY_PEPPER", "CODEINSIGHT_JWT_SECRET"):
            if overrides.get(k):
                self.remember(str(overrides[k]))
        # The finished-job view cache is off unless a test turns it on: tests
        # that delete a job's hot copy read PostgreSQL's view, not a copy
        # in the gateway's memory (test_view_cache.py tests the cache).
        env = self.child_env({"PORT": port, "CODEINSIGHT_KEY_PEPPER": self.key_pepper,
                              "CODEINSIGHT_JWT_SECRET": self.jwt_secret,
                              "CODEINSIGHT_VIEW_CACHE_MB": "0", **overrides})
        gw = Gateway(self._name("gateway"),
                     [*(wrapper or []), str(self.binary("codeinsight-gateway"))], env,
                     self.tmpdir / "logs", self.tmpdir, port=port,
                     default_auth=self.default_key or None, remember=self.remember)
        self.procs.append(gw)
        self.module_procs.append(gw)
        if wait:
            deadline = time.monotonic() + timeout
            for _ in range(int(timeout / 0.05) + 10):
                if gw.healthy():
                    break
                if not gw.alive():
                    raise AssertionError(f"gateway exited with {gw.returncode} during startup:\n"
                                         f"{gw.tail()}")
                if time.monotonic() >= deadline:
                    gw.kill()
                    raise AssertionError(f"gateway not healthy within {timeout}s:\n{gw.tail()}")
                time.sleep(0.05)
        if default or (default is None and (self.gateway is None or not self.gateway.alive())):
            self.gateway = gw
        return gw

    def start_worker(self, pool: str = "fast", env_overrides: Optional[dict] = None,
                     wait: bool = True, timeout: float = WORKER_READY_TIMEOUT) -> Worker:
        """Start build/codeinsight-worker --pool POOL; wait for worker_started."""
        assert self.tmpdir is not None
        base = {k: str(d) for k, d in WORKER_DIRS.items() if d.is_dir()}
        env = self.child_env({**base, **(env_overrides or {})})
        w = Worker(self._name(f"worker-{pool}"),
                   [str(self.binary("codeinsight-worker")), "--pool", pool], env,
                   self.tmpdir / "logs", self.tmpdir, pool=pool)
        self.procs.append(w)
        self.module_procs.append(w)
        if wait:
            w.wait_for_log("worker_started", timeout=timeout)
        return w

    def wait_answers_published(self, w: Worker, timeout: float = 10) -> str:
        """Wait until w's answer versions (its worker_started line's
        `answers`) are its pool's in Redis (answers:<stream>), which w sets
        once connected: from then on the result cache answers only from
        entries of that version (docs/admission.md, "Result cache").
        Returns them."""
        want = w.wait_for_log("worker_started")["answers"]
        key = "answers:" + (STREAM_HEAVY if w.pool == "heavy" else STREAM_FAST)
        wait_until(lambda: self.redis_cli("GET", key) == want, timeout, 0.05,
                   desc=f"{key} = {want!r}")
        return want

    def workers(self) -> list[Worker]:
        return [p for p in self.module_procs if isinstance(p, Worker)]

    def stop_workers(self, timeout: float = STOP_TIMEOUT) -> None:
        for p in self.procs:
            if isinstance(p, Worker) and p.alive():
                p.stop(signal.SIGTERM, timeout=timeout)

    def stop_procs(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop every gateway/worker still running (SIGTERM, then SIGKILL)."""
        for p in self.procs:
            if p.alive():
                p.stop(signal.SIGTERM, timeout=timeout)
        self.module_procs = []
        self.gateway = None

    def reset_state(self) -> None:
        """Empty Redis and the jobs/findings/token_charges tables; users and
        API keys stay (identity caches refill from PostgreSQL). Stops workers
        first."""
        self.stop_workers()
        self.redis_cli("FLUSHALL")
        tables = [t for t in ("jobs", "findings", "token_charges")
                  if self.psql(f"SELECT to_regclass('public.{t}') IS NOT NULL") == "t"]
        self.psql(f"TRUNCATE {', '.join(tables)} CASCADE")

    # -- identity: admin CLI, users, keys, secrets --

    def remember(self, secret: str) -> None:
        """Record a credential/password/secret for the log scan (short
        strings are ignored: they would match by chance)."""
        if isinstance(secret, str) and len(secret) >= 16:
            self.secrets.add(secret)

    def admin(self, *args: Any, stdin: Optional[str] = None, check: bool = True,
              timeout: float = 30, env: Optional[dict] = None) -> subprocess.CompletedProcess:
        """Run build/codeinsight-admin ARGS (env DATABASE_URL, REDIS_URL,
        CODEINSIGHT_KEY_PEPPER, then `env`'s overrides). Its stderr (its log)
        is kept in logs/ for the secrets scan; stdout (where key-issue prints
        the new key, by design) is only returned."""
        assert self.tmpdir is not None
        env = self.child_env({"CODEINSIGHT_KEY_PEPPER": self.key_pepper, **(env or {})})
        r = subprocess.run([str(self.binary("codeinsight-admin")), *[str(a) for a in args]],
                           env=env, cwd=str(REPO_ROOT), input=stdin, capture_output=True,
                           text=True, timeout=timeout)
        name = self._name(f"admin-{args[0] if args else 'usage'}")
        (self.tmpdir / "logs" / f"{name}.err").write_text(r.stderr)
        if check and r.returncode != 0:
            raise RuntimeError(f"codeinsight-admin {args[:1]} failed ({r.returncode}): "
                               f"{r.stderr.strip()}")
        return r

    def create_user(self, email: str, plan: str = "lite", password: Optional[str] = None) -> str:
        """codeinsight-admin user-create; returns the new user's id."""
        args: list[str] = ["user-create", email, "--plan", plan]
        if password is not None:
            self.remember(password)
            args.append("--password-stdin")
        r = self.admin(*args, stdin=(password + "\n") if password is not None else "")
        user_id = r.stdout.strip()
        assert UUID_RE.match(user_id), f"user-create printed {r.stdout!r}"
        return user_id

    def issue_key(self, email: str, name: str = "t") -> str:
        """codeinsight-admin key-issue; returns the key (its id: key_ids[key])."""
        r = self.admin("key-issue", email, name)
        key = r.stdout.strip()
        assert API_KEY_RE.match(key), "key-issue did not print one API key"
        self.remember(key)
        m = re.search(r"key_id ([0-9a-f-]{36})", r.stderr)
        if m:
            self.key_ids[key] = m.group(1)
        return key

    def set_operator(self, email: str, on: bool = True) -> None:
        """codeinsight-admin user-operator EMAIL on|off: the role GET /stats
        needs (docs/operations.md, "Operators")."""
        self.admin("user-operator", email, "on" if on else "off")

    def operator_key(self) -> str:
        """An API key of the session's operator (plan business; made on the
        first call, before any gateway could cache it without the role), for
        the tests that read GET /stats. The default user is no operator."""
        if not self._operator_key:
            email = "e2e-operator@example.com"
            self.create_user(email, plan="business")
            self.set_operator(email)
            self._operator_key = self.issue_key(email, "e2e-operator")
        return self._operator_key

    def new_user(self, plan: str = "lite", password: Optional[str] = None,
                 tag: str = "u") -> tuple[str, str, str]:
        """A fresh user with one API key: (email, user_id, key)."""
        self._counter += 1
        email = f"e2e-{tag}-{self._counter}-{secrets.token_hex(3)}@example.com"
        user_id = self.create_user(email, plan=plan, password=password)
        return email, user_id, self.issue_key(email)

    def log_files(self) -> list[Path]:
        """Every log the harness captured: gateways, workers, admin runs, and
        the Redis/PostgreSQL server logs."""
        if self.tmpdir is None:
            return []
        files = sorted(p for p in (self.tmpdir / "logs").glob("*") if p.is_file())
        for sub in ("redis", "pg"):
            d = self.tmpdir / sub
            if d.is_dir():
                files += sorted(p for p in d.rglob("*.log") if p.is_file())
                files += sorted(p for p in (d / "data" / "log").glob("*") if p.is_file()) \
                    if (d / "data" / "log").is_dir() else []
        return files

    def secrets_in_logs(self, extra: Iterable[str] = ()) -> list[tuple[str, str]]:
        """[(log file, what leaked)] for every remembered secret found in a
        log file; API keys are also looked for without their visible prefix,
        and JWTs by their signature segment."""
        needles: dict[str, str] = {}
        for sec in set(self.secrets) | set(extra):
            if len(sec) < 16:
                continue
            kind = "api key" if API_KEY_RE.match(sec) else \
                "jwt" if sec.count(".") == 2 and len(sec) > 60 else "secret"
            # named without revealing it: an API key by its public prefix,
            # anything else by a digest
            name = sec[:12] if kind == "api key" else \
                "sha256:" + hashlib.sha256(sec.encode()).hexdigest()[:12]
            needles[sec] = f"{kind} {name}"
            if kind == "api key":
                needles[sec[12:]] = f"{kind} {name} (random part)"
            elif kind == "jwt" and len(sec.rsplit(".", 1)[1]) >= 20:
                needles[sec.rsplit(".", 1)[1]] = f"{kind} {name} (signature)"
        found = []
        for f in self.log_files():
            try:
                text = f.read_bytes().decode("utf-8", errors="replace")
            except OSError:
                continue
            for needle, what in needles.items():
                if needle in text:
                    found.append((str(f), what))
        return found

    # -- HTTP --

    def _gw(self, gateway: Optional[Gateway]) -> Gateway:
        gw = gateway or self.gateway
        if gw is None:
            raise RuntimeError("no gateway running: use the `gateway` fixture or start_gateway()")
        return gw

    def http(self, method: str, path: str, body: Any = None, headers: Optional[dict] = None,
             raw: Optional[bytes] = None, *, gateway: Optional[Gateway] = None,
             auth: Any = DEFAULT_AUTH, **kw: Any) -> tuple[int, Headers, Any]:
        """(status, headers, parsed JSON or text) from the default gateway.
        Sends `Authorization: Bearer <default key>` unless auth= is given: a
        key/token string, or None for no Authorization header."""
        return self._gw(gateway).http(method, path, body, headers, raw, auth=auth, **kw)

    def submit(self, file_path: str = "app.py", file_content: str = "import os\n",
               request_type: str = "review", headers: Optional[dict] = None,
               gateway: Optional[Gateway] = None, auth: Any = DEFAULT_AUTH,
               **fields: Any) -> str:
        """POST /review, assert 202 and the response shape; return job_id."""
        body = {"file_path": file_path, "file_content": file_content,
                "request_type": request_type, **fields}
        status, hdrs, data = self.http("POST", "/review", body, headers, gateway=gateway,
                                       auth=auth)
        assert status == 202, f"POST /review -> {status} {data!r}"
        assert isinstance(data, dict), data
        job_id = data.get("job_id")
        assert isinstance(job_id, str) and UUID7_RE.match(job_id), f"bad job_id {job_id!r}"
        assert data.get("status") == "queued", data
        assert data.get("poll") == f"/job/{job_id}", data
        assert hdrs.get("Location") == f"/job/{job_id}", hdrs
        return job_id

    def get_job(self, job_id: str, gateway: Optional[Gateway] = None,
                auth: Any = DEFAULT_AUTH) -> tuple[int, Any]:
        status, _, data = self.http("GET", f"/job/{job_id}", gateway=gateway, auth=auth)
        return status, data

    def poll_job(self, job_id: str, until: Iterable[str] = ("done", "failed"),
                 timeout: float = 60, gateway: Optional[Gateway] = None,
                 auth: Any = DEFAULT_AUTH) -> dict:
        """GET /job/<id> until its status is in `until`; return the job."""
        until = tuple(until)
        deadline = time.monotonic() + timeout
        last: Any = None
        for _ in range(int(timeout / 0.1) + 10):
            status, data = self.get_job(job_id, gateway, auth=auth)
            last = (status, data)
            if status == 200 and isinstance(data, dict) and data.get("status") in until:
                return data
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        tails = "\n".join(f"--- {p.name} ({'alive' if p.alive() else p.returncode}):\n{p.tail(15)}"
                          for p in self.module_procs)
        raise AssertionError(f"job {job_id} not in {until} after {timeout}s; last: {last!r}\n{tails}")

    def precharge(self, user_id: str, tokens: int) -> None:
        """A ledger row worth `tokens` this month, and no Redis counter: the
        gateway must rebuild `used` from the ledger."""
        month = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m")
        self.psql(f"INSERT INTO token_charges (job_id, user_id, month, tokens) VALUES "
                  f"(gen_random_uuid(), '{user_id}', '{month}', {int(tokens)})")
        self.redis_cli("DEL", f"budget:{user_id}:{month}")
        assert self.redis_cli("EXISTS", f"budget:{user_id}:{month}") == "0"

    def submit_throttled(self, body: dict, auth: Any) -> str:
        """POST /review of a soft-throttled submission (its owner at 90% of
        the budget): 202 with the soft_throttled warning; its job_id."""
        status, _, data = self.http("POST", "/review", body, auth=auth)
        assert status == 202, data
        assert any(w.startswith("soft_throttled") for w in data.get("warnings", [])), data
        return data["job_id"]

    def wait_parked(self, job_id: str, auth: Any, timeout: float = 60) -> dict:
        """The job once parked (deferred_until set) or finished."""
        def settled():
            status, job = self.get_job(job_id, auth=auth)
            if status == 200 and (job.get("deferred_until") or
                                  job["status"] in ("done", "failed")):
                return job
            return None
        return wait_until(settled, timeout=timeout, interval=0.1,
                          desc=f"job {job_id} parked or finished")

    def poll_jobs(self, job_ids: Iterable[str], until: Iterable[str] = ("done", "failed"),
                  timeout: float = 120, gateway: Optional[Gateway] = None,
                  auth: Any = DEFAULT_AUTH) -> dict[str, dict]:
        """poll_job for many jobs with one shared deadline."""
        deadline = time.monotonic() + timeout
        out = {}
        for jid in job_ids:
            out[jid] = self.poll_job(jid, until, timeout=max(0.5, deadline - time.monotonic()),
                                     gateway=gateway, auth=auth)
        return out

    # -- Redis / PostgreSQL --

    def redis_cli(self, *args: Any, check: bool = True) -> str:
        """redis-cli against the session Redis; returns stripped stdout."""
        env = dict(os.environ, REDISCLI_AUTH=self.redis_password)
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.redis_port),
                            "--no-auth-warning", *[str(a) for a in args]],
                           env=env, capture_output=True, text=True, timeout=15)
        out = r.stdout.strip()
        if check and (r.returncode != 0 or re.match(r"^(ERR|NOAUTH|WRONGPASS|NOGROUP|WRONGTYPE)\b", out)):
            raise RuntimeError(f"redis-cli {args} failed ({r.returncode}): {out} {r.stderr.strip()}")
        return out

    def redis_int(self, *args: Any) -> int:
        return int(self.redis_cli(*args).splitlines()[0])

    def queued_entry(self, job_id: str) -> Optional[dict]:
        """The stream entry a job id names (job_entry_of) as entry_fields()
        reads it, or None when that entry is not there (a worker took the
        job, or it never existed)."""
        stream, eid = job_entry_of(job_id)
        raw = json.loads(self.redis_cli(
            "EVAL", "return cjson.encode(redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]))",
            "1", stream, eid))
        return entry_fields(raw[0][1]) if raw else None

    def xpending_count(self, stream: str, group: str) -> int:
        return self.redis_int("XPENDING", stream, group)

    def wait_stream_drained(self, stream: str, group: str, timeout: float = 10) -> None:
        """Wait (bounded) until the group has nothing pending and the stream is
        empty: the worker XACKs and XDELs right after updating the job hash,
        so a poller can see "done" a moment before that."""
        def drained():
            return self.xpending_count(stream, group) == 0 and self.redis_int("XLEN", stream) == 0
        wait_until(drained, timeout, interval=0.05,
                   desc=f"XPENDING {stream} {group} == 0 and XLEN {stream} == 0 "
                        f"(pending {self.xpending_count(stream, group)}, "
                        f"len {self.redis_int('XLEN', stream)} at start)")

    def psql(self, sql: str, check: bool = True, db: str = "codeinsight") -> str:
        """Run SQL in the codeinsight database (or db); unaligned, tuples
        only, fields separated by \\x1f. Returns stripped stdout."""
        env = dict(os.environ, PGPASSWORD=self.pg_password, PGCONNECT_TIMEOUT="5")
        r = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-F", "\x1f", "-v", "ON_ERROR_STOP=1",
                            "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "codeinsight",
                            "-d", db, "-c", sql],
                           env=env, capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise RuntimeError(f"psql failed ({r.returncode}) for {sql!r}: {r.stderr.strip()}")
        return r.stdout.strip()

    def psql_rows(self, sql: str) -> list[list[str]]:
        out = self.psql(sql)
        return [line.split("\x1f") for line in out.splitlines()] if out else []

    def psql_int(self, sql: str) -> int:
        return int(self.psql(sql))

    def scratch_database(self, prefix: str) -> Iterator[tuple[str, str]]:
        """A generator for a fixture: (name, url) of a new, empty database
        in the session's PostgreSQL, dropped when it resumes (connections
        left to it are ended)."""
        name = prefix + secrets.token_hex(4)
        self.psql(f"CREATE DATABASE {name}")
        base, _, _ = self.database_url.rpartition("/")
        try:
            yield name, f"{base}/{name}"
        finally:
            self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", check=False)


_current: Optional[Harness] = None


def current() -> Harness:
    if _current is None:
        raise RuntimeError("no e2e harness session is active")
    return _current


# Module-level shortcuts on the session harness (names from the test plan).

def start_gateway(env_overrides: Optional[dict] = None, **kw: Any) -> Gateway:
    return current().start_gateway(env_overrides, **kw)


def start_worker(pool: str = "fast", env_overrides: Optional[dict] = None, **kw: Any) -> Worker:
    return current().start_worker(pool, env_overrides, **kw)


def http(method: str, path: str, body: Any = None, headers: Optional[dict] = None,
         raw: Optional[bytes] = None, **kw: Any) -> tuple[int, Headers, Any]:
    return current().http(method, path, body, headers, raw, **kw)


def admin(*args: Any, stdin: Optional[str] = None, **kw: Any) -> subprocess.CompletedProcess:
    return current().admin(*args, stdin=stdin, **kw)


def create_user(email: str, plan: str = "lite", password: Optional[str] = None) -> str:
    return current().create_user(email, plan, password)


def issue_key(email: str, name: str = "t") -> str:
    return current().issue_key(email, name)


def entry_fields(flat: list) -> dict:
    """A stream entry's fields as a worker reads them (worker/pipeline.c,
    entry_object): the string members of its meta (common/job.h: the
    admission's own, user_id ... id_bits, and the submission's small
    fields) as fields of their own, a field written separately winning;
    meta itself stays, as sent."""
    fields = dict(zip(flat[::2], flat[1::2]))
    try:
        meta = json.loads(fields.get("meta", "{}"))
    except ValueError:
        meta = {}
    if isinstance(meta, dict):
        for k, v in meta.items():
            if isinstance(v, str) and k not in fields:
                fields[k] = v
    return fields


def job_entry_of(job_id: str) -> tuple[str, str]:
    """The stream and entry id ("<ms>-<seq>") a job id names, as
    common/job.h lays it out: "MMMMMMMM-MMMM-7FFF-TSSS-SSSRRRRRRRRR"."""
    stream = {"8": STREAM_FAST, "9": STREAM_HEAVY}[job_id[19]]
    ms = int(job_id[0:8] + job_id[9:13], 16)
    seq = int(job_id[20:23] + job_id[24:27], 16)
    return stream, f"{ms}-{seq}"


def poll_job(job_id: str, until: Iterable[str] = ("done", "failed"), timeout: float = 60) -> dict:
    return current().poll_job(job_id, until, timeout)


def redis_cli(*args: Any, check: bool = True) -> str:
    return current().redis_cli(*args, check=check)


def psql(sql: str, check: bool = True) -> str:
    return current().psql(sql, check=check)


def shm_segments() -> list[str]:
    """libmongoc's counters segments in /dev/shm (mongoc-<pid>): the worker
    removes its own at start (worker/mongo_sink.h), so none should outlive
    its process."""
    try:
        return sorted(n for n in os.listdir("/dev/shm") if n.startswith("mongoc-"))
    except FileNotFoundError:
        return []


# --------------------------------------------------------------- assertions --

def assert_problem(resp: tuple[int, Headers, Any], status: int, code: Any,
                   field: Optional[str] = None, fields: Optional[Iterable[str]] = None) -> dict:
    """An RFC 7807 problem response with this status and code (a str, or a
    set of accepted codes where the spec is ambiguous).

    field: the `field` member must equal it; fields: it must be one of these
    (for spec-ambiguous names). Without either, a `field`, if present, is not
    checked."""
    got_status, headers, body = resp
    assert got_status == status, f"expected {status} {code}, got {got_status}: {body!r}"
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    assert ctype == "application/problem+json", f"Content-Type {headers.get('Content-Type')!r}"
    assert isinstance(body, dict), f"problem body is not JSON: {body!r}"
    missing = PROBLEM_KEYS - body.keys()
    assert not missing, f"problem lacks {missing}: {body!r}"
    codes = {code} if isinstance(code, str) else set(code)
    assert body["code"] in codes, f"expected code {code!r}, got {body['code']!r}: {body!r}"
    assert body["status"] == status, body
    assert isinstance(body["title"], str) and body["title"], body
    assert isinstance(body["type"], str) and body["type"], body
    assert isinstance(body["detail"], str), body
    rid = headers.get("X-Request-Id")
    assert rid and REQUEST_ID_RE.match(rid), f"bad X-Request-Id {rid!r}"
    assert body["request_id"] == rid, f"request_id {body['request_id']!r} != header {rid!r}"
    if field is not None:
        assert body.get("field") == field, f"expected field {field!r}: {body!r}"
    if fields is not None:
        assert body.get("field") in set(fields), f"expected field in {set(fields)}: {body!r}"
    return body


def assert_job_shape(job: Any) -> dict:
    """The GET /job/<id> document has the documented keys and types."""
    assert isinstance(job, dict), job
    missing = JOB_KEYS - job.keys()
    assert not missing, f"job lacks {missing}: {job!r}"
    assert UUID7_RE.match(job["job_id"]), job["job_id"]
    assert job["type"] in ("review", "debug", "architecture", "stress"), job
    assert job["status"] in JOB_STATUSES, job
    assert isinstance(job["created_at"], str) and RFC3339_RE.match(job["created_at"]), job
    for k in ("started_at", "finished_at"):
        assert job[k] is None or (isinstance(job[k], str) and RFC3339_RE.match(job[k])), (k, job)
    assert isinstance(job["attempts"], int) and not isinstance(job["attempts"], bool) \
        and job["attempts"] >= 0, job
    # architecture and stress jobs need no file
    assert isinstance(job["file_path"], str) or (
        job["file_path"] is None and job["type"] in ("architecture", "stress")), job
    assert job["language"] is None or isinstance(job["language"], str), job
    assert job["repo_id"] is None or isinstance(job["repo_id"], str), job
    assert job["request_id"] is None or isinstance(job["request_id"], str), job
    assert job["pool"] in (None, "fast", "heavy"), job
    assert job["worker"] is None or isinstance(job["worker"], str), job
    assert job["summary"] is None or isinstance(job["summary"], str), job
    assert job["error"] is None or isinstance(job["error"], str), job
    assert isinstance(job["notes"], list) and all(isinstance(n, str) for n in job["notes"]), job
    assert isinstance(job["findings"], list), job
    for f in job["findings"]:
        assert_finding_shape(f)
    assert isinstance(job["linters"], list), job
    for lt in job["linters"]:
        assert isinstance(lt, dict), lt
        for k in ("tool", "status", "exit_code", "duration_ms", "findings"):
            assert k in lt, f"linter entry lacks {k}: {lt!r}"
        assert isinstance(lt["tool"], str) and lt["tool"], lt
        assert lt["status"] in LINTER_STATUSES, lt
    if job["status"] in ("done", "failed"):
        assert job["finished_at"] is not None, job
    return job


def assert_finding_shape(f: Any) -> None:
    assert isinstance(f, dict), f
    for k in ("line", "severity", "category", "rule_id", "message", "source"):
        assert k in f, f"finding lacks {k}: {f!r}"
    assert isinstance(f["line"], int) and f["line"] >= 1, f
    for k in ("end_line", "column"):
        if f.get(k) is not None:
            assert isinstance(f[k], int) and f[k] >= 0, f
    assert f["severity"] in SEVERITIES, f
    assert isinstance(f["category"], str), f
    assert isinstance(f["rule_id"], str) and f["rule_id"], f
    assert isinstance(f["message"], str) and f["message"], f
    assert isinstance(f["source"], str) and f["source"].startswith("lint:"), f


def assert_sigterm_leaves_job_pending(harness: Harness, worker: Worker, job_id: str,
                                      grace_s: float) -> None:
    """Stops worker with SIGTERM while it works on job_id, and checks that it
    gave the job up past its grace (grace_s, its CODEINSIGHT_SHUTDOWN_GRACE)
    without finishing it: it exited 0 within grace_s + 25 s, logged
    job_abandoned for job_id alone, job_done for none, and worker_stopped
    with left_pending 1; the job's entry is still pending in the worker's
    pool's consumer group (not acknowledged, so another worker can claim
    it), and PostgreSQL holds no done or failed row for the job.

    Usage, once the job is seen at the step to interrupt:

        w = harness.start_worker("heavy", {..., "CODEINSIGHT_SHUTDOWN_GRACE": "1"})
        job_id = harness.submit(...)
        wait_until(...)
        assert_sigterm_leaves_job_pending(harness, w, job_id, 1)
    """
    rc = worker.stop(signal.SIGTERM, timeout=grace_s + 25)
    assert not worker.stop_timed_out and rc == 0, (rc, worker.tail())
    assert [r["job_id"] for r in worker.events("job_abandoned")] == [job_id], worker.tail()
    assert worker.events("worker_stopped")[-1].get("left_pending") == 1, worker.tail()
    assert not worker.events("job_done"), worker.tail()
    started = worker.events("job_started", job_id=job_id)
    stream, group = {"fast": (STREAM_FAST, GROUP_FAST),
                     "heavy": (STREAM_HEAVY, GROUP_HEAVY)}[worker.pool]
    out = harness.redis_cli("XPENDING", stream, group, "-", "+", "100")
    pending = [ln for ln in out.splitlines() if ln.strip()][0::4]  # entry ids
    assert started and started[0]["entry_id"] in pending, \
        "the abandoned job's entry was acknowledged"
    assert harness.psql_rows(f"SELECT status FROM jobs WHERE job_id = '{job_id}' "
                             f"AND status IN ('done', 'failed')") == [], "the job was stored"


def finding_keys(job: dict) -> set[tuple[str, int, str]]:
    """{(rule_id, line, source)} of a job's findings."""
    return {(f["rule_id"], f["line"], f["source"]) for f in job["findings"]}


# ------------------------------------------------------------------ samples --

# flake8: F401 at 1 and 2, F821 at 6; pylint: W0611 at 1 and 2, E0602 at 6
# (the same issues: merged into flake8's), C0114 at 1, C0116 and C0103 at 5.
PY_SAMPLE = "import os\nimport sys\n\n\ndef f(x):\n    return undefined_name + x\n"
PY_EXPECTED = {
    ("F401", 1, "lint:flake8"), ("F401", 2, "lint:flake8"), ("F821", 6, "lint:flake8"),
    ("C0114", 1, "lint:pylint"), ("C0116", 5, "lint:pylint"), ("C0103", 5, "lint:pylint"),
}

# A clean module: nothing from flake8 or pylint.
PY_CLEAN = ('"""A clean module."""\n\n\ndef add(left, right):\n'
            '    """Return the sum."""\n    return left + right\n')

# shellcheck: SC2086 at 3 and 5, SC2045 at 4 (and SC2035 at 4).
SH_SAMPLE = '#!/bin/sh\nname=$1\necho $name\nfor f in $(ls *.txt); do\n  cat $f\ndone\n'
SH_EXPECTED = {
    ("SC2086", 3, "lint:shellcheck"), ("SC2045", 4, "lint:shellcheck"),
    ("SC2086", 5, "lint:shellcheck"),
}


def py_heavy(n_funcs: int = 200) -> str:
    """PY_SAMPLE's problems followed by many clean functions: ~1 s of pylint."""
    lines = PY_SAMPLE.rstrip("\n").split("\n")
    for i in range(n_funcs):
        lines += ["", "", f"def func_{i}(alpha, beta):", f'    """Doc {i}."""',
                  "    if alpha > beta:", f"        return alpha - beta + {i}", "    return beta"]
    return "\n".join(lines) + "\n"
