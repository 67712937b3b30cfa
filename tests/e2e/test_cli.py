"""The `codeinsight` CLI (build/codeinsight) against a running stack: a
gateway, one fast worker and the fake model vendor (tests/fake_llm), which
answers chosen findings for files carrying a random marker. Files are Go
(no linter runs for Go), so every finding comes from the scripted model and
the text output can be compared line for line.

Covered: exit codes 0/1/2/3 and --fail-on, text/json output, SARIF and
rdjson (validated against the official schemas), progress on a pseudo-terminal (ANSI redraws)
and as plain lines in a pipe, several files at once, --no-wait then
`job ID --wait`, whoami, usage, login (stdin and a pty; the 0600 file),
and `git diff | codeinsight review --diff -` in a temporary repository
(never reading a link, an absolute or '..' path). Against a stand-in
server (fake_api): escape codes in the service's text, and --timeout
cutting a request the server holds; stdout on /dev/full is exit 3.

    bash tests/run-e2e.sh tests/e2e/test_cli.py
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import secrets
import select
import stat
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fakemodel import answer, module_fake, anthropic_env, request_text
from harness import REPO_ROOT, STREAM_FAST, STREAM_HEAVY, UUID7_RE, free_port, wait_until

ANTHROPIC_KEY = "sk-ant-e2e-cli-" + secrets.token_urlsafe(24)
CLI_TIMEOUT = 90        # seconds any one CLI run may take
ESC = "\x1b["


def marker() -> str:
    return "cli" + secrets.token_hex(8)


def go_file(m: str, lines: int = 6) -> str:
    body = [f"// {m}", "package main", ""]
    body += [f"var v{i} = {i}" for i in range(lines - len(body))]
    return "\n".join(body) + "\n"


def model_finding(line: int, severity: str, message: str, category: str = "correctness"):
    return {"line": line, "severity": severity, "category": category, "message": message,
            "confidence": 0.9}


# ------------------------------------------------------------------ fixtures --

@pytest.fixture(scope="module")
def fake_server(harness, _module_isolation):
    with module_fake(harness, "fake-llm-cli", (ANTHROPIC_KEY,)) as f:
        yield f


@pytest.fixture(scope="module")
def stack(harness, fake_server):
    """Gateway (rates scaled up) and one fast worker aimed at the fake model."""
    gw = harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                **anthropic_env(fake_server)}, default=True)
    harness.start_worker("fast", {**anthropic_env(fake_server),
                                  "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
                                  "CODEINSIGHT_LLM_TIMEOUT_MS": "5000",
                                  "CODEINSIGHT_BREAKER_THRESHOLD": "1000",
                                  "CODEINSIGHT_READ_BLOCK_MS": "200"})
    return gw


@pytest.fixture
def work(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


def cli_env(harness, stack, tmp: Path, key: str | None = None, url: str | None = None,
            **extra) -> dict:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp / "home"),
           "XDG_CONFIG_HOME": str(tmp / "xdg"), "LANG": "C.UTF-8",
           "CODEINSIGHT_URL": url or f"http://127.0.0.1:{stack.port}",
           "CODEINSIGHT_API_KEY": harness.default_key if key is None else key}
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def run_cli(harness, args, env, cwd, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(harness.binary("codeinsight")), *args], env=env, cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=CLI_TIMEOUT)


def script(fake, m: str, findings, summary="Reviewed.", **step):
    fake.script([{"match": m, "api": "anthropic", "text": answer(findings, summary), **step}])


def two_files(work: Path, fake) -> tuple[str, str]:
    """a.go: one major at line 4 and one info at 3; b.go: one minor at line 2."""
    ma, mb = marker(), marker()
    (work / "a.go").write_text(go_file(ma))
    (work / "b.go").write_text(go_file(mb))
    script(fake, ma, [model_finding(4, "major", "Shadowed variable.\nSecond line."),
                      model_finding(3, "info", "Blank line.", "style")])
    script(fake, mb, [model_finding(2, "minor", "Package name.", "maintainability")])
    return ma, mb


TWO_FILES_TEXT = [
    "a.go:3:1: info: Blank line. [model:style] (model)",
    "a.go:4:1: major: Shadowed variable. Second line. [model:correctness] (model)",
    "b.go:2:1: minor: Package name. [model:maintainability] (model)",
]


@contextlib.contextmanager
def fake_api(routes: dict):
    """A stand-in for the service on loopback, for answers the real one never
    gives: routes maps (method, path prefix) to (status, JSON body, seconds
    to wait before answering[, response headers]), or to a function of the
    request (its BaseHTTPRequestHandler) returning that; a body None is no
    body (a 304), bytes are sent as they are (a proxy's page: its
    Content-Type and, to cut it short, a longer Content-Length in the
    headers). Yields its URL; a request still waiting is let go when the
    block ends."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            route = next(
                (v for (method, prefix), v in routes.items()
                 if method == self.command and self.path.startswith(prefix)),
                (404, {"code": "not_found", "status": 404}, 0))
            status, body, delay, *headers = route(self) if callable(route) else route
            if delay and stop.wait(delay):
                return
            self.send_response(status)
            headers = headers[0] if headers else {}
            for name, value in headers.items():
                self.send_header(name, value)
            if isinstance(body, bytes):
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
                return
            if body is not None:
                data = json.dumps(body).encode()
                self.send_header("Content-Type", "application/json" if status < 400
                                 else "application/problem+json")
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body is not None:
                self.wfile.write(data)

        do_GET = do_POST = do_DELETE = answer

        def log_message(self, *args):  # noqa: ARG002
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        stop.set()
        srv.shutdown()
        srv.server_close()


# ---------------------------------------------------------- exit codes, text --

def test_text_output_exact_and_fail_on_levels(harness, stack, fake, work, tmp_path):
    two_files(work, fake)
    env = cli_env(harness, stack, tmp_path)

    r = run_cli(harness, ["review", "b.go", "a.go"], env, work)
    assert r.returncode == 1, r
    assert r.stdout.splitlines() == TWO_FILES_TEXT, r.stdout
    assert "3 findings (1 major, 1 minor, 1 info) in 2 files" in r.stderr, r.stderr

    # Same files again: answered from the result cache, same lines.
    for level, want in (("critical", 0), ("major", 1), ("minor", 1), ("never", 0)):
        r = run_cli(harness, ["review", "a.go", "b.go", "--fail-on", level], env, work)
        assert r.returncode == want, (level, r)
        assert r.stdout.splitlines() == TWO_FILES_TEXT, (level, r.stdout)


def test_clean_file_exits_0_with_no_output(harness, stack, fake, work, tmp_path):
    m = marker()
    (work / "ok.go").write_text(go_file(m))
    script(fake, m, [], "Fine.")
    r = run_cli(harness, ["review", "ok.go"], cli_env(harness, stack, tmp_path), work)
    assert r.returncode == 0, r
    assert r.stdout == ""
    assert "no findings in 1 file" in r.stderr, r.stderr


def test_json_output_is_the_job_views(harness, stack, fake, work, tmp_path):
    two_files(work, fake)
    r = run_cli(harness, ["review", "a.go", "b.go", "--format", "json", "-q"],
                cli_env(harness, stack, tmp_path), work)
    assert r.returncode == 1, r
    assert r.stderr == "", r.stderr
    views = json.loads(r.stdout)
    assert [v["file_path"] for v in views] == ["a.go", "b.go"]
    assert all(v["status"] == "done" and UUID7_RE.match(v["job_id"]) for v in views), views
    assert sorted((f["line"], f["severity"]) for f in views[0]["findings"]) == \
        [(3, "info"), (4, "major")]
    assert [(f["line"], f["rule_id"]) for f in views[1]["findings"]] == \
        [(2, "model:maintainability")]


def job_keys(harness) -> int:
    """Jobs ever admitted: entries ever added to the two job streams."""
    total = 0
    for stream in (STREAM_FAST, STREAM_HEAVY):
        if harness.redis_int("EXISTS", stream):
            info = harness.redis_cli("XINFO", "STREAM", stream).splitlines()
            total += int(info[info.index("entries-added") + 1])
    return total


def test_usage_errors_exit_2_and_send_nothing(harness, stack, fake, work, tmp_path):
    env = cli_env(harness, stack, tmp_path)
    (work / "a.go").write_text(go_file(marker()))
    before = job_keys(harness)
    cases = [
        (["review", "a.go", "missing.go"], "missing.go: No such file or directory"),
        (["review"], "review needs at least one FILE"),
        (["review", "a.go", "--fail-on", "sometimes"], "--fail-on must be"),
        (["review", "a.go", "--format", "xml"], "--format must be"),
        (["review", "a.go", "--bogus"], "unknown option '--bogus'"),
        (["review", "a.go", "--type", "debug"], "--type debug needs --error-log"),
        (["review", "a.go", "--type", "debug", "--run", "ruby"], "--run must be python"),
        (["review", "a.go", "--run", "python"], "--run is for --type debug"),
        (["review", "a.go", "-t", "debug", "--error-log", "a.go", "--run-arg", "x"],
         "--run-arg needs --run"),
        (["review", "a.go", "-t", "debug", "--run", "sh"] + ["--run-arg", "x"] * 17,
         "at most 16 --run-arg"),
        (["review", "-", "-t", "debug", "--error-log", "-"], "can be read only once"),
        (["review", "--diff", "-", "-"], "can be read only once"),
        (["whoami", "--wait"], "does not take --wait"),
        (["job"], "job needs a job ID"),
        (["job", "not-a-uuid"], "is not a job id"),
        # 36 characters, dashes misplaced
        (["job", "0123456789abcdef-0123456789abcdef-12"], "is not a job id"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["cancel"], "cancel needs at least one job ID"),
        # every id is checked before any is sent
        (["cancel", "01939d7e-0000-7000-8000-000000000000", "nope"], "'nope' is not a job id"),
    ]
    for args, msg in cases:
        r = run_cli(harness, args, env, work)
        assert r.returncode == 2, (args, r)
        assert msg in r.stderr, (args, r.stderr)
        assert r.stdout == "", (args, r.stdout)
    assert job_keys(harness) == before, "a usage error submitted a job"

    # No key anywhere: a configuration (usage) error too.
    r = run_cli(harness, ["whoami"], cli_env(harness, stack, tmp_path, key=""), work)
    assert r.returncode == 2, r
    assert "no API key" in r.stderr and "codeinsight login" in r.stderr, r.stderr


