"""Hostile Debug Doctor jobs against a real heavy worker: each program runs
in the bubblewrap sandbox and is contained (no network, no escape from the
work dir, no secrets, bounded processes, memory, CPU, time and output), and
the worker survives all of them and keeps processing other jobs.

The worker runs offline (no model): the sandboxed reproduction is what these
tests look at (verification.runs[0]).

    /usr/bin/python3 -m pytest -q tests/e2e/test_sandbox_containment.py
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import time

import pytest

from harness import GROUP_HEAVY, STREAM_HEAVY, wait_until

TIMEOUT_MS = 5000
CPU_S = 2
OUTPUT_MAX = 65536
CANARY = "ci-canary-" + secrets.token_hex(16)
SANDBOX_UID = 65534


@pytest.fixture
def worker(harness, gateway, clean_state):
    harness.remember(CANARY)
    w = harness.start_worker("heavy", {
        "CODEINSIGHT_LLM_PROVIDER": "offline", "CODEINSIGHT_READ_BLOCK_MS": "200",
        "CODEINSIGHT_WORKER_CONCURRENCY": "4", "CODEINSIGHT_SANDBOX_PARALLEL": "2",
        "CODEINSIGHT_SANDBOX_TIMEOUT_MS": str(TIMEOUT_MS), "CODEINSIGHT_SANDBOX_CPU_S": str(CPU_S),
        # What a worker's environment may hold; no sandboxed program may see it.
        "CODEINSIGHT_CANARY_SECRET": CANARY})
    assert w.events("worker_started")[0].get("sandbox") == "ready"
    return w


def submit(harness, path, content, runner, log="the program fails") -> str:
    return harness.submit(file_path=path, file_content=content, request_type="debug",
                          error_log=log, run={"runner": runner})


def first_run(job) -> dict:
    assert job["status"] == "done", job
    runs = job["verification"]["runs"]
    assert runs and runs[0]["purpose"] == "reproduce", job["verification"]
    return runs[0]


def sandbox_processes(script: str) -> int:
    """Processes of the sandbox user still running `script` (zombies waiting
    for their reaper do not count: they run nothing). Other sandboxes on the
    machine are not ours to count."""
    out = subprocess.run(["ps", "-u", str(SANDBOX_UID), "-o", "stat=,args="],
                         capture_output=True, text=True, timeout=10).stdout
    return len([ln for ln in out.splitlines()
                if script in ln and not ln.lstrip().startswith("Z")])


def test_hostile_programs_are_contained(harness, worker, tmp_path):
    # A loopback port the test listens on: a sandboxed program must not reach it.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    escape = tmp_path / f"escaped-{secrets.token_hex(4)}"
    worker_adj = open(f"/proc/{worker.pid}/oom_score_adj").read().strip()
    t = secrets.token_hex(3)     # file names no other sandbox on the machine uses

    programs = {
        "network": (f"net_{t}.py", "python", f"""
import socket
for fam, addr in ((socket.AF_INET, ("127.0.0.1", {port})), (socket.AF_INET6, ("::1", {port}))):
    try:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(addr)
        print("CONNECTED", addr)
    except OSError as e:
        print("blocked", fam.name, type(e).__name__, e.errno)
raise SystemExit(1)
"""),
        "fork_bomb": (f"bomb_{t}.sh", "sh", "b() { b | b & }; b\n"),
        "memory_bomb": (f"mem_{t}.py", "python", "x = bytearray(2 * 1024 ** 3)\nprint(len(x))\n"),
        "infinite_loop": (f"spin_{t}.py", "python", "while True:\n    pass\n"),
        "write_outside": (f"w_{t}.py", "python", f"""
import os
for p in ("{escape}", "/usr/escaped", "/etc/escaped", "/escaped", "/proc/escaped"):
    try:
        with open(p, "w") as f:
            f.write("x")
        print("WROTE", p)
    except OSError as e:
        print("refused", p, type(e).__name__)
open("/work/ok.txt", "w").write("fine")
print("work dir writable")
raise SystemExit(2)
"""),
        "read_secrets": (f"r_{t}.py", "python", """
import glob, os
found = []
try:
    found.append(open("/etc/shadow").read())
except OSError as e:
    print("shadow", type(e).__name__)
print("ENV", sorted(os.environ))
for p in glob.glob("/proc/*/environ"):
    try:
        found.append(open(p, "rb").read().decode("latin-1"))
    except OSError:
        pass
print("\\n".join(found))
raise SystemExit(3)
"""),
        "sleeper": (f"slow_{t}.sh", "sh", "echo start\nsleep 100\necho never\n"),
        "oom_score": (f"oom_{t}.sh", "sh", "echo adj=$(cat /proc/self/oom_score_adj)\nexit 5\n"),
        "flood": (f"flood_{t}.py", "python", """
import sys
chunk = "y" * 1023 + "\\n"
for _ in range(10 * 1024):
    sys.stdout.write(chunk)
