#!/usr/bin/python3
"""callgrind_admit.py - Redis instructions per admission of admit.lua.

Redis runs admit.lua once per batch of POST /review admissions; its CPU per
admission is half of what a POST costs the machine (bench/README.md). On a
shared VM the wall clock moves by +-30%; callgrind's instruction counts do
not. This starts a private Redis and PostgreSQL (tests/e2e/harness.py) and
the gateway, records with MONITOR the admit.lua calls that `wrk` POSTs of the
bench's 2 KB body make (bench/wrk/post.lua, 64 connections, 2 s), then
replays the batches of callers the gateway admitted itself (the steady
state; bench/README.md) against a second, empty redis-server run under
`valgrind --tool=callgrind`, and prints the instructions per admission,
with those of a script that only returns (the cost of the arguments alone).

    make all && /usr/bin/python3 bench/callgrind_admit.py [--calls N] [--build-dir build]

Needs valgrind (`apt-get install valgrind`; a developer's tool, not part of
`make deps`).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import run as R     # bench/run.py, beside this file; it brings tests/e2e/harness.py

H = R.H
REPO = R.REPO

CALLS_MAX = 2000
LOAD_S = 2
START_TIMEOUT_S = 30
MONITOR_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"')
ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b", '"': b'"', "\\": b"\\"}


def unquote(s: str) -> bytes:
    """One argument as MONITOR prints it (sdscatrepr) back to its bytes."""
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] != "\\":
            out += s[i].encode("latin-1")
            i += 1
        elif s[i + 1] == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        else:
            out += ESCAPES[s[i + 1]]
            i += 2
    return bytes(out)


def admissions(call: list[bytes]) -> list[tuple[str, str]]:
    """(user id, month) of each admission of one admit.lua call
    (schema/redis/admit.lua's header: ARGV[1..2], then per admission its
    count and arguments, the month first and the user id ninth)."""
    nkeys = int(call[2])
    argv, a, out = call[3 + nkeys:], 2, []
    while a < len(argv):
        out.append((argv[a + 8].decode(), argv[a + 1].decode()))
        a += 1 + int(argv[a])
    return out


class Redis:
    """A bare RESP client: enough for the replay."""

    def __init__(self, port: int):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=600)
        self.f = self.s.makefile("rb")

    def read(self):
        line = self.f.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind in b"+:":
            return rest
        if kind == b"$":
            return None if int(rest) < 0 else self.f.read(int(rest) + 2)[:-2]
        return [self.read() for _ in range(max(int(rest), 0))]

    def call(self, *args):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(parts))
        return self.read()


def record(build: Path, tmp: Path) -> list[list[bytes]]:
    """The admit.lua calls of a short POST load, as sent."""
    h = H.Harness(build_dir=str(build))
    h.start()
    try:
        uid = h.create_user("callgrind-admit@example.com", plan="business")
        key = h.issue_key("callgrind-admit@example.com", "callgrind-admit")
        gw = h.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": R.RATE_SCALE})
        month = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
        h.redis_cli("HSET", f"budget:{uid}:{month}", "used", "-1000000000000", "reserved", "0")
        body = tmp / "body.json"
        body.write_bytes(R.post_body()[0])
        log = tmp / "monitor.txt"
        with open(log, "w") as out:
            mon = subprocess.Popen(["redis-cli", "-p", str(h.redis_port), "--no-auth-warning",
                                    "MONITOR"], stdout=out,
                                   env=dict(os.environ, REDISCLI_AUTH=h.redis_password))
            try:
                time.sleep(0.5)
                subprocess.run(["wrk", "-t2", "-c64", f"-d{LOAD_S}s", "-s",
                                str(R.BENCH / "wrk" / "post.lua"),
                                f"http://127.0.0.1:{gw.port}/review"],
                               env=dict(os.environ, BENCH_BODY=str(body), BENCH_KEY=key),
                               check=True, capture_output=True, timeout=60)
                time.sleep(0.5)
            finally:
                mon.terminate()
                mon.wait(timeout=10)
    finally:
        h.teardown()
    calls = []
    for line in log.read_text(encoding="latin-1").splitlines():
        if '"EVALSHA"' in line and "] " in line:
            call = [unquote(t) for t in MONITOR_TOKEN.findall(line.split("] ", 1)[1])]
            if call[0] == b"EVALSHA" and call[3].startswith(b"auth:key:"):
                calls.append(call)
    return calls


def replay(script: bytes, calls: list[list[bytes]], n: int, tmp: Path) -> tuple[float, int]:
    """Instructions per admission of script over the first n calls, run by a
    callgrind-ed redis-server that starts empty but for what they read."""
    d = tmp / f"redis-{len(list(tmp.iterdir()))}"
    d.mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = d / "callgrind.out"
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                          f"--callgrind-out-file={out}", "redis-server", "--port", str(port),
                          "--bind", "127.0.0.1", "--dir", str(d), "--save", "",
                          "--appendonly", "yes", "--appendfsync", "everysec"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                r = Redis(port)
                r.call("PING")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("redis-server under valgrind did not start")
                time.sleep(0.2)
        sha = r.call("SCRIPT", "LOAD", script)
        for call in calls[:n]:
            nkeys = int(call[2])
            for k in call[3:3 + nkeys:2]:
                r.call("HSET", k, "revoked", "0")
            for user, month in admissions(call):
                r.call("HSET", f"budget:{user}:{month}", "used", "-1000000000000", "reserved", "0")
        subprocess.run(["callgrind_control", "-i", "on", str(p.pid)], check=True,
                       capture_output=True)
        count = 0
        for call in calls[:n]:
            r.call(b"EVALSHA", sha, *call[2:])
            count += len(admissions(call))
        subprocess.run(["callgrind_control", "-i", "off", str(p.pid)], check=True,
                       capture_output=True)
    finally:
        p.terminate()
        p.wait(timeout=60)
    total = 0
    for f in d.glob("callgrind.out*"):
        for line in f.read_text().splitlines():
            if line.startswith(("totals:", "summary:")):
                total += int(line.split()[1])
    if total == 0 or count == 0:
        raise SystemExit(f"no instructions recorded (see {d})")
    return total / count, count


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=300, help="admit.lua calls replayed")
    ap.add_argument("--build-dir", default="build")
    args = ap.parse_args()
    if not 1 <= args.calls <= CALLS_MAX:
        raise SystemExit(f"--calls is 1 to {CALLS_MAX}")
    R.need_tools("valgrind", "callgrind_control", "wrk")
    build = REPO / args.build_dir
    script = (build / "gen" / "schema" / "redis" / "admit.lua").read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix="ci-callgrind-admit-"))
    calls = [c for c in record(build, tmp) if all(u for u, _ in admissions(c))]
    if not calls:
        raise SystemExit("the load made no batch of callers the gateway admitted itself")
    per, count = replay(script, calls, args.calls, tmp)
    bare, _ = replay(b"return 1", calls, args.calls, tmp)
    n = min(args.calls, len(calls))
    print(f"{per:,.0f} Redis instructions per admission by admit.lua "
          f"({count} admissions in {n} calls, {count / n:.1f} per call); "
          f"{bare:,.0f} of them for the arguments alone (a script that only returns)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