def test_help_documents_exit_codes(harness, stack, work, tmp_path):
    env = cli_env(harness, stack, tmp_path)
    for args in (["--help"], ["review", "--help"], ["help", "job"], ["login", "-h"]):
        r = run_cli(harness, args, env, work)
        assert r.returncode == 0, (args, r)
        for code in ("0  clean", "1  a finding", "2  usage error", "3  service error"):
            assert code in r.stdout, (args, r.stdout)
    r = run_cli(harness, ["review", "--help"], env, work)
    assert "path:line:col: severity: message [rule] (source)" in r.stdout


def test_service_errors_exit_3(harness, stack, fake, work, tmp_path):
    (work / "a.go").write_text(go_file(marker()))
    bad = "ci_live_" + "x" * 32
    r = run_cli(harness, ["review", "a.go"], cli_env(harness, stack, tmp_path, key=bad), work)
    assert r.returncode == 3, r
    assert "invalid_api_key" in r.stderr and "HTTP 401" in r.stderr, r.stderr
    assert bad not in r.stderr + r.stdout

    r = run_cli(harness, ["whoami"], cli_env(harness, stack, tmp_path, key=bad), work)
    assert r.returncode == 3 and "invalid_api_key" in r.stderr, r

    # Nothing listening there (a stopped gateway).
    dead = f"http://127.0.0.1:{free_port()}"
    for args in (["review", "a.go"], ["whoami"], ["usage"],
                 ["job", "01939d7e-0000-7000-8000-000000000000"]):
        r = run_cli(harness, args, cli_env(harness, stack, tmp_path, url=dead), work)
        assert r.returncode == 3, (args, r)
        assert "cannot reach" in r.stderr, (args, r.stderr)

    # A job id nobody has.
    r = run_cli(harness, ["job", "01939d7e-0000-7000-8000-000000000000"],
                cli_env(harness, stack, tmp_path), work)
    assert r.returncode == 3 and "job_not_found" in r.stderr, r


def test_results_that_cannot_be_written_exit_3(harness, stack, fake, work, tmp_path):
    """Standard output on a full disk (/dev/full): the results are lost, so
    the run is not clean (0) nor just 'findings' (1), but exit 3 with why."""
    two_files(work, fake)
    env = cli_env(harness, stack, tmp_path)
    for args in (["review", "a.go", "--format", "json"],
                 ["review", "a.go", "b.go", "--fail-on", "never"],
                 ["review", "a.go"], ["whoami", "--json"], ["usage"], ["--version"]):
        with open("/dev/full", "w") as full:
            r = subprocess.run([str(harness.binary("codeinsight")), *args], env=env, cwd=work,
                               stdout=full, stderr=subprocess.PIPE, text=True,
                               timeout=CLI_TIMEOUT)
        assert r.returncode == 3, (args, r)
        said = re.findall(r"^codeinsight: cannot write (?:the results|to standard output): "
                          r"No space left on device$", r.stderr, re.M)
        assert len(said) == 1, (args, r.stderr)


# ------------------------------------------------------ debug, architecture --

@pytest.fixture(scope="module")
def heavy(harness, stack, fake_server):
    """A heavy worker aimed at the fake model (debug, architecture)."""
    return harness.start_worker("heavy", {**anthropic_env(fake_server),
                                          "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
                                          "CODEINSIGHT_LLM_TIMEOUT_MS": "5000",
                                          "CODEINSIGHT_LLM_MAX_ATTEMPTS": "1",
                                          "CODEINSIGHT_BREAKER_THRESHOLD": "1000",
                                          "CODEINSIGHT_READ_BLOCK_MS": "200"})


def test_architecture_design_and_failed_job(harness, stack, heavy, fake, work, tmp_path):
    m = marker()
    design = {"summary": f"A link shortener ({m}).", "diagram": "api\n |\ndb",
              "modules": [{"name": "api", "responsibility": "Serves links."}],
              "data_flow": ["client -> api"], "security": ["Rate-limit writes."],
              "scaling": ["Cache hot links."], "cost": ["One small database."]}
    fake.script([{"match": m, "api": "anthropic", "text": json.dumps(design)}])
    (work / "main.go").write_text("package main\n")
    env = cli_env(harness, stack, tmp_path)
    r = run_cli(harness, ["review", "--type", "architecture", "--request",
                          f"A link shortener ({m}).", "main.go", "./cmd/x.go"], env, work)
    assert r.returncode == 0, r
    out = r.stdout.splitlines()
    assert out[0] == f"A link shortener ({m}).", r.stdout
    assert "  - api: Serves links." in out and "  - Cache hot links." in out, r.stdout
    sent = fake.requests(m)
    assert len(sent) == 1
    # The files are sent as the existing tree, paths only.
    text = request_text(sent[0]["body"])
    assert "<file_tree>\nmain.go\ncmd/x.go\n</file_tree>" in text, text

    # A directory stands for every file under it, hidden ones aside.
    for rel in ("app/main.go", "app/README.md", "app/web/index.ts", "app/.git/HEAD"):
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text("x\n")
    m3 = marker()
    fake.script([{"match": m3, "api": "anthropic", "text": json.dumps(design)}])
    r = run_cli(harness, ["review", "-t", "architecture", "--request", f"The app ({m3}).",
                          "app", "main.go"], env, work)
    assert r.returncode == 0, r
    text = request_text(fake.requests(m3)[0]["body"])
    assert "<file_tree>\napp/README.md\napp/main.go\napp/web/index.ts\nmain.go\n</file_tree>" \
        in text, text

    # The model refuses: the job fails, a service error.
    m2 = marker()
    fake.script([{"match": m2, "api": "anthropic", "fault": "400"}])
    r = run_cli(harness, ["review", "-t", "architecture", "--request", f"A blog ({m2})."],
                env, work)
    assert r.returncode == 3, r
    assert "architecture: job failed:" in r.stderr, r.stderr


def test_debug_shows_the_diagnosis(harness, stack, heavy, fake, work, tmp_path):
    m = marker()
    (work / "stats.py").write_text(f"# {m}\ndef mean(xs):\n    return sum(xs) / len(xs)\n"
                                   "\nprint(mean([]))\n")
    (work / "err.log").write_text(
        'Traceback (most recent call last):\n  File "stats.py", line 5, in <module>\n'
        '    print(mean([]))\n  File "stats.py", line 3, in mean\n'
        "    return sum(xs) / len(xs)\nZeroDivisionError: division by zero\n")
    diag = {"root_cause": "mean() divides by len(xs), which is 0 for an empty list.",
            "explanation": "An empty input reaches the division.", "fix": None,
            "verification_steps": ["Call mean([]) again."], "confidence": 0.8}
    fake.script([{"match": m, "api": "anthropic", "text": json.dumps(diag)}])
    r = run_cli(harness, ["review", "-t", "debug", "--error-log", "err.log", "stats.py",
                          "--fail-on", "never"], cli_env(harness, stack, tmp_path), work)
    assert r.returncode == 0, r
    assert "stats.py: root cause: mean() divides by len(xs), which is 0 for an empty list." \
        in r.stdout.splitlines(), r.stdout
    assert "  - Call mean([]) again." in r.stdout.splitlines(), r.stdout


def test_debug_run_reproduces_in_the_sandbox(harness, stack, heavy, fake, work, tmp_path):
    """--run without --error-log: the service runs the file (with its
    --run-arg arguments) in its sandbox, and the failure it saw is the one
    diagnosed."""
    m = marker()
    (work / "count.py").write_text(f"# {m}\nimport sys\nprint(len(sys.argv[1]) / int(sys.argv[2]))\n")
    diag = {"root_cause": "The second argument is 0.", "explanation": "A division by it.",
            "fix": None, "verification_steps": ["Run it with 1."], "confidence": 0.7}
    fake.script([{"match": m, "api": "anthropic", "text": json.dumps(diag)}])
    r = run_cli(harness, ["review", "-t", "debug", "--run", "python", "--run-arg", "abc",
                          "--run-arg", "0", "count.py", "--fail-on", "never"],
                cli_env(harness, stack, tmp_path), work)
    assert r.returncode == 0, r
    assert "count.py: root cause: The second argument is 0." in r.stdout.splitlines(), r.stdout
    assert "reproduced: yes, fix verified: no" in r.stdout, r.stdout
    text = request_text(fake.requests(m)[0]["body"])
    assert "ZeroDivisionError" in text, text


# ------------------------------------------------------------------- progress --

def test_plain_progress_in_a_pipe(harness, stack, fake, work, tmp_path):
    two_files(work, fake)
    r = run_cli(harness, ["review", "a.go", "b.go", "--fail-on", "never"],
                cli_env(harness, stack, tmp_path, TERM="xterm"), work)
    assert r.returncode == 0, r
    assert "\x1b" not in r.stderr and "\r" not in r.stderr, repr(r.stderr)
    lines = r.stderr.splitlines()
    for path in ("a.go", "b.go"):
        mine = [ln for ln in lines if ln.startswith(path + ": ")]
        assert mine and re.fullmatch(rf"{path}: done \(\d+\.\ds\)", mine[-1]), lines
        # One line per state change, never the same state twice in a row.
        states = [ln.split()[1] for ln in mine]
        assert all(a != b for a, b in zip(states, states[1:])), mine