sys.stdout.write("THE END\\n")
raise SystemExit(4)
"""),
    }
    ids = {name: submit(harness, path, src, runner)
           for name, (path, runner, src) in programs.items()}
    jobs = harness.poll_jobs(ids.values(), timeout=180)
    by = {name: jobs[jid] for name, jid in ids.items()}

    # No network at all: the loopback listener saw nothing.
    r = first_run(by["network"])
    assert "CONNECTED" not in r["stdout_tail"], r
    assert r["stdout_tail"].count("blocked") == 2, r
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()

    # A fork bomb ends (process limit, then time) and leaves nothing behind.
    r = first_run(by["fork_bomb"])
    assert r["duration_ms"] <= TIMEOUT_MS + 3000, r
    wait_until(lambda: sandbox_processes(f"bomb_{t}.sh") == 0, 20, interval=0.5,
               desc="no sandbox process left after the fork bomb")

    # 2 GB cannot be had under the 512 MB address-space limit.
    r = first_run(by["memory_bomb"])
    assert r["exit"] == 1 and "MemoryError" in r["stderr_tail"], r

    # An infinite loop is stopped by the CPU limit (SIGXCPU, then SIGKILL) or the clock.
    r = first_run(by["infinite_loop"])
    assert r["signal"] in (9, 24), r
    assert r["duration_ms"] <= TIMEOUT_MS + 3000, r

    # Nothing outside /work is writable, and the host file system is untouched.
    r = first_run(by["write_outside"])
    assert "WROTE" not in r["stdout_tail"], r
    assert r["stdout_tail"].count("refused") == 5 and "work dir writable" in r["stdout_tail"], r
    assert not escape.exists()

    # No /etc/shadow, and not one variable of the worker's environment.
    r = first_run(by["read_secrets"])
    out = r["stdout_tail"] + r["stderr_tail"]
    assert "shadow FileNotFoundError" in out or "shadow PermissionError" in out, out
    assert "root:" not in out
    assert CANARY not in out and "CODEINSIGHT" not in out and "REDIS_URL" not in out, out
    env = eval(out.split("ENV ", 1)[1].split("\n", 1)[0])  # noqa: S307 - our own print
    assert set(env) <= {"PATH", "HOME", "LANG", "TMPDIR", "PWD", "SHLVL", "_", "LC_CTYPE"}, env

    # Under memory pressure the kernel kills sandboxed code first, never the
    # worker: the most oom_score_adj there is, and the worker's own unchanged.
    r = first_run(by["oom_score"])
    assert r["exit"] == 5 and r["stdout_tail"] == "adj=1000\n", r
    assert worker_adj != "1000"
    assert open(f"/proc/{worker.pid}/oom_score_adj").read().strip() == worker_adj

    # Past the wall clock: killed, marked timed out.
    r = first_run(by["sleeper"])
    assert r["timed_out"] is True and r["signal"] == 9, r
    assert TIMEOUT_MS - 100 <= r["duration_ms"] <= TIMEOUT_MS + 3000, r   # libuv clock granularity
    assert r["stdout_tail"] == "start\n"

    # 10 MB of output: counted, the last 64 KB kept.
    r = first_run(by["flood"])
    assert r["exit"] == 4, r
    assert r["stdout_bytes"] == 10 * 1024 * 1024 + len("THE END\n"), r["stdout_bytes"]
    assert len(r["stdout_tail"].encode()) <= OUTPUT_MAX
    assert r["stdout_tail"].endswith("y\nTHE END\n")

    # The worker survived every one of them and still does its work.
    assert worker.alive(), worker.tail()
    ok = harness.poll_job(submit(harness, "ok.py", "print(1 / 0)\n", "python",
                                 log="ZeroDivisionError: division by zero"), timeout=60)
    r = first_run(ok)
    assert r["exit"] == 1 and "ZeroDivisionError" in r["stderr_tail"]
    assert ok["verification"]["reproduced"] is True
    harness.wait_stream_drained(STREAM_HEAVY, GROUP_HEAVY)
    assert worker.alive()
    # Nothing any of them started is still running.
    for path, _, _ in programs.values():
        assert sandbox_processes(path) == 0, path


def test_sandbox_disabled_runs_nothing(harness, gateway, clean_state, tmp_path):
    marker = tmp_path / "ran"
    w = harness.start_worker("heavy", {"CODEINSIGHT_LLM_PROVIDER": "offline",
                                       "CODEINSIGHT_READ_BLOCK_MS": "200",
                                       "CODEINSIGHT_SANDBOX": "0"})
    assert w.events("worker_started")[0].get("sandbox", "").startswith("sandbox disabled")
    jid = submit(harness, "touch.sh", f"touch {marker}\nexit 1\n", "sh")
    job = harness.poll_job(jid, timeout=60)
    assert job["status"] == "done", job
    v = job["verification"]
    assert v["reproduced"] is False and v["runs"] == [], v
    assert "sandbox disabled" in v["reason"], v
    time.sleep(0.5)
    assert not marker.exists()