def run_on_pty(harness, args, env, cwd) -> tuple[int, str, str]:
    """Runs the CLI with stderr on a pseudo-terminal (stdout a pipe);
    returns (exit status, stdout, what the terminal received)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([str(harness.binary("codeinsight")), *args], env=env, cwd=cwd,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + CLI_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if p.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:     # EIO: the child side is closed
                break
            if not data:
                break
            chunks.append(data)
        out = p.stdout.read().decode()
        rc = p.wait(timeout=CLI_TIMEOUT)
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
    return rc, out, b"".join(chunks).decode(errors="replace")


def test_live_progress_on_a_terminal(harness, stack, fake, work, tmp_path):
    ms = [marker() for _ in range(3)]
    for i, m in enumerate(ms):
        (work / f"f{i}.go").write_text(go_file(m))
        # The model takes a moment, so queued/running are drawn before done.
        script(fake, m, [model_finding(2, "minor", f"Finding {i}.")], latency_ms=600)
    rc, out, term = run_on_pty(harness, ["review", "f0.go", "f1.go", "f2.go"],
                               cli_env(harness, stack, tmp_path, TERM="xterm"), work)
    assert rc == 0, (rc, out, term)
    assert ESC + "3A" in term, repr(term[:2000])            # cursor up over 3 lines
    assert ESC + "2K" in term, repr(term[:2000])            # lines cleared and redrawn
    final = term.rsplit(ESC + "3A", 1)[-1]
    plain = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", final).replace("\r", "")
    for i in range(3):
        assert re.search(rf"f{i}\.go\s+done\s+\d+\.\ds", plain), plain
    assert "queued" in term or "running" in term, repr(term)
    assert out.splitlines() == [f"f{i}.go:2:1: minor: Finding {i}. [model:correctness] (model)"
                                for i in range(3)]

    # NO_COLOR: plain lines even on a terminal.
    rc, out, term = run_on_pty(harness, ["review", "f0.go"],
                               cli_env(harness, stack, tmp_path, TERM="xterm", NO_COLOR="1"),
                               work)
    assert rc == 0 and "\x1b" not in term, repr(term)
    assert re.search(r"f0\.go: done \(\d+\.\ds\)", term), repr(term)


def test_several_files_at_once_all_jobs_visible(harness, stack, fake, work, tmp_path):
    names = []
    for i in range(6):
        m = marker()
        names.append(f"m{i}.go")
        (work / names[-1]).write_text(go_file(m))
        script(fake, m, [model_finding(2, "major", f"Issue {i}.")], latency_ms=300)
    r = run_cli(harness, ["review", *names, "--format", "json"],
                cli_env(harness, stack, tmp_path), work)
    assert r.returncode == 1, r
    views = json.loads(r.stdout)
    assert [v["file_path"] for v in views] == names
    assert len({v["job_id"] for v in views}) == 6
    assert all(v["status"] == "done" for v in views)
    for name in names:
        assert f"{name}: queued" in r.stderr and f"{name}: done" in r.stderr, r.stderr
    assert "6 findings (6 major) in 6 files" in r.stderr


def test_a_directory_reviews_the_files_of_languages_under_it(harness, stack, fake, work,
                                                             tmp_path):
    """`review DIR`: every file under it in a language the service reviews,
    in path order, as if named; hidden entries, node_modules, links and
    other extensions left out; a file that cannot be sent skipped with a
    note, the others still reviewed."""
    src = work / "src"
    (src / "pkg").mkdir(parents=True)
    (src / ".git").mkdir()
    (src / "node_modules" / "dep").mkdir(parents=True)
    ma, mb = marker(), marker()
    (src / "main.go").write_text(go_file(ma))
    (src / "pkg" / "util.go").write_text(go_file(mb))
    script(fake, ma, [model_finding(4, "major", "In main.")])
    script(fake, mb, [model_finding(2, "minor", "In util.", "maintainability")])
    for skipped in (".git/hook.go", "node_modules/dep/index.js", "README.md", ".hidden.go"):
        (src / skipped).write_text("// never sent " + marker() + "\n")
    (src / "link.go").symlink_to("main.go")
    (src / "bin.go").write_bytes(b"package main\x00\n")
    before = job_keys(harness)

    r = run_cli(harness, ["review", "src", "--format", "json", "-q"],
                cli_env(harness, stack, tmp_path), work)
    assert r.returncode == 1, r
    views = json.loads(r.stdout)
    assert [v["file_path"] for v in views] == ["src/main.go", "src/pkg/util.go"], views
    assert all(v["status"] == "done" for v in views), views
    assert [f["message"] for v in views for f in v["findings"] if f["source"] == "model"] == \
        ["In main.", "In util."], views
    assert "note: src/bin.go: not a text file (holds a NUL byte), skipped" in r.stderr, r.stderr
    assert job_keys(harness) == before + 2
    assert fake.count("never sent") == 0, "a file left out reached the model"

    # A directory outside the working one keeps its files apart: its own
    # name, then their paths under it (not two "util.go").
    for sub in ("a", "b"):
        (tmp_path / "lib" / sub).mkdir(parents=True)
        m = marker()
        (tmp_path / "lib" / sub / "util.go").write_text(go_file(m))
        script(fake, m, [])
    r = run_cli(harness, ["review", "../lib", "--format", "json", "-q"],
                cli_env(harness, stack, tmp_path), work)
    assert r.returncode == 0, r
    assert [v["file_path"] for v in json.loads(r.stdout)] == ["lib/a/util.go", "lib/b/util.go"]

    # A file name the service would refuse (not UTF-8, a control character)
    # is skipped with a note when found, a usage error when named.
    odd = work / "odd"
    odd.mkdir()
    (odd / "ok.go").write_text(go_file(marker()))
    os.close(os.open(os.path.join(os.fsencode(odd), b"caf\xe9.go"), os.O_CREAT | os.O_WRONLY))
    (odd / "a\x01b.go").write_text("package odd\n")
    before = job_keys(harness)
    r = run_cli(harness, ["review", "odd", "-q", "--format", "json"],
                cli_env(harness, stack, tmp_path), work)
    assert r.returncode == 0, r
    assert [v["file_path"] for v in json.loads(r.stdout)] == ["odd/ok.go"], r.stdout
    assert r.stderr.count("not a file name the service takes") == 2, r.stderr
    assert job_keys(harness) == before + 1
    r = run_cli(harness, ["review", "odd/a\x01b.go"], cli_env(harness, stack, tmp_path), work)
    assert r.returncode == 2 and "not a file name the service takes" in r.stderr, r
    assert job_keys(harness) == before + 1

    # 256 files at most, however named: one more is a usage error, nothing sent.
    many = work / "many"
    many.mkdir()
    for i in range(256):
        (many / f"f{i:03}.go").write_text("package many\n")
    (work / "extra.go").write_text("package extra\n")
    for args in (["many", "extra.go"], ["extra.go", "many"]):
        r = run_cli(harness, ["review", *args], cli_env(harness, stack, tmp_path), work)
        assert r.returncode == 2, (args, r)
        assert "at most 256" in r.stderr or "more than 255" in r.stderr, (args, r.stderr)
    assert job_keys(harness) == before + 1

    # A directory with nothing to review: said, exit 0, nothing sent.
    (work / "docs").mkdir()
    (work / "docs" / "index.md").write_text("# docs\n")
    r = run_cli(harness, ["review", "docs"], cli_env(harness, stack, tmp_path), work)
    assert r.returncode == 0, r
    assert "docs: no file in a language the service reviews" in r.stderr, r.stderr
    assert "nothing to review" in r.stderr, r.stderr
    assert job_keys(harness) == before + 1


def test_rate_limited_submissions_wait_for_retry_after(harness, stack, fake, work, tmp_path):
    """A lite user (10 submissions at once, then one per 3 s) reviews 12
    files through a gateway at the plans' real rates: the ones refused with
    429 are sent again after Retry-After, and every file is reviewed."""
    _, _, key = harness.new_user(plan="lite", tag="cli429")
    gw = harness.start_gateway(anthropic_env(fake), default=False)
    names = []
    for i in range(12):
        names.append(f"r{i}.go")
        (work / names[-1]).write_text(go_file(marker()))
    r = run_cli(harness, ["review", *names, "--format", "json", "-q"],
                cli_env(harness, stack, tmp_path, key=key, url=f"http://127.0.0.1:{gw.port}"),
                work)
    assert r.returncode == 0, r
    views = json.loads(r.stdout)
    assert [v["file_path"] for v in views] == names
    assert all(v["status"] == "done" for v in views), views
    posts = [e for e in gw.events("http_request", method="POST", path="/review")]
    assert sum(e["status"] == 429 for e in posts) >= 2, posts
    assert sum(e["status"] == 202 for e in posts) == 12, posts


# ------------------------------------------------------- conditional polls --

def job_polls(harness) -> dict:
    """The gateway's answers to GET /job/:id so far, by status."""
    status, _, text = harness.http("GET", "/metrics", auth=None)
    assert status == 200, text
    counts: dict = {}
    for m in re.finditer(r"^codeinsight_http_requests_total\{([^}]*)\} (\S+)$", text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if labels.get("route") == "/job/:id" and labels.get("method") == "GET":
            counts[labels["status"]] = counts.get(labels["status"], 0) + float(m.group(2))
    return counts


def test_polls_are_conditional(harness, stack, fake, work, tmp_path):
    """The CLI sends each job's last ETag back as If-None-Match: while the
    model takes its time, the gateway answers the polls of the unchanged
    running job 304 without a body, and the CLI goes on polling (its
    interval growing as after an unchanged view) and prints exactly what
    the finished job holds. Before, every poll downloaded the whole view:
    no 304 was served."""
    m = marker()
    (work / "slow.go").write_text(go_file(m))
    script(fake, m, [model_finding(4, "major", "Slow finding.")], latency_ms=4000)
    before = job_polls(harness)
    r = run_cli(harness, ["review", "slow.go"], cli_env(harness, stack, tmp_path), work)
    after = job_polls(harness)
    assert r.returncode == 1, r
    assert r.stdout.splitlines() == [
        "slow.go:4:1: major: Slow finding. [model:correctness] (model)"], r.stdout
    assert "1 finding (1 major) in 1 file" in r.stderr, r.stderr
    served = {k: after.get(k, 0) - before.get(k, 0) for k in ("200", "304")}
    # Polls at 0.2, 0.5, 0.95, 1.6, 2.6 and 4.1 s at least: queued, then
    # running (each once, 200), then 304s until the job is done (200).
    assert served["304"] >= 2, (served, before, after)
    assert served["200"] <= 3, (served, before, after)


def conditional_job(view_running: dict, view_done: dict, seen: list):
    """GET /job/ID of a job that runs for four polls: the first is answered
    with a tag, the next two 304 when they send it back, the fourth with
    the view again but no tag (an older server), the fifth done. seen gets
    each poll's If-None-Match (None without)."""
    def answer(req):
        tag = req.headers.get("If-None-Match")
        seen.append(tag)
        n = len(seen)
        if n <= 3:
            if tag == '"r1"':
                return 304, None, 0, {"ETag": '"r1"'}
            return 200, view_running, 0, {"ETag": '"r1"'}
        if n == 4:
            return 200, view_running, 0
        return 200, view_done, 0, {"ETag": '"d1"'}
    return answer


def test_a_304_keeps_the_last_view(harness, work, tmp_path):
    """Against a stand-in server: each poll after a tagged view sends the
    tag, a 304 without a body is neither an error nor an empty view (the
    view kept is the last 200's), and after a view without a tag the next
    poll is a plain one. The result is the done view's, in text and JSON."""
    running = {"job_id": DONE_ID, "status": "running", "type": "review", "file_path": "a.go"}
    done = DONE_ROUTES[("GET", f"/job/{DONE_ID}")][1]
    (work / "a.go").write_text(go_file(marker()))
    for args, check in ((["review", "a.go"],
                         lambda out: out == "a.go:1:1: major: Boom. (model)\n"),
                        (["review", "a.go", "--format", "json", "-q"],
                         lambda out: json.loads(out) == [done])):
        seen: list = []
        routes = {("POST", "/review"): DONE_ROUTES[("POST", "/review")],
                  ("GET", f"/job/{DONE_ID}"): conditional_job(running, done, seen)}
        with fake_api(routes) as url:
            env = cli_env(harness, None, tmp_path, key="ci_live_" + "f" * 32, url=url)
            r = run_cli(harness, args, env, work)
        assert r.returncode == 1, (args, r)
        assert check(r.stdout), (args, r.stdout)
        assert seen == [None, '"r1"', '"r1"', '"r1"', None], (args, seen)


# ------------------------------------------------------- --no-wait, job ID --

def test_no_wait_then_job_wait(harness, stack, fake, work, tmp_path):
    m = marker()
    (work / "a.go").write_text(go_file(m))
    script(fake, m, [model_finding(5, "critical", "Data race.")], latency_ms=300)
    env = cli_env(harness, stack, tmp_path)
    r = run_cli(harness, ["review", "a.go", "--no-wait"], env, work)
    assert r.returncode == 0, r
    job_id, path = r.stdout.strip().split("\t")
    assert UUID7_RE.match(job_id) and path == "a.go", r.stdout

    r = run_cli(harness, ["job", job_id, "--wait"], env, work)
    assert r.returncode == 1, r
    assert r.stdout.splitlines() == ["a.go:5:1: critical: Data race. [model:correctness] (model)"]

    r = run_cli(harness, ["job", job_id, "--format", "json", "--fail-on", "never"], env, work)
    assert r.returncode == 0, r
    view = json.loads(r.stdout)[0]
    assert view["job_id"] == job_id and view["status"] == "done"


def test_cancel_a_running_job_then_a_finished_one(harness, stack, fake, work, tmp_path):
    """codeinsight cancel: a running job is being cancelled (its worker stops
    the model call), `job --wait` then reports it cancelled (exit 3); asked
    again it is cancelled; a finished job cannot be (exit 3, said why), and
    the other ids named with it are still cancelled."""
    m = marker()
    (work / "slow.go").write_text(go_file(m))
    (work / "quick.go").write_text(go_file(marker()))
    script(fake, m, [], latency_ms=60_000)
    env = cli_env(harness, stack, tmp_path)
    r = run_cli(harness, ["review", "slow.go", "--no-wait"], env, work)
    assert r.returncode == 0, r
    slow = r.stdout.split("\t")[0]
    wait_until(lambda: harness.get_job(slow)[1].get("status") == "running", timeout=30,
               desc="the job running")
    # Without --wait, `job` says where it is (exit 0); its view as JSON; a
    # SARIF document needs the end (exit 3, and how to get it).
    r = run_cli(harness, ["job", slow], env, work)
    assert r.returncode == 0 and r.stdout == "", r
    assert r.stderr.splitlines()[-1] == f"{slow}: running", r.stderr
    r = run_cli(harness, ["job", slow, "--format", "json"], env, work)
    assert r.returncode == 0 and json.loads(r.stdout)[0]["status"] == "running", r
    r = run_cli(harness, ["job", slow, "--format", "sarif"], env, work)
    assert r.returncode == 3 and r.stdout == "", r
    assert "the job has not finished; add --wait" in r.stderr, r.stderr

    r = run_cli(harness, ["cancel", slow], env, work)
    assert r.returncode == 0, r
    assert r.stdout == f"{slow}\tcancelling\n", r.stdout
    r = run_cli(harness, ["job", slow, "--wait", "--timeout", "30"], env, work)
    assert r.returncode == 3, r
    assert "job cancelled by its owner" in r.stderr, r.stderr
    assert harness.get_job(slow)[1]["status"] == "cancelled"

    r = run_cli(harness, ["review", "quick.go"], env, work)
    assert r.returncode == 0, r
    quick = [j for j in harness.http("GET", "/jobs?limit=5")[2]["jobs"]
             if j["file_path"] == "quick.go"][0]["job_id"]
    r = run_cli(harness, ["cancel", quick, slow], env, work)
    assert r.returncode == 3, r
    assert f"codeinsight: {quick}: job_finished: the job is done" in r.stderr, r.stderr
    assert r.stdout == f"{slow}\tcancelled\n", r.stdout


# ------------------------------------------------------------- SARIF, rdjson --

def server_format(harness, job_id: str, fmt: str):
    status, _, body = harness.http("GET", f"/job/{job_id}?format={fmt}")
    return body if status == 200 and isinstance(body, dict) else None


def assert_schema_valid(schema: str, doc) -> None:
    """The official schema, copied under tests/fixtures by the branch that
    added the server formats (present wherever the server serves them)."""
    import jsonschema
    path = REPO_ROOT / "tests" / "fixtures" / schema
    assert path.is_file(), f"{path} missing: the server formats come with it"
    validator = jsonschema.Draft4Validator(json.loads(path.read_text()))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def rcache_names(harness, job_id: str) -> bool:
    """Whether a result-cache entry names job_id (the worker writes it just
    after publishing the job)."""
    keys = [k for k in harness.redis_cli("--scan", "--pattern", "rcache:*").splitlines() if k]
    return any(harness.redis_cli("GET", k).startswith(job_id + " ") for k in keys)


def review_json(harness, env, work, *args) -> dict:
    r = run_cli(harness, ["review", "c.go", "--format", "json", "-q", *args], env, work)
    assert r.returncode == 1, (r.returncode, r.stderr)
    [view] = json.loads(r.stdout)
    assert view["status"] == "done", view
    return view


def test_no_cache_asks_for_a_fresh_review(harness, stack, fake, work, tmp_path):
    m = marker()
    (work / "c.go").write_text(go_file(m))
    script(fake, m, [model_finding(4, "major", "Shadowed variable.")])
    env = cli_env(harness, stack, tmp_path)
    first = review_json(harness, env, work)
    wait_until(lambda: rcache_names(harness, first["job_id"]), 10, 0.05,
               desc="the result-cache entry")
    assert review_json(harness, env, work)["job_id"] == first["job_id"], "the cached answer"
    fresh = review_json(harness, env, work, "--no-cache")
    assert fresh["job_id"] != first["job_id"], "--no-cache queued a new job"
    assert [f["line"] for f in fresh["findings"]] == [4], fresh["findings"]
    # Its result is the one cached from then on.
    wait_until(lambda: rcache_names(harness, fresh["job_id"]), 10, 0.05,
               desc="the entry names the fresh job")
    assert review_json(harness, env, work)["job_id"] == fresh["job_id"]


def test_sarif_of_another_users_cached_answer_is_the_users_own(harness, stack, fake_server, fake,
                                                                work, tmp_path):
    """With a result cache shared by an organisation, an identical file
    another user reviewed is answered with a job of this user's own, a copy
    of the result (docs/admission.md, "Result cache"): its SARIF log is
    printed without a second review (before the gateway made copies, the
    other user's job answered 404 and the CLI reviewed the file again,
    fresh, which it still does against such a gateway)."""
    shared = harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                    "CODEINSIGHT_RESULT_CACHE_SHARED": "1",
                                    **anthropic_env(fake_server)})
    m = marker()
    (work / "c.go").write_text(go_file(m))
    script(fake, m, [model_finding(4, "major", "Shadowed variable.")])
    _, _, key_a = harness.new_user(plan="pro", tag="cli-a")
    _, user_b, key_b = harness.new_user(plan="pro", tag="cli-b")
    url = f"http://127.0.0.1:{shared.port}"
    owner = review_json(harness, cli_env(harness, stack, tmp_path, key=key_a, url=url), work)
    wait_until(lambda: rcache_names(harness, owner["job_id"]), 10, 0.05,
               desc="the shared result-cache entry")

    env_b = cli_env(harness, stack, tmp_path, key=key_b, url=url)
    r = run_cli(harness, ["review", "c.go", "--format", "sarif", "-q"], env_b, work)
    assert r.returncode == 1, (r.returncode, r.stderr)
    log = json.loads(r.stdout)
    assert_schema_valid("sarif/sarif-schema-2.1.0.json", log)
    [result] = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 4, result
    # The log is of user B's own job, not A's.
    status, _, jobs = harness.http("GET", "/jobs", auth=key_b, gateway=shared)
    assert status == 200 and len(jobs["jobs"]) == 1, jobs
    assert jobs["jobs"][0]["job_id"] != owner["job_id"]
    assert jobs["jobs"][0]["user_id"] == user_b
    # A copy (no worker ran it), not a second review.
    assert (jobs["jobs"][0]["attempts"], jobs["jobs"][0]["worker"]) == (0, None), jobs


def test_sarif_and_rdjson_merged(harness, stack, fake, work, tmp_path):
    two_files(work, fake)
    env = cli_env(harness, stack, tmp_path)
    r = run_cli(harness, ["review", "a.go", "b.go", "--format", "json", "-q"], env, work)
    views = json.loads(r.stdout)
    probe = server_format(harness, views[0]["job_id"], "sarif")
    assert probe is not None and "runs" in probe, probe

    r = run_cli(harness, ["review", "a.go", "b.go", "--format", "sarif", "-q"], env, work)
    assert r.returncode == 1, r
    log = json.loads(r.stdout)
    assert_schema_valid("sarif/sarif-schema-2.1.0.json", log)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1, log
    run = log["runs"][0]
    assert len(run["results"]) == 3, run["results"]
    rules = run["tool"]["driver"].get("rules", [])
    for res in run["results"]:
        if "ruleIndex" in res:
            assert rules[res["ruleIndex"]]["id"] == res["ruleId"], (res, rules)
    uris = sorted(loc["physicalLocation"]["artifactLocation"]["uri"]
                  for res in run["results"] for loc in res["locations"])
    assert uris == ["a.go", "a.go", "b.go"], uris

    r = run_cli(harness, ["review", "a.go", "b.go", "--format", "rdjson", "-q"], env, work)
    assert r.returncode == 1, r
    doc = json.loads(r.stdout)
    assert_schema_valid("rdjson/DiagnosticResult.json", doc)
    assert sorted((d["location"]["path"], d["location"]["range"]["start"]["line"])
                  for d in doc["diagnostics"]) == [("a.go", 3), ("a.go", 4), ("b.go", 2)]


# ------------------------------------------------------------ whoami, usage --

def test_whoami_and_usage(harness, stack, work, tmp_path):
    env = cli_env(harness, stack, tmp_path)
    r = run_cli(harness, ["whoami"], env, work)
    assert r.returncode == 0, r
    assert re.search(rf"^email:\s+{re.escape(harness.default_email)}$", r.stdout, re.M), r.stdout
    assert re.search(r"^plan:\s+business$", r.stdout, re.M), r.stdout
    assert not re.search(r"^role:", r.stdout, re.M), r.stdout
    assert harness.default_key not in r.stdout + r.stderr
    r = run_cli(harness, ["whoami"], cli_env(harness, stack, tmp_path, key=harness.operator_key()),
                work)
    assert r.returncode == 0, r
    assert re.search(r"^role:\s+operator \(may read GET /stats\)$", r.stdout, re.M), r.stdout
    r = run_cli(harness, ["whoami", "--json"], env, work)
    assert r.returncode == 0 and json.loads(r.stdout)["email"] == harness.default_email

    r = run_cli(harness, ["usage"], env, work)
    assert r.returncode == 0, r
    assert re.search(r"^month:\s+\d{4}-\d{2}$", r.stdout, re.M), r.stdout
    assert re.search(r"^tokens:\s+\d+$", r.stdout, re.M), r.stdout
    r = run_cli(harness, ["usage", "--json"], env, work)
    assert r.returncode == 0 and "tokens" in json.loads(r.stdout), r


# ---------------------------------------------------------------------- login --

def config_file(tmp: Path) -> Path:
    return tmp / "xdg" / "codeinsight" / "config"


def test_login_with_a_key_from_stdin_writes_0600(harness, stack, work, tmp_path):
    url = f"http://127.0.0.1:{stack.port}"
    email, _, key = harness.new_user(tag="cli")
    env = cli_env(harness, stack, tmp_path, key="", url="")
    r = run_cli(harness, ["login"], env, work, stdin=f"{url}\n{key}\n")
    assert r.returncode == 0, r
    assert key not in r.stdout + r.stderr
    assert email in r.stderr, r.stderr
    cfg = config_file(tmp_path)
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert stat.S_IMODE(cfg.parent.stat().st_mode) == 0o700
    text = cfg.read_text()
    assert f"url = {url}\n" in text and f"api_key = {key}\n" in text, "config file content"

    # The stored key is used when nothing else is configured.
    r = run_cli(harness, ["whoami"], env, work)
    assert r.returncode == 0 and email in r.stdout, r
    # ...but never sent to another server.
    other = f"http://127.0.0.1:{free_port()}"
    r = run_cli(harness, ["whoami", "--url", other], env, work)
    assert r.returncode == 2 and "no API key" in r.stderr, r

    # Readable or writable by others: refused.
    cfg.chmod(0o644)
    r = run_cli(harness, ["whoami"], env, work)
    assert r.returncode == 2 and f"readable by other users; not used (chmod 600 {cfg})" \
        in r.stderr, r
    cfg.chmod(0o666)
    r = run_cli(harness, ["whoami"], env, work)
    assert r.returncode == 2 and "can be changed by other users" in r.stderr, r
    # ...unless it is not needed: a URL and a key from the environment (a
    # note), or login, which replaces it (mode 600 again).
    r = run_cli(harness, ["whoami"], {**env, "CODEINSIGHT_URL": url, "CODEINSIGHT_API_KEY": key},
                work)
    assert r.returncode == 0 and email in r.stdout, r
    assert "note: " in r.stderr and "can be changed by other users" in r.stderr, r
    r = run_cli(harness, ["login"], env, work, stdin=f"{url}\n{key}\n")
    assert r.returncode == 0, r
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    r = run_cli(harness, ["whoami"], env, work)
    assert r.returncode == 0 and email in r.stdout, r

    # A wrong key is refused before anything is written.
    cfg.unlink()
    r = run_cli(harness, ["login", "--url", url], env, work, stdin="ci_live_" + "y" * 32 + "\n")
    assert r.returncode == 3 and "invalid_api_key" in r.stderr, r
    assert not cfg.exists()


def test_login_with_email_and_password_mints_a_key(harness, stack, work, tmp_path):
    password = "pw-" + secrets.token_urlsafe(16)
    email, _, _ = harness.new_user(tag="clipw", password=password)
    url = f"http://127.0.0.1:{stack.port}"
    env = cli_env(harness, stack, tmp_path, key="", url="")
    r = run_cli(harness, ["login", "--url", url], env, work, stdin=f"\n{email}\n{password}\n")
    assert r.returncode == 0, r
    text = config_file(tmp_path).read_text()
    m = re.search(r"^api_key = (ci_live_[A-Za-z0-9]{32})$", text, re.M)
    assert m, "no API key stored"
    harness.remember(m.group(1))
    assert password not in text
    assert m.group(1) not in r.stdout + r.stderr and password not in r.stdout + r.stderr
    r = run_cli(harness, ["whoami"], env, work)
    assert r.returncode == 0 and email in r.stdout, r

    r = run_cli(harness, ["login", "--url", url], env, work, stdin=f"\n{email}\nwrong\n")
    assert r.returncode == 3 and "invalid_credentials" in r.stderr, r


def test_login_on_a_terminal_does_not_echo_the_key(harness, stack, work, tmp_path):
    email, _, key = harness.new_user(tag="clitty")
    url = f"http://127.0.0.1:{stack.port}"
    env = cli_env(harness, stack, tmp_path, key="", url="")
    master, slave = pty.openpty()
    p = subprocess.Popen([str(harness.binary("codeinsight")), "login"], env=env, cwd=work,
                         stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    seen = b""

    def read_until(needle: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 20
        while needle not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    return
        assert needle in seen, seen

    try:
        read_until(b"Service URL")
        os.write(master, f"{url}\n".encode())
        read_until(b"API key")
        os.write(master, f"{key}\n".encode())
        read_until(b"Logged in")
        assert p.wait(timeout=CLI_TIMEOUT) == 0
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
    assert key.encode() not in seen, "the key was echoed"
    assert url.encode() in seen, "the URL is echoed as typed"
    assert stat.S_IMODE(config_file(tmp_path).stat().st_mode) == 0o600


# ----------------------------------------------------------------------- diff --

def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, timeout=30,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                               "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1"}).stdout


def git_base(repo, files: dict) -> None:
    """A git repository in repo whose one commit holds files (path: text or
    bytes)."""
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "e2e@example.com")
    git(repo, "config", "user.name", "e2e")
    for path, content in files.items():
        if isinstance(content, bytes):
            (repo / path).write_bytes(content)
        else:
            (repo / path).write_text(content)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")


def test_git_diff_piped_reviews_only_changed_files(harness, stack, fake, work, tmp_path):
    repo = work
    m_changed, m_same = marker(), marker()
    git_base(repo, {"changed.go": go_file(m_changed, 10), "same.go": go_file(m_same),
                    "gone.go": go_file(marker()), "logo.bin": b"\x00\x01\x02"})
    text = (repo / "changed.go").read_text().replace("var v5 = 5", "var v5 = 55")
    (repo / "changed.go").write_text(text)
    (repo / "gone.go").unlink()
    (repo / "logo.bin").write_bytes(b"\x00\x01\x03")
    # Nothing like gone.go, or git would show a rename.
    m_new = marker()
    (repo / "new.go").write_text(f"// {m_new}\npackage other\n\nfunc f() int {{ return 1 }}\n")
    git(repo, "add", "-N", "new.go")
    diff = git(repo, "diff")
    script(fake, m_changed, [model_finding(9, "major", "Magic number.")])
    script(fake, m_new, [], "Fine.")

    r = run_cli(harness, ["review", "--diff", "-", "--format", "json"],
                cli_env(harness, stack, tmp_path), repo, stdin=diff)
    assert r.returncode == 1, r
    views = json.loads(r.stdout)
    assert sorted(v["file_path"] for v in views) == ["changed.go", "new.go"], views
    assert "gone.go: deleted, skipped" in r.stderr, r.stderr
    assert "logo.bin: binary, skipped" in r.stderr, r.stderr
    assert fake.count(m_same) == 0, "an unchanged file was sent"

    # FILE arguments pick their own sections; a file not in the diff is skipped.
    r = run_cli(harness, ["review", "--diff", "-", "changed.go", "same.go"],
                cli_env(harness, stack, tmp_path), repo, stdin=diff)
    assert r.returncode == 1, r
    assert r.stdout.splitlines() == \
        ["changed.go:9:1: major: Magic number. [model:correctness] (model)"], r.stdout
    assert "same.go: not in the diff, skipped" in r.stderr, r.stderr

    # A malformed diff is a usage error.
    r = run_cli(harness, ["review", "--diff", "-"], cli_env(harness, stack, tmp_path), repo,
                stdin="@@ -1,3 +1,3 @@\n garbage\n")
    assert r.returncode == 2 and "--diff: line" in r.stderr, r


def test_git_diff_server_keeps_findings_on_changed_lines(harness, stack, fake, work, tmp_path):
    """With the gateway's diff support: the section sent for a file is what
    the findings are filtered by (default `added`; --filter passes through)."""
    repo = work
    m = marker()
    git_base(repo, {"svc.go": go_file(m, 10)})
    (repo / "svc.go").write_text(go_file(m, 10).replace("var v5 = 5", "var v5 = 55"))
    diff = git(repo, "diff")
    fake.script([{"match": m, "api": "anthropic", "times": 2,
                  "text": answer([model_finding(9, "major", "Magic number."),
                                  model_finding(4, "minor", "Old line.")])}])
    env = cli_env(harness, stack, tmp_path)
    r = run_cli(harness, ["review", "--diff", "-", "--format", "json", "-q"], env, repo,
                stdin=diff)
    views = json.loads(r.stdout) if r.stdout.startswith("[") else []
    assert r.returncode == 1, r
    view = views[0]
    assert view["filter"] == "added" and view["changed_ranges"] == [[9, 9]], view
    assert view["filtered_out"] == 1, view
    assert [(f["line"], f["message"]) for f in view["findings"]] == [(9, "Magic number.")]

    r = run_cli(harness, ["review", "--diff", "-", "--filter", "nofilter"], env, repo,
                stdin=diff)
    assert r.returncode == 1, r
    assert r.stdout.splitlines() == [
        "svc.go:4:1: minor: Old line. [model:correctness] (model)",
        "svc.go:9:1: major: Magic number. [model:correctness] (model)"], r.stdout


def test_diff_reads_nothing_outside_the_working_tree(harness, stack, fake, work, tmp_path):
    """A diff may be someone else's (a pull request): a file it chooses that
    is a symbolic link (in the diff or in the tree), or whose path is
    absolute or climbs out with '..', is skipped with a note and never read;
    the plain file beside them is still reviewed."""
    repo = work
    m, m_secret = marker(), marker()
    secret = tmp_path / "home" / ".ssh" / "id_rsa"
    secret.parent.mkdir(parents=True)
    secret.write_text(f"-----BEGIN OPENSSH PRIVATE KEY----- {m_secret}\n")
    git_base(repo, {"svc.go": go_file(m, 10)})
    (repo / "svc.go").write_text(go_file(m, 10).replace("var v5 = 5", "var v5 = 55"))
    (repo / "innocent.txt").symlink_to(secret)
    git(repo, "add", "-A")
    diff = git(repo, "diff", "--cached")
    assert "new file mode 120000" in diff, diff
    # Hand-written sections: '..', an absolute path, and a link in the tree
    # that the diff does not mark as one.
    (repo / "notes.txt").symlink_to(secret)
    up = os.path.relpath(secret, repo)
    assert up.startswith("../"), up
    diff += (f"--- a/{up}\n+++ b/{up}\n@@ -1 +1 @@\n-x\n+y\n"
             f"--- {secret}\n+++ {secret}\n@@ -1 +1 @@\n-x\n+y\n"
             "diff --git a/notes.txt b/notes.txt\n--- a/notes.txt\n+++ b/notes.txt\n"
             "@@ -1 +1 @@\n-x\n+y\n")
    script(fake, m, [model_finding(9, "major", "Magic number.")])

    r = run_cli(harness, ["review", "--diff", "-", "--format", "json"],
                cli_env(harness, stack, tmp_path), repo, stdin=diff)
    assert r.returncode == 1, r
    assert [v["file_path"] for v in json.loads(r.stdout)] == ["svc.go"], r.stdout
    for note in ("innocent.txt: a symbolic link, skipped",
                 f"{up}: not a plain relative path",
                 f"{secret}: not a plain relative path",
                 "notes.txt: a symbolic link in the working tree, skipped"):
        assert f"codeinsight: note: {note}" in r.stderr, (note, r.stderr)
    assert fake.count(m_secret) == 0, "a file outside the working tree was sent"


# ------------------------------------------------------ the service's words --

# A window title (OSC ... BEL), clearing the screen, and CSI as a C1 control.
EVIL = "\x1b]0;pwned\x07\x1b[2J\u009b"
EVIL_SHOWN = "?]0;pwned??[2J?"


def assert_no_escape_codes(text: str) -> None:
    bad = [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f]
    assert not bad, repr(text)


def test_server_text_reaches_the_terminal_without_escape_codes(harness, work, tmp_path):
    """A job view's root cause, fix, findings and path, and a problem's
    detail, are the service's (or the model's) words: they are printed with
    a visible '?' for every control character, never as escape codes."""
    job_id = "01939d7e-0000-7000-8000-0000000000e5"
    view = {"job_id": job_id, "status": "done", "type": "debug", "file_path": f"app{EVIL}.py",
            "root_cause": f"{EVIL}boom", "explanation": f"why {EVIL}", "fix": f"x = 1\n{EVIL}\n",
            "verification_steps": [EVIL],
            "findings": [{"line": 1, "severity": "minor", "message": EVIL, "source": "model"}]}

    def problem(status, code):
        return {"type": "about:blank", "title": "No", "status": status, "code": code,
                "detail": f"says {EVIL}"}
    routes = {("GET", f"/job/{job_id}"): (200, view, 0),
              ("GET", "/whoami"): (401, problem(401, "invalid_api_key"), 0),
              ("POST", "/review"): (422, problem(422, f"invalid{EVIL}"), 0),
              ("DELETE", f"/job/{job_id}"): (200, {**view, "status": f"cancelled{EVIL}"}, 0)}
    (work / "a.go").write_text(go_file(marker()))
    with fake_api(routes) as url:
        env = cli_env(harness, None, tmp_path, key="ci_live_" + "f" * 32, url=url)
        r = run_cli(harness, ["job", job_id, "--fail-on", "never"], env, work)
        assert r.returncode == 0, r
        assert f"app{EVIL_SHOWN}.py:1:1: minor: {EVIL_SHOWN} (model)" in r.stdout.splitlines()
        assert f"app{EVIL_SHOWN}.py: root cause: {EVIL_SHOWN}boom" in r.stdout.splitlines()
        assert f"fix:\nx = 1\n{EVIL_SHOWN}\n" in r.stdout, r.stdout
        assert f"app{EVIL_SHOWN}.py: done" in r.stderr, r.stderr
        assert_no_escape_codes(r.stdout)
        assert_no_escape_codes(r.stderr)

        r = run_cli(harness, ["whoami"], env, work)
        assert r.returncode == 3, r
        assert f"invalid_api_key: says {EVIL_SHOWN} (HTTP 401)" in r.stderr, r.stderr
        assert_no_escape_codes(r.stderr)

        r = run_cli(harness, ["review", "a.go"], env, work)
        assert r.returncode == 3, r
        assert f"a.go: invalid{EVIL_SHOWN}: says {EVIL_SHOWN} (HTTP 422)" in r.stderr, r.stderr
        assert_no_escape_codes(r.stderr)

        # cancel says its own word, not the server's.
        r = run_cli(harness, ["cancel", job_id], env, work)
        assert r.returncode == 0, r
        assert r.stdout == f"{job_id}\tcancelled\n", r.stdout


# -------------------------------------------------------------------- timeout --

def test_timeout_cuts_a_request_the_server_holds(harness, work, tmp_path):
    """--timeout bounds the whole run, a request in flight included: a
    server that accepts the review and then never answers its poll (or never
    answers the submission) lets --timeout 2 end in seconds with exit 3, not
    after the 60 s a request may otherwise take."""
    job_id = "01939d7e-0000-7000-8000-0000000000f1"
    (work / "a.go").write_text(go_file(marker()))
    hangs = {
        "poll": {("POST", "/review"): (202, {"job_id": job_id, "status": "queued"}, 0),
                 ("GET", "/job/"): (200, {"job_id": job_id, "status": "queued"}, 120)},
        "submission": {("POST", "/review"): (202, {"job_id": job_id, "status": "queued"}, 120)},
    }
    for what, routes in hangs.items():
        with fake_api(routes) as url:
            env = cli_env(harness, None, tmp_path, key="ci_live_" + "f" * 32, url=url)
            start = time.monotonic()
            try:
                r = subprocess.run([str(harness.binary("codeinsight")), "review", "a.go",
                                    "--timeout", "2"], env=env, cwd=work, capture_output=True,
                                   text=True, timeout=15)
            except subprocess.TimeoutExpired:
                pytest.fail(f"a held {what}: --timeout 2 still running after 15 s")
            took = time.monotonic() - start
        assert r.returncode == 3, (what, r)
        assert 1.5 <= took < 8, (what, took)
        assert "a.go: still" in r.stderr and "after the --timeout" in r.stderr, (what, r.stderr)


# ------------------------------------------------ closed standard descriptors --

DONE_ID = "01939d7e-0000-7000-8000-0000000000d1"
DONE_ROUTES = {
    ("POST", "/review"): (202, {"job_id": DONE_ID, "status": "queued"}, 0),
    ("GET", f"/job/{DONE_ID}"): (200, {"job_id": DONE_ID, "status": "done", "type": "review",
                                       "file_path": "a.go",
                                       "findings": [{"line": 1, "severity": "major",
                                                     "message": "Boom.", "source": "model"}]}, 0),
}


def test_closed_std_descriptors_are_not_reused(harness, work, tmp_path):
    """Started with stdin, stdout or stderr closed, the CLI neither aborts
    (libuv asserts on closing a descriptor <= 2) nor writes into a socket or
    file that took the free number: each closed one is /dev/null. A closed
    stdout still cannot take the results: exit 3, said once on stderr."""
    (work / "a.go").write_text(go_file(marker()))
    with fake_api(DONE_ROUTES) as url:
        env = cli_env(harness, None, tmp_path, key="ci_live_" + "f" * 32, url=url)
        for closed, rc in (((0,), 1), ((1,), 3), ((2,), 1), ((0, 1, 2), 3)):
            def close(fds=closed):
                for fd in fds:
                    os.close(fd)
            r = subprocess.run([str(harness.binary("codeinsight")), "review", "a.go"], env=env,
                               cwd=work, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, preexec_fn=close, timeout=CLI_TIMEOUT)
            assert r.returncode == rc, (closed, r)
            if 1 not in closed:
                assert r.stdout == "a.go:1:1: major: Boom. (model)\n", (closed, r)
            if 2 not in closed:
                assert "Assertion" not in r.stderr, (closed, r.stderr)
            if closed == (1,):
                assert len(re.findall(r"^codeinsight: cannot write", r.stderr, re.M)) == 1, r
    assert (work / "a.go").read_text().startswith("// cli"), "the reviewed file was written"


# ------------------------------------------------------- the service's job id --

def test_a_job_id_that_is_not_a_uuid_is_refused(harness, work, tmp_path):
    """The service's job ids are UUIDs: anything else in a 202 or 200 (a
    path, an escape code) is not used to build a URL nor printed: exit 3."""
    (work / "a.go").write_text(go_file(marker()))
    for status, job_id in ((202, "../../whoami"), (200, "x\x1b[2Jy"), (202, ""), (202, None)):
        routes = {("POST", "/review"): (status, {"job_id": job_id, "status": "queued"}, 0),
                  ("GET", "/"): (200, {"email": "x@example.com"}, 0)}
        with fake_api(routes) as url:
            env = cli_env(harness, None, tmp_path, key="ci_live_" + "f" * 32, url=url)
            r = run_cli(harness, ["review", "a.go", "--format", "json"], env, work)
        assert r.returncode == 3, (job_id, r)
        assert "a.go: the service answered a job id that is not a UUID" in r.stderr, r.stderr
        assert "\x1b" not in r.stderr + r.stdout, repr(r.stderr)


# ------------------------------------------------------------ the body limit --

def test_the_body_limit_counts_json_escaping(harness, stack, fake, work, tmp_path):
    """A file under 1 MiB whose JSON-escaped content is over it (quotes and
    backslashes take two bytes, control characters six) would be refused by
    the service (413): it is a usage error, exit 2, and nothing is sent."""
    env = cli_env(harness, stack, tmp_path)
    m = marker()
    (work / "quotes.go").write_text(f"// {m}\n" + 'var s = "' + '\\"' * 300_000 + '"\n')
    (work / "ctl.go").write_text(f"// {m}\n" + "\x01" * 200_000 + "\n")
    (work / "fits.go").write_text(f"// {m}\n" + "x" * 1_000_000 + "\n")
    assert (work / "quotes.go").stat().st_size < 1024 * 1024
    before = job_keys(harness)
    for name in ("quotes.go", "ctl.go"):
        r = run_cli(harness, ["review", "fits.go", name], env, work)
        assert r.returncode == 2, (name, r)
        assert re.search(rf"^codeinsight: {name}: the request would be \d+ bytes, over the "
                         r"service's limit of 1048576 bytes$", r.stderr, re.M), r.stderr
    assert job_keys(harness) == before, "a file over the body limit was sent"


# --------------------------------------------------------------- not UTF-8 --

def test_a_file_that_is_not_utf8_is_refused(harness, stack, work, tmp_path):
    """The service refuses text that is not UTF-8: the CLI says which file,
    and where, before sending anything (exit 2)."""
    env = cli_env(harness, stack, tmp_path)
    (work / "ok.go").write_text(go_file(marker()))
    (work / "latin1.go").write_bytes(b"// caf\xe9\npackage main\n")
    before = job_keys(harness)
    r = run_cli(harness, ["review", "ok.go", "latin1.go"], env, work)
    assert r.returncode == 2, r
    assert "codeinsight: latin1.go: not UTF-8 text (byte 7)" in r.stderr, r.stderr
    (work / "err.log").write_bytes(b"Traceback\n\xff\n")
    r = run_cli(harness, ["review", "-t", "debug", "--error-log", "err.log", "ok.go"], env, work)
    assert r.returncode == 2 and "err.log: not UTF-8 text (byte 11)" in r.stderr, r
    assert job_keys(harness) == before, "a file that is not UTF-8 was sent"


# -------------------------------------------- failed jobs in SARIF and rdjson --

def test_a_job_that_failed_is_not_a_clean_sarif_log(harness, work, tmp_path):
    """A job the service refused (or that failed without a log of its own)
    must not turn into an empty, clean-looking SARIF log: the run's
    invocation says executionSuccessful false with the reason, and the exit
    status is 3; rdjson, which cannot say so, exits 3 with the reason."""
    import jsonschema
    schema = json.loads((REPO_ROOT / "tests" / "fixtures" / "sarif" /
                         "sarif-schema-2.1.0.json").read_text())
    (work / "a.go").write_text(go_file(marker()))
    problem = {"type": "about:blank", "title": "No", "status": 422,
               "code": "invalid_field_value", "detail": "file_content is empty"}
    with fake_api({("POST", "/review"): (422, problem, 0)}) as url:
        env = cli_env(harness, None, tmp_path, key="ci_live_" + "f" * 32, url=url)
        r = run_cli(harness, ["review", "a.go", "--format", "sarif", "-q"], env, work)
        assert r.returncode == 3, r
        log = json.loads(r.stdout)
        jsonschema.Draft4Validator(schema).validate(log)
        run = log["runs"][0]
        assert run["results"] == [], run
        inv = run["invocations"]
        assert len(inv) == 1 and inv[0]["executionSuccessful"] is False, inv
        note = inv[0]["toolExecutionNotifications"][0]
        assert note["level"] == "error", note
        assert note["message"]["text"] == \
            "a.go: invalid_field_value: file_content is empty (HTTP 422)", note
        assert "a.go: invalid_field_value" in r.stderr, r.stderr

        r = run_cli(harness, ["review", "a.go", "--format", "rdjson", "-q"], env, work)
        assert r.returncode == 3, r
        assert "a.go: invalid_field_value" in r.stderr, r.stderr


# ------------------------------------------------------- connect timeout --

@contextlib.contextmanager
def unanswered_port():
    """A loopback port whose listen queue is full: a connection attempt
    hangs (its SYN is dropped) until the client gives up."""
    import socket
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    fill = []
    try:
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                c.connect(("127.0.0.1", port))
            fill.append(c)
        time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        for c in fill:
            c.close()
        lst.close()


def test_a_connect_timeout_is_not_the_job_timeout(harness, work, tmp_path):
    """--timeout ending a connection attempt is an unreachable service, not
    a job still pending: the message names the URL."""
    (work / "a.go").write_text(go_file(marker()))
    with unanswered_port() as url:
        env = cli_env(harness, None, tmp_path, key="ci_live_" + "f" * 32, url=url)
        r = run_cli(harness, ["review", "a.go", "--timeout", "2"], env, work)
    assert r.returncode == 3, r
    assert "after the --timeout" not in r.stderr, r.stderr
    assert f"codeinsight: a.go: cannot reach {url}: " in r.stderr, r.stderr


# ------------------------------------------------- answers of no use --

PROXY_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"
HTML = {"Content-Type": "text/html; charset=utf-8"}
QUEUED_ID = "01939d7e-0000-7000-8000-0000000000a7"


def test_an_answer_that_is_not_json_says_so(harness, work, tmp_path):
    """A proxy's error page or a login portal in front of the service
    answers HTML: each command says the answer is not JSON, its status and
    type and the URL, one line, exit 3; a review does not call it a job id
    that is not a UUID, a job retried until --timeout names its last answer,
    and login stores no key on a 200 that is not the service's."""
    (work / "a.go").write_text(go_file(marker()))
    routes = {("POST", "/review"): (200, PROXY_PAGE, 0, HTML),
              ("GET", "/whoami"): (200, PROXY_PAGE, 0, HTML),
              ("GET", f"/job/{QUEUED_ID}"): (502, PROXY_PAGE, 0, HTML)}
    with fake_api(routes) as url:
        env = cli_env(harness, None, tmp_path, key="ci_live_" + "f" * 32, url=url)
        said = f"unexpected answer (HTTP 200, text/html, not JSON) from {url}"
        r = run_cli(harness, ["review", "a.go"], env, work)
        assert r.returncode == 3, r
        assert f"codeinsight: a.go: {said}\n" in r.stderr, r.stderr
        assert "UUID" not in r.stderr, r.stderr

        r = run_cli(harness, ["whoami"], env, work)
        assert (r.returncode, r.stderr) == (3, f"codeinsight: {said}\n"), r

        r = run_cli(harness, ["job", QUEUED_ID, "--timeout", "2"], env, work)
        assert r.returncode == 3, r
        assert (f"{QUEUED_ID}: still pending after the --timeout; the last answer: unexpected "
                f"answer (HTTP 502, text/html, not JSON) from {url}\n") in r.stderr, r.stderr

        login = cli_env(harness, None, tmp_path, key="", url=url)
        r = run_cli(harness, ["login", "--url", url], login, work,
                    stdin="ci_live_" + "f" * 32 + "\n")
        assert r.returncode == 3, r
        assert f"checking the API key: {said}" in r.stderr, r.stderr
        assert not config_file(tmp_path).exists()


def test_a_retried_refusal_is_named_at_the_timeout(harness, work, tmp_path):
    """A service that keeps answering 503 problem+json (Retry-After) is
    retried until --timeout, which then says what it answered last."""
    overloaded = {"type": "about:blank", "title": "Unavailable", "status": 503,
                  "code": "overloaded", "detail": "too many jobs queued"}
    routes = {("GET", f"/job/{QUEUED_ID}"): (503, overloaded, 0, {"Retry-After": "1"})}
    with fake_api(routes) as url:
        env = cli_env(harness, None, tmp_path, key="ci_live_" + "f" * 32, url=url)
        r = run_cli(harness, ["job", QUEUED_ID, "--timeout", "2"], env, work)
    assert r.returncode == 3, r
    assert (f"codeinsight: {QUEUED_ID}: still pending after the --timeout; the last answer: "
            "overloaded: too many jobs queued (HTTP 503)\n") in r.stderr, r.stderr


def test_an_answer_cut_short_is_not_an_unreachable_service(harness, work, tmp_path):
    """A connection closed in the middle of the answer (a proxy's timeout)
    is said as such, not as a service that cannot be reached."""
    (work / "a.go").write_text(go_file(marker()))
    cut = b'{"job_id": "01939d7e-0000-7000-8000'
    routes = {("POST", "/review"): (202, cut, 0, {"Content-Type": "application/json",
                                                 "Content-Length": "200"})}
    with fake_api(routes) as url:
        env = cli_env(harness, None, tmp_path, key="ci_live_" + "f" * 32, url=url)
        r = run_cli(harness, ["review", "a.go"], env, work)
    assert r.returncode == 3, r
    assert f"codeinsight: a.go: no complete answer from {url}: " in r.stderr, r.stderr
    assert "cannot reach" not in r.stderr, r.stderr


def test_a_redirect_is_not_followed(harness, work, tmp_path):
    """A redirect (an http:// URL moved to https://, a proxy's sign-in) is
    never followed, as the key would go with it: the command says where it
    points, exit 3, and nothing reaches that place; a Content-Location
    elsewhere changes nothing either."""
    (work / "a.go").write_text(go_file(marker()))
    seen = []

    def record(req):
        seen.append(req.path)
        return 200, {"email": "x@example.com", "plan": "free"}, 0
    elsewhere_routes = {("GET", "/"): record, ("POST", "/"): record}
    done = {"job_id": QUEUED_ID, "status": "done", "type": "review", "file_path": "a.go",
            "findings": []}
    with fake_api(elsewhere_routes) as elsewhere:
        routes = {("POST", "/review"): (307, b"", 0, {"Location": f"{elsewhere}/review"}),
                  ("GET", "/whoami"): (301, b"", 0, {"Location": f"{elsewhere}/whoami"}),
                  ("GET", f"/job/{QUEUED_ID}"): (200, done, 0,
                                                 {"Content-Location": f"{elsewhere}/job"})}
        with fake_api(routes) as url:
            env = cli_env(harness, None, tmp_path, key="ci_live_" + "f" * 32, url=url)
            r = run_cli(harness, ["review", "a.go"], env, work)
            assert r.returncode == 3, r
            assert (f"codeinsight: a.go: redirected to {elsewhere}/review (HTTP 307), not "
                    f"followed: is {url} the service's URL?\n") in r.stderr, r.stderr
            r = run_cli(harness, ["whoami"], env, work)
            assert r.returncode == 3, r
            assert (f"codeinsight: redirected to {elsewhere}/whoami (HTTP 301), not followed: "
                    f"is {url} the service's URL?\n") == r.stderr, r.stderr
            r = run_cli(harness, ["job", QUEUED_ID], env, work)
            assert r.returncode == 0, r
    assert seen == [], seen


# ----------------------------------------------------------------- Ctrl-C --

def interrupted_review(harness, stack, fake, work, tmp_path, names, args, sig):
    """Runs `codeinsight review` on two slow files called names with args,
    and sends sig once both are queued. Returns (exit status, stderr up to
    the signal, stdout, stderr after it)."""
    ms = [marker(), marker()]
    for name, m in zip(names, ms):
        (work / name).write_text(go_file(m))
        script(fake, m, [model_finding(2, "minor", f"Slow {name}.")], latency_ms=2500)
    env = cli_env(harness, stack, tmp_path)
    p = subprocess.Popen([str(harness.binary("codeinsight")), "review", *args, *names],
                         env=env, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        seen = ""
        deadline = time.monotonic() + 20
        while seen.count(": queued") < 2 and time.monotonic() < deadline:
            line = p.stderr.readline()
            if not line:
                break
            seen += line
        assert seen.count(": queued") == 2, seen
        p.send_signal(sig)
        out, err = p.communicate(timeout=CLI_TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
    return p.returncode, seen, out, err


def test_ctrl_c_names_the_pending_jobs(harness, stack, fake, work, tmp_path):
    """SIGINT while waiting: the ids of the jobs not finished are printed,
    so they can be followed with `codeinsight job ID`, and the exit status
    is 130 (128 + SIGINT)."""
    import signal
    rc, seen, out, err = interrupted_review(harness, stack, fake, work, tmp_path,
                                            ["s0.go", "s1.go"], [], signal.SIGINT)
    env = cli_env(harness, stack, tmp_path)
    assert rc == 130, (rc, seen + err)
    assert out == "", out
    ids = re.findall(r"^  ([0-9a-f-]{36})\s+(s[01]\.go)$", err, re.M)
    assert sorted(path for _, path in ids) == ["s0.go", "s1.go"], err
    assert "codeinsight: interrupted" in err and "codeinsight job ID" in err, err
    cancel_line = re.search(r"^codeinsight: to cancel them: codeinsight cancel((?: \S+)+)$",
                            err, re.M)
    assert cancel_line and sorted(cancel_line.group(1).split()) == sorted(i for i, _ in ids), err
    for job_id, path in ids:
        assert UUID7_RE.match(job_id), job_id
        r = run_cli(harness, ["job", job_id, "--wait", "-q"], env, work)
        assert r.returncode == 0, r
        assert r.stdout.startswith(f"{path}:2:1: minor: Slow "), r.stdout


def test_sigterm_with_cancel_on_interrupt_cancels_the_jobs(harness, stack, fake, work,
                                                           tmp_path):
    """A CI runner stopping the step (SIGTERM) of a review run with
    --cancel-on-interrupt: before exiting 143 (128 + SIGTERM) the CLI
    cancels each job not finished and says what became of it, so none is
    left to run, or to be charged for."""
    import signal
    rc, seen, out, err = interrupted_review(harness, stack, fake, work, tmp_path,
                                            ["t0.go", "t1.go"], ["--cancel-on-interrupt"],
                                            signal.SIGTERM)
    assert rc == 143, (rc, seen + err)
    assert out == "", out
    said = re.findall(r"^  ([0-9a-f-]{36})  (t[01]\.go)  "
                      r"(cancelled|cancelling \(its worker stops it\))$", err, re.M)
    assert sorted(path for _, path, _ in said) == ["t0.go", "t1.go"], err
    assert "the jobs not finished were cancelled" in err, err
    assert "to cancel them" not in err, err
    for job_id, path, _ in said:
        job = harness.poll_job(job_id, until=("cancelled", "done", "failed"), timeout=30)
        assert job["status"] == "cancelled" and job["findings"] == [], job


def test_a_config_file_others_can_read_or_a_link_is_refused(harness, stack, work, tmp_path):
    """As ssh does with a private key: a config file others can read, or
    one that is a symbolic link, is not used; the message says how to fix
    it (exit 2)."""
    url = f"http://127.0.0.1:{stack.port}"
    cfg = config_file(tmp_path)
    cfg.parent.mkdir(parents=True, mode=0o700)
    cfg.write_text(f"url = {url}\napi_key = {harness.default_key}\n")
    cfg.chmod(0o600)
    env = cli_env(harness, stack, tmp_path, key="", url=url)
    r = run_cli(harness, ["whoami"], env, work)
    assert r.returncode == 0, r
    for mode in (0o640, 0o604):
        cfg.chmod(mode)
        r = run_cli(harness, ["whoami"], env, work)
        assert r.returncode == 2, (oct(mode), r)
        assert f"{cfg} is readable by other users; not used (chmod 600 {cfg})" in r.stderr, r
    real = tmp_path / "elsewhere"
    real.write_text(cfg.read_text())
    real.chmod(0o600)
    cfg.unlink()
    cfg.symlink_to(real)
    r = run_cli(harness, ["whoami"], env, work)
    assert r.returncode == 2, r
    assert f"{cfg} is a symbolic link; not used" in r.stderr, r.stderr
    assert "run codeinsight login again" in r.stderr, r.stderr


# ------------------------------------------------------- the user's words --

def test_arguments_reach_the_terminal_without_escape_codes(harness, stack, work, tmp_path):
    """A file name, option value, URL or path from the command line or the
    environment is shown with '?' for each control character: pasted from
    somewhere else, it cannot retitle the window or clear the screen."""
    (work / "a.go").write_text(go_file(marker()))
    env = cli_env(harness, stack, tmp_path)
    diff = "--- a/a.go\n+++ b/a.go\n@@ -1 +1 @@\n-x\n+y\n"
    cases = [
        (["job", EVIL], 2, None),
        ([f"frob{EVIL}"], 2, None),
        (["review", "a.go", "--format", EVIL], 2, None),
        (["review", "a.go", f"--bogus{EVIL}"], 2, None),
        (["review", "--diff", f"nope{EVIL}"], 2, None),
        # A name the service would refuse is a usage error before the diff is read.
        (["review", "--diff", "-", f"x{EVIL}.go"], 2, diff),
        (["review", "-t", "debug", "--error-log", f"nope{EVIL}", "a.go"], 2, None),
        (["review", "-t", "architecture", "--request", "r", f"{EVIL}/.."], 2, None),
    ]
    for args, rc, stdin in cases:
        r = run_cli(harness, args, env, work, stdin=stdin)
        assert r.returncode == rc, (args, r)
        assert EVIL_SHOWN in r.stderr, (args, r.stderr)
        assert_no_escape_codes(r.stdout + r.stderr)

    # The URL and the config path come from the environment.
    r = run_cli(harness, ["whoami"], cli_env(harness, stack, tmp_path, key="",
                                             url=f"http://127.0.0.1:1/{EVIL}"), work)
    assert r.returncode == 2 and "no API key for" in r.stderr, r
    assert_no_escape_codes(r.stderr)
    xdg = tmp_path / f"xdg{EVIL}"
    (xdg / "codeinsight").mkdir(parents=True)
    (xdg / "codeinsight" / "config").write_text("url = http://x\n")
    (xdg / "codeinsight" / "config").chmod(0o666)
    # The URL and key come from the environment: the file is not needed,
    # so it is a note (exit 0), the path shown as safely.
    r = run_cli(harness, ["whoami"], cli_env(harness, stack, tmp_path, XDG_CONFIG_HOME=str(xdg)),
                work)
    assert r.returncode == 0 and "note: " in r.stderr, r
    assert "can be changed by other users" in r.stderr, r
    assert EVIL_SHOWN in r.stderr, r.stderr
    assert_no_escape_codes(r.stderr)


def test_job_not_found_says_so(harness, stack, work, tmp_path):
    """A job id the service does not know (404 problem+json) is said to be
    not found; it was never queued, and no progress line says it was."""
    job_id = "01939d7e-0000-7000-8000-" + secrets.token_hex(6)
    env = cli_env(harness, stack, tmp_path)
    for args in (["job", job_id], ["job", job_id, "--wait", "--format", "sarif"]):
        r = run_cli(harness, args, env, work)
        assert r.returncode == 3, (args, r)
        assert f"codeinsight: {job_id}: job not found" in r.stderr, \
            (args, r.stderr)
        assert "queued" not in r.stderr, (args, r.stderr)


# --------------------------------------------------- help and the man page --

COMMANDS = ("review", "job", "cancel", "whoami", "usage", "login")


def parser_options() -> dict:
    """The option table of cli/args.c: long name -> (short letter or None,
    the commands that take it)."""
    src = (REPO_ROOT / "cli" / "args.c").read_text()
    table = src[src.index("} opts[] = {"):]
    table = table[:table.index("\n};")]
    rows = re.findall(r'\{"([a-z-]+)",\s*(\'.\'|0),\s*\d,\s*OPT_\w+,\s*([^}]+)\}', table)
    assert len(rows) >= 15, rows
    return {name: (short.strip("'") if short != "0" else None,
                   set(COMMANDS) if "ANY_CMD" in cmds
                   else {c.lower() for c in re.findall(r"ON\(CMD_(\w+)\)", cmds)})
            for name, short, cmds in rows}


def man_synopsis() -> dict:
    """codeinsight.1's SYNOPSIS, one block of text per command."""
    man = (REPO_ROOT / "docs" / "codeinsight.1").read_text()
    syn = man[man.index(".SH SYNOPSIS"):man.index(".SH DESCRIPTION")]
    blocks = {}
    for block in syn.split(".br\n"):
        m = re.search(r"^\.B (?:git diff \| )?codeinsight (\w+|\\-\\-version)", block, re.M)
        if m:
            blocks[m.group(1)] = blocks.get(m.group(1), "") + block
    return blocks


def test_help_and_man_page_list_every_option(harness, work, tmp_path):
    """Every option the parser accepts for a command is in that command's
    --help and in its SYNOPSIS in docs/codeinsight.1, with its short form;
    and the parser does take each of them."""
    env = cli_env(harness, None, tmp_path, key="", url="http://127.0.0.1:1")
    syn = man_synopsis()
    assert set(COMMANDS) <= set(syn), syn.keys()
    assert "\\-\\-version" in syn, syn.keys()
    for name, (short, cmds) in parser_options().items():
        for cmd in COMMANDS:
            r = run_cli(harness, [cmd, f"--{name}"], env, work)
            taken = "does not take" not in r.stderr and "unknown option" not in r.stderr
            assert taken == (cmd in cmds), (cmd, name, r.stderr)
            if cmd not in cmds:
                continue
            helped = run_cli(harness, [cmd, "--help"], env, work).stdout
            assert f"--{name}" in helped, (cmd, name, helped)
            if short:
                assert f"-{short}, --{name}" in helped or f"-{short}|--{name}" in helped, \
                    (cmd, name, helped)
            roff = "\\-\\-" + name.replace("-", "\\-")
            assert roff in syn[cmd], (cmd, name, syn[cmd])
            if short:
                assert f"\\-{short} | {roff}" in syn[cmd], (cmd, name, syn[cmd])
