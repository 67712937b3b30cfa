#!/usr/bin/python3
"""bench/run.py - the measurement behind `make bench` (see bench/README.md).

Starts everything itself on free loopback ports (private Redis and
PostgreSQL through tests/e2e/harness.py, the fake model server, the gateway,
workers, the two reference servers), runs bounded loads, prints a table and
writes bench/results.json. Everything it started is stopped on the way out,
on success, on an error, on SIGTERM/SIGINT.

Exit status: 0 when every measurement ran (targets met or not: a miss is a
result), 1 on a harness error (something could not be started or measured),
130 when interrupted.

Python 3.11 standard library only. Usage:
  /usr/bin/python3 bench/run.py [--build-dir build] [--duration 10] [--warmup 2]
                                [--only post,get,cache,tokens,drain,lint,redact]
                                [--prompts DIR]
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import difflib
import http.client
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
sys.path.insert(0, str(REPO / "tests" / "e2e"))

import harness as H  # noqa: E402  (tests/e2e/harness.py)
from fakemodel import FakeModel, request_text  # noqa: E402

# ------------------------------------------------------------------ limits --
# The whole run must end within 10 minutes on 2 cores; every loop below is
# bounded in count and in time, and the run as a whole has a deadline.
RUN_BUDGET_S = 540
WRK_CONNECTIONS = 64
WRK_THREADS = 2
POST_BODY_BYTES = 2048
GET_JOBS = 300
DRAIN_JOBS = 2000
DRAIN_USERS = 4                 # 500 jobs each: well under 90% of a business budget
DRAIN_LATENCY_MS = 2000
DRAIN_MAX_INFLIGHT = 512
DRAIN_TIMEOUT_S = 150
CACHE_REQUESTS = 2000
CACHE_WARMUP = 100
LINT_SECONDS = 5.0              # per linter
LINT_RUN_TIMEOUT_S = 60
REDACT_TIMEOUT_S = 240          # bench/redact: 2 sizes x 116 inputs x 3 runs, about 90 s here
JOB_WAIT_TIMEOUT_S = 180
RATE_SCALE = "1000000"          # the maximum CODEINSIGHT_RATE_LIMIT_SCALE: x10,000
ANTHROPIC_KEY = "sk-ant-bench-not-a-real-key-0000000000"

# Targets: (comparison, bound)
TARGETS = {
    "post_ratio": (">=", 1.0),
    "post_p99_ms": ("<=", 10.0),
    "get_ratio": (">=", 0.4),
    "get_p99_ms": ("<=", 5.0),
    "drain_jobs_per_s": (">=", 200.0),
    "drain_rss_mb": ("<=", 100.0),
    "drain_failed": ("==", 0),
    "cache_p50_ms": ("<=", 2.0),
    "token_reduction_pct": (">=", 50.0),
    # redaction: the slowest input at 8 MiB (ms per MiB), and how the time
    # grows from 1 to 8 MiB, steepest input (linear: 8; quadratic: 64)
    "redact_worst_ms_per_mib": ("<=", 250.0),
    "redact_growth": ("<=", 16.0),
}


# A load run during which processes other than the ones measured used more
# than this fraction of one core is flagged as noisy.
NOISE_CPU_FRACTION = 0.15
# A compared load is cut into this many slices, interleaved (interleaved()).
SLICES = 5
NOISE_EVENTS: list[str] = []


class BenchError(Exception):
    """The harness could not do its job: the run fails."""


_T0 = time.monotonic()


def remaining() -> float:
    return RUN_BUDGET_S - (time.monotonic() - _T0)


def need_tools(*tools: str) -> None:
    """Exits with what to install when a developer's tool is missing."""
    for tool in tools:
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: apt-get install valgrind (wrk: make deps)")


def need(seconds: float, what: str) -> None:
    if remaining() < seconds:
        raise BenchError(f"run budget exhausted before {what} ({remaining():.0f}s left)")


def log(msg: str) -> None:
    print(f"[bench {time.monotonic() - _T0:6.1f}s] {msg}", flush=True)


# ------------------------------------------------------------ processes --

_LIBC = ctypes.CDLL(None, use_errno=True)


def _pdeathsig() -> None:
    _LIBC.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG


class RefServer:
    """One of bench's reference servers (build/bench/ref_*), on a free port."""

    def __init__(self, path: Path, env: dict, logdir: Path):
        self.name = path.name
        self.err = open(logdir / f"{self.name}.err", "wb")
        self.proc = subprocess.Popen([str(path), "--port", "0"], env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, start_new_session=True,
                                     preexec_fn=_pdeathsig)
        line = b""
        deadline = time.monotonic() + 10
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        for _ in range(1000):
            try:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
            except BlockingIOError:
                chunk = None
            if chunk:
                line += chunk
            if b"\n" in line or chunk == b"" or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        try:
            self.port = int(json.loads(line.split(b"\n", 1)[0])["port"])
        except (ValueError, KeyError) as e:
            self.stop()
            raise BenchError(f"{self.name} did not start: {line!r}") from e

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.err.close()


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _proc_table() -> dict[int, tuple[int, float]]:
    """{pid: (ppid, CPU seconds)} of every process on the machine."""
    tck = os.sysconf("SC_CLK_TCK")
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(d)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tck)
        except (OSError, IndexError, ValueError):
            continue
    return out


class ForeignCPU:
    """CPU seconds used, while a measurement runs, by processes that are not
    the bench's: not run.py and its children (servers, workers, wrk, the
    fake model), not our Redis and PostgreSQL (daemonized, so roots of their
    own), not kernel threads (they carry our loopback traffic). Processes
    that start meanwhile count whole; ones that exit meanwhile are missed."""

    def __init__(self, roots: list[int]):
        self.roots = set(roots) | {os.getpid(), 2}
        self.before = _proc_table()
        self.steal0 = steal_s()
        self.t0 = time.monotonic()
        self.steal = 0.0

    def _ours(self, table: dict[int, tuple[int, float]]) -> set[int]:
        ours = set()
        for pid in table:
            p, seen = pid, 0
            while p > 1 and seen < 64:
                if p in self.roots:
                    ours.add(pid)
                    break
                p = table.get(p, (0, 0.0))[0]
                seen += 1
        return ours

    def stop(self, what: str, record: bool = True) -> float:
        after = _proc_table()
        ours = self._ours(after) | self._ours(self.before)
        used = 0.0
        for pid, (_, cpu) in after.items():
            if pid not in ours:
                used += cpu - self.before.get(pid, (0, 0.0))[1] \
                    if pid in self.before else cpu
        elapsed = time.monotonic() - self.t0
        self.steal = round(steal_s() - self.steal0, 2)
        if record and used + self.steal > NOISE_CPU_FRACTION * elapsed:
            NOISE_EVENTS.append(f"{what}: {used:.1f} CPU-s used by other processes and "
                                f"{self.steal:.1f} s stolen by the hypervisor in {elapsed:.0f} s")
        return round(used, 2)


def steal_s() -> float:
    """CPU seconds the hypervisor gave to other guests (/proc/stat steal)."""
    with open("/proc/stat") as f:
        v = f.readline().split()[1:]
    return int(v[7]) / os.sysconf("SC_CLK_TCK") if len(v) > 7 else 0.0


# Daemonized services of the bench (set by Bench.start).
SERVICE_ROOTS: list[int] = []


def machine_busy_s() -> tuple[float, float]:
    """CPU seconds the whole machine (all cores) spent in processes (user,
    nice, system) and in interrupts (irq, softirq: loopback traffic), from
    /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    tck = os.sysconf("SC_CLK_TCK")
    return (v[0] + v[1] + v[2]) / tck, (v[5] + v[6]) / tck


def proc_status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise BenchError(f"no {field} in /proc/{pid}/status")


def commandstats(info: str) -> dict:
    """INFO commandstats -> {command: {calls, usec_per_call}} (Redis counts
    the commands a script runs too)."""
    out = {}
    for line in info.splitlines():
        m = re.match(r"^cmdstat_([a-z|_-]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)", line)
        if m:
            out[m.group(1)] = {"calls": int(m.group(2)), "usec_per_call": float(m.group(4))}
    return out


def run_wrk(url: str, script: Path, duration_s: float, env_extra: dict,
            watch: dict[str, int], redis: Optional[Callable[..., str]] = None,
            warmup: bool = False) -> dict:
    """One wrk run; returns its BENCH_JSON figures plus rps and the CPU
    seconds each watched process (and wrk itself) used meanwhile."""
    need(duration_s + 15, f"wrk {url}")
    env = dict(os.environ, **env_extra)
    argv = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{int(duration_s)}s",
            "--timeout", "5s", "-s", str(script), url]
    if redis is not None:
        redis("CONFIG", "RESETSTAT")
    cpu0 = {k: proc_cpu_s(p) for k, p in watch.items()}
    foreign = ForeignCPU(SERVICE_ROOTS)
    busy0 = machine_busy_s()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(argv, env=env, capture_output=True, text=True,
                       timeout=duration_s + 30, preexec_fn=_pdeathsig)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1 = machine_busy_s()
    busy, irq = busy1[0] - busy0[0], busy1[1] - busy0[1]
    cpu = {k: round(proc_cpu_s(p) - cpu0[k], 2) for k, p in watch.items()}
    cpu["wrk"] = round((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), 2)
    # CPU the rest of the machine used meanwhile (other processes, kernel
    # threads, interrupts): a busy machine makes every figure of this run
    # unreliable, so it is recorded and flagged.
    cpu["machine_processes"] = round(busy, 2)
    cpu["machine_irq"] = round(irq, 2)
    cpu["other_processes"] = foreign.stop(f"{url} ({script.name}, {duration_s:.0f} s)",
                                          record=not warmup)
    cpu["stolen"] = foreign.steal
    m = re.search(r"^BENCH_JSON (\{.*\})$", r.stdout, re.M)
    if r.returncode != 0 or not m:
        raise BenchError(f"wrk failed ({r.returncode}): {r.stdout[-2000:]} {r.stderr[-2000:]}")
    out = json.loads(m.group(1))
    out["rps"] = round(out["requests"] / (out["duration_us"] / 1e6), 1)
    if redis is not None:
        out["redis_commandstats"] = commandstats(redis("INFO", "commandstats"))
    out["cpu_s"] = cpu
    out["noisy"] = cpu["other_processes"] + cpu["stolen"] > NOISE_CPU_FRACTION * duration_s
    out["errors_total"] = sum(out[k] for k in ("connect_errors", "read_errors", "write_errors",
                                               "status_errors", "timeouts"))
    return out


def merged_percentile(slices: list[dict], p: float) -> int:
    """The latency below which p% of the requests of all slices fell: each
    slice's distribution is read from its lat_pcts grid (report.lua),
    linearly between grid points, weighted by its requests."""
    def below(sl: dict, q: float) -> float:
        """Fraction of sl's requests at or under q microseconds."""
        pts = [(0.0, float(sl["lat_min_us"]))] + [(pp / 100, float(v)) for pp, v in sl["lat_pcts"]]
        pts.append((1.0, float(sl["lat_max_us"])))
        if q < pts[0][1]:
            return 0.0
        for (p0, v0), (p1, v1) in zip(pts, pts[1:]):
            if q < v1:
                return p0 + (p1 - p0) * ((q - v0) / (v1 - v0) if v1 > v0 else 1.0)
        return 1.0

    total = sum(sl["requests"] for sl in slices)
    if total == 0:
        return 0
    values = sorted({float(v) for sl in slices for _, v in sl["lat_pcts"]} |
                    {float(sl["lat_min_us"]) for sl in slices} |
                    {float(sl["lat_max_us"]) for sl in slices})
    want, q0, f0 = p / 100, values[0], 0.0
    for q in values:
        f = sum(sl["requests"] * below(sl, q) for sl in slices) / total
        if f >= want:
            return round(q0 + (q - q0) * ((want - f0) / (f - f0) if f > f0 else 1.0))
        q0, f0 = q, f
    return round(values[-1])


def merge_slices(slices: list[dict]) -> dict:
    """One target's figures from its interleaved wrk slices: counts, CPU
    and Redis command time added up, latencies merged (mean weighted by
    requests, percentiles by merged_percentile)."""
    out: dict[str, Any] = {k: sum(sl[k] for sl in slices) for k in (
        "requests", "duration_us", "bytes", "connect_errors", "read_errors", "write_errors",
        "status_errors", "timeouts", "errors_total")}
    n = out["requests"] or 1
    out["lat_mean_us"] = round(sum(sl["lat_mean_us"] * sl["requests"] for sl in slices) / n, 1)
    for p in (50, 90, 99):
        out[f"lat_p{p}_us"] = merged_percentile(slices, p)
    out["lat_max_us"] = max(sl["lat_max_us"] for sl in slices)
    out["rps"] = round(out["requests"] / (out["duration_us"] / 1e6), 1)
    out["cpu_s"] = {k: round(sum(sl["cpu_s"][k] for sl in slices), 2) for k in slices[0]["cpu_s"]}
    if "redis_commandstats" in slices[0]:
        stats: dict[str, dict] = {}
        for sl in slices:
            for cmd, st in sl["redis_commandstats"].items():
                acc = stats.setdefault(cmd, {"calls": 0, "usec": 0.0})
                acc["calls"] += st["calls"]
                acc["usec"] += st["calls"] * st["usec_per_call"]
        out["redis_commandstats"] = {c: {"calls": a["calls"],
                                         "usec_per_call": round(a["usec"] / a["calls"], 2)}
                                     for c, a in stats.items() if a["calls"]}
    # Noisy when the slices together were, or any one was: a slice run
    # while the hypervisor stole from this VM moves the merged tail.
    cpu = out["cpu_s"]
    out["noisy"] = any(sl["noisy"] for sl in slices) or \
        cpu["other_processes"] + cpu["stolen"] > NOISE_CPU_FRACTION * out["duration_us"] / 1e6
    out["slices_rps"] = [sl["rps"] for sl in slices]
    return out


def interleaved(targets: list[dict], script: Path, env: dict, duration_s: int,
                warmup_s: int) -> list[dict]:
    """Loads each target ({"name", "url", "watch", "redis"}) with the same
    wrk script: a warm-up each, then SLICES rounds in which every target
    gets duration_s / SLICES seconds, the order turning each round, so
    that a machine getting faster or slower during the phase weighs on
    all of them alike. Returns each target's merge_slices(), with its
    warm-up's requests."""
    slices = max(1, min(SLICES, duration_s))
    per = duration_s // slices
    runs: list[list[dict]] = [[] for _ in targets]
    warm = []
    for t in targets:
        log(f"  {t['name']}: warm-up {warmup_s}s")
        warm.append(run_wrk(t["url"], script, warmup_s, env, t["watch"], warmup=True))
    log(f"  {slices} rounds of {per}s each for {', '.join(t['name'] for t in targets)}")
    for r in range(slices):
        order = list(range(len(targets)))
        if r % 2:
            order.reverse()
        for i in order:
            t = targets[i]
            runs[i].append(run_wrk(t["url"], script, per, env, t["watch"], t.get("redis")))
    out = []
    for w, rs in zip(warm, runs):
        m = merge_slices(rs)
        m["warmup_requests"] = w["requests"]
        out.append(m)
    return out


# ------------------------------------------------------------- HTTP client --

class Client:
    """A keep-alive HTTP/1.1 connection to the gateway (one per thread)."""

    def __init__(self, port: int, key: str):
        self.port = port
        self.key = key
        self.conn: Optional[http.client.HTTPConnection] = None

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                ) -> tuple[int, http.client.HTTPMessage, bytes]:
        headers = {"Authorization": f"Bearer {self.key}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, resp.headers, data
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def review_body(file_path: str, content: str, diff: Optional[str] = None) -> bytes:
    body = {"file_path": file_path, "request_type": "review", "file_content": content}
    if diff is not None:
        body["diff"] = diff
    return json.dumps(body, separators=(",", ":")).encode()


def one_line_added(text: str) -> str:
    """text with a copy of its middle non-blank line added before it: the
    smallest change a diff review looks at."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return "\n"
    at = len(lines) // 2
    while at < len(lines) - 1 and not lines[at].strip():
        at += 1
    copy = lines[at] if lines[at].endswith("\n") else lines[at] + "\n"
    return "".join(lines[:at] + [copy] + lines[at:])


def unified_diff(path: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


def submit_all(port: int, key: str, bodies: list[bytes]) -> list[str]:
    """POST /review each body (one keep-alive connection); every one must be
    admitted (202). Returns the job ids."""
    c = Client(port, key)
    ids = []
    try:
        for b in bodies:
            status, _, data = c.request("POST", "/review", b)
            if status != 202:
                raise BenchError(f"POST /review -> {status} {data[:300]!r}")
            doc = json.loads(data)
            if doc.get("warnings"):
                raise BenchError(f"submission admitted with warnings: {doc['warnings']}")
            ids.append(doc["job_id"])
    finally:
        c.close()
    return ids


# --------------------------------------------------------------- content --

GO_TEMPLATE = """package handlers

// Handler{n} serves the {noun} endpoint of shard {n}.
import (
\t"encoding/json"
\t"errors"
\t"net/http"
\t"strconv"
\t"time"
)

type {Noun}{n} struct {{
\tID        int64     `json:"id"`
\tName      string    `json:"name"`
\tQuantity  int       `json:"quantity"`
\tUpdatedAt time.Time `json:"updated_at"`
}}

var err{Noun}{n}NotFound = errors.New("{noun} {n} not found")

type {Noun}Store{n} interface {{
\tGet(id int64) (*{Noun}{n}, error)
\tPut(v *{Noun}{n}) error
}}

func Get{Noun}{n}(store {Noun}Store{n}) http.HandlerFunc {{
\treturn func(w http.ResponseWriter, r *http.Request) {{
\t\tid, err := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
\t\tif err != nil || id <= 0 {{
\t\t\thttp.Error(w, "bad id", http.StatusBadRequest)
\t\t\treturn
\t\t}}
\t\tv, err := store.Get(id)
\t\tif errors.Is(err, err{Noun}{n}NotFound) {{
\t\t\thttp.Error(w, "not found", http.StatusNotFound)
\t\t\treturn
\t\t}}
\t\tif v.Quantity > {limit} {{
\t\t\tv.Quantity = {limit}
\t\t}}
\t\tw.Header().Set("Content-Type", "application/json")
\t\t_ = json.NewEncoder(w).Encode(v)
\t}}
}}
"""

NOUNS = ["order", "invoice", "ticket", "parcel", "account", "widget", "booking", "device"]


def go_source(n: int) -> str:
    noun = NOUNS[n % len(NOUNS)]
    return GO_TEMPLATE.format(n=n, noun=noun, Noun=noun.capitalize(), limit=100 + n % 900)


def post_body() -> tuple[bytes, int]:
    """A POST /review body of exactly POST_BODY_BYTES bytes (a Go file), and
    the byte length of its file_content (what the budget estimate uses)."""
    content = go_source(7)
    while len(review_body("src/handlers/order.go", content)) < POST_BODY_BYTES:
        content += "// padding line of the bench request body, kept to reach 2 KB\n"
    for _ in range(POST_BODY_BYTES):
        body = review_body("src/handlers/order.go", content)
        if len(body) <= POST_BODY_BYTES:
            break
        content = content[:-2] + "\n"
    body = review_body("src/handlers/order.go", content)
    body += b" " * (POST_BODY_BYTES - len(body))  # JSON allows trailing whitespace
    return body, len(content.encode())


def prompt_parts(body: Any) -> dict:
    """Where a review prompt's characters go: the system block (role +
    fixed instructions), the <lint> summary, the numbered <excerpt> (and how
    much of it is the "N\\t" line-number prefixes), and the rest."""
    text = request_text(body)
    system = body.get("system") if isinstance(body, dict) else None
    sys_chars = len(request_text({"system": system})) if system else 0
    lint = re.search(r"<lint>\n(.*?)</lint>", text, re.S)
    exc = re.search(r"<excerpt>\n(.*?)</excerpt>", text, re.S)
    exc_text = exc.group(1) if exc else ""
    prefixes = sum(len(m.group(0)) for m in re.finditer(r"^\d+\t", exc_text, re.M))
    lint_chars = len(lint.group(1)) if lint else 0
    out = {"total": len(text), "system": sys_chars, "lint": lint_chars,
           "excerpt": len(exc_text), "excerpt_line_prefixes": prefixes}
    out["other"] = out["total"] - sys_chars - lint_chars - len(exc_text)
    return out


def reduction(sent: list[float], naive: list[float]) -> dict:
    """Mean tokens sent and naive per review, and the reduction of the
    first mean against the second."""
    return {"avg_input_tokens": round(statistics.fmean(sent), 1),
            "avg_naive_tokens": round(statistics.fmean(naive), 1),
            "aggregate_reduction_pct": round(100 * (1 - sum(sent) / sum(naive)), 1)}


def bpe_reductions(brain: str, files: list[tuple[str, str, list[str]]]) -> dict:
    """The token phase counted again with real BPE tokenizers
    (bench/bpe_count.mjs): files holds (name, source, prompts sent). Code
    with line numbers costs more tokens per character than the brain's
    prose, so characters / 4 flatters the compact prompt; this says by how
    much. {"skipped": reason} when node or the npm tokenizers are missing."""
    texts = {"brain": brain}
    for name, source, prompts in files:
        texts[f"src:{name}"] = source
        for i, p in enumerate(prompts):
            texts[f"req{i}:{name}"] = p
    if shutil.which("node") is None:
        return {"skipped": "node not found (run `make deps`)"}
    try:
        r = subprocess.run(["node", str(BENCH / "bpe_count.mjs")], input=json.dumps({"texts": texts}),
                           capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        return {"skipped": "bench/bpe_count.mjs took over 120 s"}
    if r.returncode != 0:
        return {"skipped": f"bench/bpe_count.mjs failed: {r.stderr.strip()[:300]}"}
    counts = json.loads(r.stdout)
    out: dict[str, Any] = {"encodings": {}, "per_file": {}}
    for enc, c in counts.items():
        mine = [sum(c[f"req{i}:{name}"] for i in range(len(prompts)))
                for name, _, prompts in files]
        naive = [c["brain"] + c[f"src:{name}"] for name, _, _ in files]
        for (name, _, _), m, n in zip(files, mine, naive):
            out["per_file"].setdefault(name, {})[enc] = {"input_tokens": m, "naive_tokens": n}
        out["encodings"][enc] = {**reduction(mine, naive), "brain_tokens": c["brain"]}
    return out


# ------------------------------------------------------------- the bench --

class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.h: Optional[H.Harness] = None
        self.fake: Optional[FakeModel] = None
        self.gw: Optional[H.Gateway] = None
        self.refs: list[RefServer] = []
        self.results: dict[str, Any] = {}
        self.rows: list[dict] = []
        self.build = Path(args.build_dir)
        if not self.build.is_absolute():
            self.build = REPO / self.build

    # -- setup / teardown --

    def start(self) -> None:
        for b in ("codeinsight-gateway", "codeinsight-worker", "codeinsight-admin",
                  "codeinsight-migrate", "bench/ref_bare", "bench/ref_evalsha", "bench/redact"):
            if not os.access(self.build / b, os.X_OK):
                raise BenchError(f"missing {self.build / b}: run `make bench` (or `make all bench-refs`)")
        if shutil.which("wrk") is None:
            raise BenchError("wrk not found: run `make deps` (deploy/local/deps.sh installs it)")
        log("starting private Redis + PostgreSQL (tests/e2e/harness.py)")
        self.h = H.Harness(build_dir=str(self.build))
        self.h.start()
        self.logdir = self.h.tmpdir / "logs"
        self.fake = FakeModel.start(self.h.tmpdir / "fake-llm")
        log(f"fake model on :{self.fake.port}; starting the gateway")
        self.gw = self.h.start_gateway({
            "CODEINSIGHT_RATE_LIMIT_SCALE": RATE_SCALE,
            # Like the rate limits, on but out of the way: the POST load
            # queues hundreds of thousands of jobs no worker takes (so the
            # XLEN of the cap's check is measured, never a refusal).
            "CODEINSIGHT_QUEUE_MAX": "100000000",
            "CODEINSIGHT_LOG_LEVEL": "info",
            # The product's default (the test harness turns the cache off).
            "CODEINSIGHT_VIEW_CACHE_MB": "32",
            "CODEINSIGHT_HTTP_THREADS": str(self.args.http_threads),
            **self.provider_env()})
        self.redis_pid = int((self.h.tmpdir / "redis" / "redis.pid").read_text().strip())
        # AOF stays as services.sh sets it (appendonly, fsync every second);
        # only the automatic rewrite is off, so that a fork + rewrite of a
        # few hundred MB does not land in one load and not in the other.
        # fresh_redis() compacts the AOF between loads instead.
        self.redis("CONFIG", "SET", "auto-aof-rewrite-percentage", "0")
        pm = self.h.tmpdir / "pg" / "data" / "postmaster.pid"
        SERVICE_ROOTS[:] = [self.redis_pid, int(pm.read_text().split()[0])]

    def provider_env(self) -> dict:
        assert self.fake is not None
        return {"CODEINSIGHT_LLM_PROVIDER": "anthropic",
                "CODEINSIGHT_LLM_BASE_URL": self.fake.base_url}

    def worker_env(self, **extra: Any) -> dict:
        env = {**self.provider_env(), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
               "CODEINSIGHT_LOG_LEVEL": "info", "CODEINSIGHT_READ_BLOCK_MS": "200"}
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def stop(self) -> None:
        for r in self.refs:
            try:
                r.stop()
            except Exception as e:  # noqa: BLE001 - keep tearing down
                print(f"bench: stopping {r.name}: {e!r}", file=sys.stderr)
        self.refs = []
        if self.fake is not None:
            try:
                self.fake.stop()
            except Exception as e:  # noqa: BLE001
                print(f"bench: stopping the fake model: {e!r}", file=sys.stderr)
        if self.h is not None:
            self.h.teardown()

    def ref(self, name: str) -> RefServer:
        assert self.h is not None
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "REDIS_URL": self.h.redis_url}
        r = RefServer(self.build / "bench" / name, env, self.logdir)
        self.refs.append(r)
        return r

    def drop_ref(self, r: RefServer) -> None:
        r.stop()
        self.refs.remove(r)

    def user(self, tag: str) -> tuple[str, str]:
        assert self.h is not None
        email = f"bench-{tag}@example.com"
        uid = self.h.create_user(email, plan="business")
        return uid, self.h.issue_key(email, f"bench-{tag}")

    def redis(self, *args: Any) -> str:
        assert self.h is not None
        return self.h.redis_cli(*args)

    def fresh_redis(self) -> None:
        """FLUSHALL (workers stopped first), then compact the AOF so every
        load starts from the same small Redis."""
        assert self.h is not None
        assert self.h is not None
        self.h.stop_workers()
        self.redis("FLUSHALL")

        def wait_rewrite() -> None:
            for _ in range(300):
                info = self.redis("INFO", "persistence")
                if "aof_rewrite_in_progress:0" in info and "aof_rewrite_scheduled:0" in info:
                    return
                time.sleep(0.1)
            raise BenchError("Redis AOF rewrite did not finish within 30 s")
        wait_rewrite()   # an automatic rewrite may be running
        self.h.redis_cli("BGREWRITEAOF", check=False)
        wait_rewrite()
        self.wait_redis_background()

    def wait_redis_background(self) -> None:
        """After a rewrite Redis closes and unlinks the old AOF files on its
        background threads: after a load, hundreds of MB whose freeing takes
        the kernel a second or more of CPU. Waits (at most 20 s) until those
        threads' CPU time stands still for 0.5 s, so that the next load
        does not pay for the previous one's data."""
        def bio_cpu() -> int:
            total = 0
            for task in Path(f"/proc/{self.redis_pid}/task").iterdir():
                try:
                    if not (task / "comm").read_text().startswith("bio_"):
                        continue
                    fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                    total += int(fields[11]) + int(fields[12])
                except (OSError, IndexError, ValueError):
                    continue
            return total
        last, still_since = bio_cpu(), time.monotonic()
        deadline = still_since + 20
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = bio_cpu()
            if now != last:
                last, still_since = now, time.monotonic()
            elif time.monotonic() - still_since >= 0.5:
                return

    def wait_jobs(self, where: str, count: int, timeout: float, what: str) -> dict:
        """Poll PostgreSQL until `count` jobs matching `where` are done or
        failed; returns the counts."""
        assert self.h is not None
        deadline = time.monotonic() + min(timeout, max(1.0, remaining() - 30))
        last = {}
        for _ in range(int(timeout / 0.2) + 10):
            row = self.h.psql_rows(
                "SELECT count(*) FILTER (WHERE status = 'done'), "
                "count(*) FILTER (WHERE status = 'failed'), "
                f"count(*) FILTER (WHERE degraded) FROM jobs WHERE {where}")[0]
            last = {"done": int(row[0]), "failed": int(row[1]), "degraded": int(row[2])}
            if last["done"] + last["failed"] >= count:
                return last
            if time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        tails = "\n".join(f"--- {w.name}:\n{w.tail(10)}" for w in self.h.workers())
        raise BenchError(f"{what}: only {last} of {count} jobs finished in {timeout:.0f}s\n{tails}")

    def wait_stream_empty(self) -> None:
        assert self.h is not None
        self.h.wait_stream_drained(H.STREAM_FAST, H.GROUP_FAST, timeout=15)

    # -- table --

    def row(self, metric: str, value: Any, unit: str, reference: str, target_key: Optional[str],
            shown_ratio: str = "", measured: Any = None, noisy: bool = False) -> None:
        """A table row; target_key names TARGETS (None: information only).
        measured: what is compared with the target (default value)."""
        verdict = "INFO"
        target_txt = ""
        if target_key is not None:
            op, bound = TARGETS[target_key]
            x = value if measured is None else measured
            ok = {">=": x >= bound, "<=": x <= bound, "==": x == bound}[op] \
                if isinstance(x, (int, float)) and not math.isnan(x) else False
            verdict = "PASS" if ok else "FAIL"
            target_txt = f"{op} {bound:g}" if not isinstance(bound, int) else f"{op} {bound}"
        if noisy:
            verdict += " (noisy)"
        self.rows.append({"metric": metric, "value": value, "unit": unit, "reference": reference,
                          "ratio": shown_ratio, "target": target_txt, "verdict": verdict})

    # -- 1. POST /review --

    def phase_post(self) -> None:
        assert self.h is not None and self.gw is not None
        need(70, "the POST /review load")
        body, content_len = post_body()
        body_file = self.h.tmpdir / "post_body.json"
        body_file.write_bytes(body)
        uid, key = self.user("post")
        month = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
        bkey = f"budget:{uid}:{month}"
        env = {"BENCH_BODY": str(body_file), "BENCH_KEY": key}
        script = BENCH / "wrk" / "post.lua"
        d, w = self.args.duration, self.args.warmup
        out: dict[str, Any] = {"body_bytes": len(body), "file_content_bytes": content_len}

        def seed_budget() -> None:
            # Headroom for the ~10^5 jobs one load admits: a business budget
            # (4M tokens) holds ~1,000 of them. Written to the very counter
            # admit.lua reads, so every request takes the normal path
            # (reservation + stream entry + index), none is degraded.
            self.redis("HSET", bkey, "used", "-1000000000000", "reserved", "0")
            self.redis("EXPIRE", bkey, "86400")

        # (b) the reference, bare MHD + one EVALSHA (bucket + XADD of the
        # body), and the gateway, in interleaved slices of the same load.
        # Both streams grow in the one Redis meanwhile, alike for both.
        self.fresh_redis()
        seed_budget()
        ref = self.ref("ref_evalsha")
        log(f"POST: ref_evalsha and the gateway, warm-up {w}s each + {d}s each")
        res_ref, res_gw = interleaved(
            [{"name": "ref_evalsha", "url": f"http://127.0.0.1:{ref.port}/review",
              "watch": {"server": ref.pid, "redis": self.redis_pid}, "redis": self.redis},
             {"name": "gateway", "url": f"http://127.0.0.1:{self.gw.port}/review",
              "watch": {"server": self.gw.pid, "redis": self.redis_pid}, "redis": self.redis}],
            script, env, d, w)
        res_ref["xlen"] = int(self.redis("XLEN", "ref_jobs"))
        self.drop_ref(ref)
        out["ref_evalsha"] = res_ref

        admitted = int(self.redis("XLEN", H.STREAM_FAST))
        reserved = int(self.redis("HGET", bkey, "reserved") or 0)
        # What one job reserved, from its stream entry's meta (a field of
        # its own in entries of an older gateway; common/job.h).
        est = int(self.redis("EVAL", "local e = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][2] "
                             "for i = 1, #e, 2 do if e[i] == 'reserved' then return e[i + 1] end "
                             "if e[i] == 'meta' then local r = cjson.decode(e[i + 1]).reserved "
                             "if r then return r end end end",
                             "1", H.STREAM_FAST))
        out["estimate_tokens_per_job"] = est
        res_gw["admitted_total"] = admitted
        res_gw["requests_total"] = res_gw["warmup_requests"] + res_gw["requests"]
        res_gw["degraded_or_unreserved"] = admitted - reserved // est
        out["gateway"] = res_gw

        # (a) for information: the bare server under the same POSTs
        self.fresh_redis()
        ref = self.ref("ref_bare")
        url = f"http://127.0.0.1:{ref.port}/review"
        log(f"POST: ref_bare warm-up {w}s + {d}s")
        run_wrk(url, script, w, env, {"server": ref.pid}, warmup=True)
        out["ref_bare"] = run_wrk(url, script, d, env, {"server": ref.pid})
        self.drop_ref(ref)
        self.fresh_redis()

        if res_gw["errors_total"] or res_ref["errors_total"]:
            out["warning"] = "wrk counted errors or non-2xx answers; see errors fields"
        ratio = res_gw["rps"] / res_ref["rps"] if res_ref["rps"] else float("nan")
        out["ratio"] = round(ratio, 3)
        self.results["post_review"] = out
        valid = res_gw["errors_total"] == 0 and res_gw["degraded_or_unreserved"] == 0
        noisy = res_gw["noisy"] or res_ref["noisy"]
        self.row("POST /review throughput", res_gw["rps"], "req/s",
                 f"ref_evalsha {res_ref['rps']:.0f}", "post_ratio", f"{ratio:.2f}",
                 measured=ratio if valid else float("nan"), noisy=noisy)
        self.row("POST /review p99", round(res_gw["lat_p99_us"] / 1000, 2), "ms",
                 f"ref_evalsha {res_ref['lat_p99_us'] / 1000:.2f}", "post_p99_ms",
                 measured=res_gw["lat_p99_us"] / 1000 if valid else float("nan"), noisy=noisy)

    # -- 2. GET /job/:id --

    def phase_get(self) -> None:
        assert self.h is not None and self.gw is not None and self.fake is not None
        need(60, "the GET /job/:id load")
        self.fresh_redis()
        _, key = self.user("get")
        self.fake.reset()
        self.fake.default({"latency_ms": 0})
        bodies = [review_body(f"get/svc_{i}.go", go_source(10_000 + i)) for i in range(GET_JOBS)]
        log(f"GET: preparing {GET_JOBS} finished jobs")
        ids = submit_all(self.gw.port, key, bodies)
        self.h.start_worker("fast", self.worker_env())
        st = self.wait_jobs("file_path LIKE 'get/%'", GET_JOBS, 60, "GET preparation")
        self.wait_stream_empty()
        self.h.stop_workers()
        if st["failed"]:
            raise BenchError(f"GET preparation: {st['failed']} jobs failed")
        status, _, data = Client(self.gw.port, key).request("GET", f"/job/{ids[0]}")
        if status != 200 or json.loads(data).get("status") != "done":
            raise BenchError(f"GET /job/{ids[0]} -> {status} {data[:200]!r}")
        ids_file = self.h.tmpdir / "job_ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        self.get_key, self.get_bodies, self.get_ids = key, bodies, ids

        env = {"BENCH_IDS": str(ids_file), "BENCH_KEY": key}
        script = BENCH / "wrk" / "get_job.lua"
        d, w = self.args.duration, self.args.warmup
        ref = self.ref("ref_bare")
        log(f"GET: ref_bare and the gateway, warm-up {w}s each + {d}s each")
        res_ref, res_gw = interleaved(
            [{"name": "ref_bare", "url": f"http://127.0.0.1:{ref.port}",
              "watch": {"server": ref.pid}},
             {"name": "gateway", "url": f"http://127.0.0.1:{self.gw.port}",
              "watch": {"server": self.gw.pid, "redis": self.redis_pid}, "redis": self.redis}],
            script, env, d, w)
        self.drop_ref(ref)
        ratio = res_gw["rps"] / res_ref["rps"] if res_ref["rps"] else float("nan")
        self.results["get_job"] = {"jobs": len(ids), "gateway": res_gw, "ref_bare": res_ref,
                                   "ratio": round(ratio, 3)}
        valid = res_gw["errors_total"] == 0
        noisy = res_gw["noisy"] or res_ref["noisy"]
        self.row("GET /job/:id throughput", res_gw["rps"], "req/s",
                 f"ref_bare {res_ref['rps']:.0f}", "get_ratio", f"{ratio:.2f}",
                 measured=ratio if valid else float("nan"), noisy=noisy)
        self.row("GET /job/:id p99", round(res_gw["lat_p99_us"] / 1000, 2), "ms",
                 f"ref_bare {res_ref['lat_p99_us'] / 1000:.2f}", "get_p99_ms",
                 measured=res_gw["lat_p99_us"] / 1000 if valid else float("nan"), noisy=noisy)

    # -- 4. cache hit --

    def phase_cache(self) -> None:
        assert self.h is not None and self.gw is not None
        need(30, "the cache-hit loop")
        if not getattr(self, "get_bodies", None):
            raise BenchError("the cache phase needs the GET phase's finished jobs")
        body = self.get_bodies[0]
        c = Client(self.gw.port, self.get_key)
        lat: list[float] = []
        misses = 0
        deadline = time.monotonic() + 60
        # Redis' own latency monitor: which of its events (commands, AOF
        # writes and fsyncs) took over 1 ms during the loop.
        self.redis("CONFIG", "SET", "latency-monitor-threshold", "1")
        self.redis("LATENCY", "RESET")
        foreign = ForeignCPU(SERVICE_ROOTS)
        try:
            for i in range(CACHE_WARMUP + CACHE_REQUESTS):
                t = time.perf_counter_ns()
                status, hdrs, data = c.request("POST", "/review", body)
                el = (time.perf_counter_ns() - t) / 1e6
                if status != 200 or hdrs.get("X-Cache") != "hit":
                    misses += 1
                    if misses > 10:
                        raise BenchError(f"resubmission not answered from the cache: {status} "
                                         f"X-Cache={hdrs.get('X-Cache')} {data[:200]!r}")
                if i >= CACHE_WARMUP:
                    lat.append(el)
                if time.monotonic() > deadline:
                    raise BenchError("cache-hit loop exceeded 60 s")
        finally:
            c.close()
        other = foreign.stop("cache-hit loop")
        redis_latency = self.redis("LATENCY", "LATEST").split()
        self.redis("CONFIG", "SET", "latency-monitor-threshold", "0")
        slow = [i for i, x in enumerate(lat) if x > 5.0]
        lat.sort()
        q = statistics.quantiles(lat, n=100)
        out = {"requests": len(lat), "misses": misses, "p50_ms": round(statistics.median(lat), 3),
               "p90_ms": round(q[89], 3), "p99_ms": round(q[98], 3),
               "mean_ms": round(statistics.fmean(lat), 3), "max_ms": round(lat[-1], 3),
               "over_5ms": len(slow), "over_5ms_first_indexes": slow[:20],
               "other_processes_cpu_s": other, "stolen_s": foreign.steal,
               "redis_latency_latest": redis_latency,
               "client": "python http.client, one keep-alive connection, sequential"}
        self.results["cache_hit"] = out
        self.row("Cache-hit POST p50", out["p50_ms"], "ms", f"p99 {out['p99_ms']:.2f}",
                 "cache_p50_ms", measured=out["p50_ms"] if misses == 0 else float("nan"),
                 noisy=other + foreign.steal > NOISE_CPU_FRACTION * 2)

    # -- 5. tokens --

    def phase_tokens(self) -> None:
        assert self.h is not None and self.gw is not None and self.fake is not None
        need(90, "the token phase")
        files = sorted(p for p in (BENCH / "corpus").iterdir() if p.is_file())
        if len(files) < 10:
            raise BenchError("bench/corpus/ holds fewer than 10 files")
        brain = (REPO / "prompts" / "system_brain.json").read_text()
        _, key = self.user("tokens")
        self.fake.reset()
        self.fake.default({"latency_ms": 0})
        # Each file reviewed whole, then (under another path, so that no
        # result is shared) with a diff that adds one line in its middle.
        whole = {f"corpus/{p.name}": (p.read_text(), None) for p in files}
        changed = {}
        for p in files:
            rel, old = f"corpus-diff/{p.name}", p.read_text()
            new = one_line_added(old)
            changed[rel] = (new, unified_diff(rel, old, new))
        reviews = {**whole, **changed}
        rels = list(reviews)
        bodies = [review_body(rel, text, diff) for rel, (text, diff) in reviews.items()]
        log(f"tokens: reviewing {len(files)} corpus files, whole and as a diff, through a worker")
        ids = submit_all(self.gw.port, key, bodies)
        self.h.start_worker("fast", self.worker_env())
        st = self.wait_jobs("file_path LIKE 'corpus%'", len(ids), 150, "token corpus")
        self.wait_stream_empty()
        self.h.stop_workers()
        reqs = self.fake.all_requests()
        job_ids = dict(zip(rels, ids))
        c = Client(self.gw.port, key)
        try:
            out = self.token_set(whole, job_ids, reqs, brain, c, self.args.prompts)
            diff = self.token_set(changed, job_ids, reqs, brain, c, None)
        finally:
            c.close()
        out["jobs"] = st
        out["diff_review"] = diff
        self.results["tokens"] = out
        agg, avg = out["aggregate_reduction_pct"], out["avg_reduction_pct"]
        # Judged on the average review (its tokens against the average naive
        # prompt's), the figure the row shows; the mean of the per-file cuts
        # weighs a 50-line file like a 500-line one and is given beside it.
        self.row("Input tokens per review", out["avg_input_tokens"], "tok",
                 f"naive {out['avg_naive_tokens']:.0f}", "token_reduction_pct",
                 f"-{agg:.1f}% (files' mean -{avg:.1f}%)", measured=agg)
        for enc, b in (out["bpe"].get("encodings") or {}).items():
            self.row(f"  same, {enc} BPE", b["avg_input_tokens"], "tok",
                     f"naive {b['avg_naive_tokens']:.0f}", None,
                     f"-{b['aggregate_reduction_pct']:.1f}%")
        bpe_txt = "".join(f", {enc} -{b['aggregate_reduction_pct']:.1f}%"
                          for enc, b in (diff["bpe"].get("encodings") or {}).items())
        self.row("Input tokens per diff review", round(diff["avg_input_tokens"]), "tok",
                 f"naive {diff['avg_naive_tokens']:.0f}", None,
                 f"-{diff['aggregate_reduction_pct']:.1f}%{bpe_txt}")
        if out["bpe"].get("skipped"):
            log(f"tokens: BPE cross-check skipped: {out['bpe']['skipped']}")

    def token_set(self, entries: dict[str, tuple[str, Optional[str]]], job_ids: dict[str, str],
                  reqs: list[dict], brain: str, c: Client, prompts_dir: Optional[str]) -> dict:
        """The token figures of one set of reviews: entries maps a path to
        (file, diff or None); the naive prompt is the whole brain, the file
        and the diff. The prompts are the fake model's requests that name
        the path."""
        per_file, sent = [], {}
        recorded = [(r.get("body"), request_text(r.get("body"))) for r in reqs]
        for rel, (text, diff) in entries.items():
            named = re.compile(rf"^File: {re.escape(rel)}( \(|$)", re.M)
            found = [(body, t) for body, t in recorded if named.search(t)]
            if not found:
                raise BenchError(f"no model request recorded for {rel}")
            mine = sent[rel] = [t for _, t in found]
            status, _, data = c.request("GET", f"/job/{job_ids[rel]}")
            job = json.loads(data) if status == 200 else {}
            actual = sum(len(t) for t in mine) // 4
            if prompts_dir:
                out_dir = Path(prompts_dir)
                out_dir.mkdir(parents=True, exist_ok=True)
                (out_dir / f"{Path(rel).name}.txt").write_text(mine[0])
            naive = (len(brain) + len(text) + len(diff or "")) // 4
            per_file.append({
                "file": rel, "lines": text.count("\n"), "bytes": len(text.encode()),
                "language": job.get("language"), "model_calls": len(mine),
                "input_tokens": actual,
                "usage_input_tokens": (job.get("usage") or {}).get("input_tokens"),
                "naive_tokens": naive, "prompt_chars": prompt_parts(found[0][0]),
                "reduction_pct": round(100 * (1 - actual / naive), 1) if naive else None,
                "lint_findings": sum(1 for f in job.get("findings", [])
                                     if str(f.get("source", "")).startswith("lint:")),
                "degraded": job.get("degraded"), "cached": job.get("cached")})
        bpe = bpe_reductions(brain, [(rel, text + (diff or ""), sent[rel])
                                     for rel, (text, diff) in entries.items()])
        return {"files": len(per_file),
                **reduction([f["input_tokens"] for f in per_file],
                            [f["naive_tokens"] for f in per_file]),
                "avg_reduction_pct": round(statistics.fmean(f["reduction_pct"] for f in per_file), 1),
                "brain_chars": len(brain), "bpe": bpe, "per_file": per_file}

    # -- 3. worker drain --

    def phase_drain(self) -> None:
        assert self.h is not None and self.gw is not None and self.fake is not None
        need(DRAIN_TIMEOUT_S + 40, "the drain")
        self.h.stop_workers()
        self.fake.reset()
        self.fake.default({"latency_ms": DRAIN_LATENCY_MS})
        per = DRAIN_JOBS // DRAIN_USERS
        batches = []
        for u in range(DRAIN_USERS):
            _, key = self.user(f"drain{u}")
            bodies = [review_body(f"drain/u{u}/h{i}.go", go_source(100_000 + u * per + i))
                      for i in range(per)]
            batches.append((key, bodies))
        log(f"drain: submitting {DRAIN_JOBS} jobs (worker stopped)")
        errors: list[BaseException] = []

        def sub(key: str, bodies: list[bytes]) -> None:
            try:
                submit_all(self.gw.port, key, bodies)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=sub, args=b) for b in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        if errors or any(t.is_alive() for t in threads):
            raise BenchError(f"drain submission failed: {errors[:1]!r}")
        backlog = int(self.redis("XLEN", H.STREAM_FAST))
        if backlog != DRAIN_JOBS:
            raise BenchError(f"drain: {backlog} entries queued, expected {DRAIN_JOBS}")

        log(f"drain: one fast worker, CODEINSIGHT_MAX_INFLIGHT={DRAIN_MAX_INFLIGHT}, "
            f"model latency {DRAIN_LATENCY_MS} ms")
        foreign = ForeignCPU(SERVICE_ROOTS)
        t_spawn = time.monotonic()
        wk = self.h.start_worker("fast", self.worker_env(
            CODEINSIGHT_MAX_INFLIGHT=DRAIN_MAX_INFLIGHT), wait=False)
        rss_max = 0
        where = "file_path LIKE 'drain/%'"
        deadline = t_spawn + DRAIN_TIMEOUT_S
        last: dict = {}
        t_ready = None
        for _ in range(int(DRAIN_TIMEOUT_S / 0.2) + 10):
            if not wk.alive():
                raise BenchError(f"worker exited ({wk.returncode}) during the drain:\n{wk.tail()}")
            try:
                rss_max = max(rss_max, proc_status_kb(wk.pid, "VmRSS"))
            except OSError:
                pass
            if t_ready is None and wk.events("worker_started"):
                t_ready = time.monotonic()
            row = self.h.psql_rows(
                "SELECT count(*) FILTER (WHERE status = 'done'), "
                "count(*) FILTER (WHERE status = 'failed'), "
                f"count(*) FILTER (WHERE degraded) FROM jobs WHERE {where}")[0]
            last = {"done": int(row[0]), "failed": int(row[1]), "degraded": int(row[2])}
            if last["done"] + last["failed"] >= DRAIN_JOBS:
                break
            if time.monotonic() >= deadline:
                raise BenchError(f"drain: only {last} of {DRAIN_JOBS} finished in "
                                 f"{DRAIN_TIMEOUT_S}s\n{wk.tail(10)}")
            time.sleep(0.2)
        t_done = time.monotonic()
        other = foreign.stop("drain")
        hwm_kb = proc_status_kb(wk.pid, "VmHWM")
        worker_cpu = proc_cpu_s(wk.pid)
        self.wait_stream_empty()
        window = self.h.psql_rows(
            "SELECT extract(epoch FROM max(finished_at) - min(started_at)), "
            "extract(epoch FROM max(finished_at) - min(finished_at)), "
            f"count(*) FILTER (WHERE cached) FROM jobs WHERE {where}")[0]
        stats = self.fake.stats()
        self.h.stop_workers()
        sustained = DRAIN_JOBS / float(window[0])
        wall = t_done - t_spawn
        out = {"jobs": DRAIN_JOBS, "users": DRAIN_USERS, "model_latency_ms": DRAIN_LATENCY_MS,
               "max_inflight": DRAIN_MAX_INFLIGHT, "status": last,
               "prompt_cache_hits": int(window[2]),
               "first_start_to_last_finish_s": round(float(window[0]), 3),
               "first_finish_to_last_finish_s": round(float(window[1]), 3),
               "sustained_jobs_per_s": round(sustained, 1),
               "wall_s_spawn_to_all_done": round(wall, 3),
               "wall_jobs_per_s": round(DRAIN_JOBS / wall, 1),
               "worker_startup_s": round(t_ready - t_spawn, 3) if t_ready else None,
               "theoretical_max_jobs_per_s": DRAIN_MAX_INFLIGHT * 1000 / DRAIN_LATENCY_MS,
               "worker_vmhwm_kb": hwm_kb, "worker_vmrss_max_sampled_kb": rss_max,
               "worker_cpu_s": round(worker_cpu, 2), "other_processes_cpu_s": other,
               "stolen_s": foreign.steal,
               "fake_model": {k: stats.get(k) for k in ("requests_total", "max_in_flight",
                                                        "max_connections_open",
                                                        "connections_total", "by_status")}}
        self.results["drain"] = out
        self.row("Drain (1 fast worker)", out["sustained_jobs_per_s"], "jobs/s",
                 f"max {out['theoretical_max_jobs_per_s']:.0f}", "drain_jobs_per_s",
                 f"wall {out['wall_jobs_per_s']:.0f}/s",
                 noisy=other + foreign.steal > NOISE_CPU_FRACTION * wall)
        self.row("Worker peak RSS (VmHWM)", round(hwm_kb / 1024, 1), "MB", "", "drain_rss_mb")
        self.row("Drain failed jobs", last["failed"], "jobs",
                 f"degraded {last['degraded']}", "drain_failed")

    # -- lint throughput --

    def lint_launcher_argv(self, files_dir: Path, status: Path, name: str, fname: str,
                           eslint_dir: Path) -> list[str]:
        """The sandbox launcher's options for one linter run, as worker/lint.c
        builds them (CODEINSIGHT_LINT_SANDBOX=1, default limits)."""
        cmd = [str(self.launcher()), "--sandbox-exec",
               "--bwrap", "/usr/bin/bwrap", "--stage", str(files_dir), "--status", str(status),
               "--cpu", str(30000 // 1000 + 1), "--linter",
               # CODEINSIGHT_LINT_MEMORY_MB; ESLint + V8's reservations;
               # shellcheck none (GHC's collector), as sandbox_argv in lint.c
               "--as-mb", str({"eslint": 2048 + 1024, "shellcheck": 0}.get(name, 2048)),
               "--env", "PATH=/usr/local/bin:/usr/bin:/bin", "--env", "PYLINTHOME=/tmp/.pylint",
               "--env", "XDG_CACHE_HOME=/tmp/.cache", "--env", "LC_ALL=C.UTF-8"]
        if name == "eslint":
            cmd += ["--ro-bind", str(eslint_dir.resolve()), "/opt/eslint"]
        cmd += ["--file", fname]
        if name == "eslint":
            cmd += ["--file", "eslint.config.mjs"]
        return cmd + ["--"]

    def launcher(self) -> Path:
        """The launcher the worker runs (worker/launcher.h, launcher_locate)."""
        own = self.build / "codeinsight-sandbox-exec"
        return own if os.access(own, os.X_OK) else self.build / "codeinsight-worker"

    def lint_sandbox_works(self) -> bool:
        """Whether the launcher runs /bin/true here (bwrap, user namespaces)."""
        with tempfile.TemporaryDirectory(prefix="bench-probe-") as tmp:
            (Path(tmp) / "files").mkdir()
            cmd = [str(self.launcher()), "--sandbox-exec", "--bwrap",
                   "/usr/bin/bwrap", "--stage", f"{tmp}/files", "--status", f"{tmp}/status",
                   "--cpu", "5", "--as-mb", "256", "--", "true"]
            r = subprocess.run(cmd, capture_output=True, timeout=30, preexec_fn=_pdeathsig,
                               start_new_session=True)
            return r.returncode == 0

    def phase_lint(self) -> None:
        need(LINT_SECONDS * 12 + 30, "the linter throughput")
        corpus = BENCH / "corpus"
        eslint_dir = REPO / "deploy" / "eslint"
        eslint_bin = eslint_dir / "node_modules" / ".bin" / "eslint"
        cpp_common = ["--enable=warning,style,performance,portability", "--quiet",
                      "--suppress=missingIncludeSystem",
                      "--template={file}\\t{line}:{column}:{severity}:{id}:{message}"]
        # argv as in worker/linters.c; "{f}" is the file
        linters: list[tuple[str, list[str], tuple[str, ...], dict[str, list[str]]]] = [
            ("flake8", ["flake8", "--isolated", "--jobs=1", "--max-complexity=10",
                        "--format=%(row)d:%(col)d:%(code)s:%(text)s", "--no-show-source", "{f}"],
             (".py",), {}),
            ("pylint", ["pylint", "--output-format=json", "--persistent=n", "--score=n",
                        "--rcfile=/dev/null", "--jobs=1",
                        "--disable=import-error,relative-beyond-top-level", "{f}"], (".py",), {}),
            ("shellcheck", ["shellcheck", "--norc", "--format=json1", "{f}"], (".sh",), {}),
            ("cppcheck", ["cppcheck", "--language=c", *cpp_common, "{f}"], (".c", ".cpp"),
             {".cpp": ["cppcheck", "--language=c++", *cpp_common, "{f}"]}),
            ("eslint", [str(eslint_bin), "--config", "eslint.config.mjs", "--format", "json",
                        "--no-warn-ignored", "{f}"],
             (".js", ".ts"), {}),
        ]
        # exit statuses that mean "ran" (findings or not), as worker/linters.c
        ok_exit = {"flake8": {0, 1}, "pylint": set(range(32)), "shellcheck": {0, 1},
                   "cppcheck": {0}, "eslint": {0, 1}}
        taskset = shutil.which("taskset")
        sandboxed = self.lint_sandbox_works()
        out: dict[str, Any] = {"seconds_per_linter": LINT_SECONDS,
                               "pinned": "taskset -c 0" if taskset else "not pinned",
                               "sandboxed": sandboxed}
        for name, argv, exts, per_ext in linters:
            files = sorted(p for p in corpus.iterdir() if p.suffix in exts)
            exe = argv[0]
            if not files or (shutil.which(exe) is None and not os.access(exe, os.X_OK)):
                out[name] = {"status": "missing" if files else "no corpus files"}
                self.row(f"Lint {name}", float("nan"), "files/s/core", "missing", None)
                continue
            # As the worker runs them (in the sandbox when it works), then plain.
            modes = ([True] if sandboxed else []) + [False]
            res = {m: self.lint_loop(name, argv, per_ext, files, ok_exit[name], eslint_dir,
                                     taskset, m) for m in modes}
            first = res[modes[0]]
            out[name] = {**first, "files": [p.name for p in files],
                         "plain": {k: res[False][k] for k in ("files_per_s", "median_run_ms")}}
            ref = f"{first['median_run_ms']:.0f} ms/file"
            if sandboxed:
                ref += (f"; plain {res[False]['files_per_s']:.2f}/s, "
                        f"{res[False]['median_run_ms']:.0f} ms")
            self.row(f"Lint {name}{'' if sandboxed else ' (no sandbox)'}",
                     round(first["files_per_s"], 2), "files/s/core", ref, None,
                     noisy=any(r["noisy"] for r in res.values()))
        self.results["lint"] = out

    def lint_loop(self, name: str, argv: list[str], per_ext: dict[str, list[str]],
                  files: list[Path], ok: set[int], eslint_dir: Path, taskset: Optional[str],
                  sandboxed: bool) -> dict[str, Any]:
        """Runs one linter over files, round robin, for LINT_SECONDS (at least
        each file once), one run at a time on core 0."""
        runs, lines, per_run = 0, 0, []
        with tempfile.TemporaryDirectory(prefix="bench-lint-") as tmp:
            work = Path(tmp) / "files"
            work.mkdir()
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp,
                   "TMPDIR": tmp, "PYLINTHOME": f"{tmp}/.pylint",
                   "XDG_CACHE_HOME": f"{tmp}/.cache", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
            if name == "eslint":
                conf = "/opt/eslint" if sandboxed else str(eslint_dir)
                (work / "eslint.config.mjs").write_text(
                    f'export {{ default }} from "{conf}/eslint.config.mjs";\n')
            for p in files:
                shutil.copy(p, work / p.name)
            t0 = time.monotonic()
            foreign = ForeignCPU(SERVICE_ROOTS)
            for i in range(10_000):
                p = files[i % len(files)]
                cmd = [a.replace("{f}", f"./{p.name}") for a in per_ext.get(p.suffix, argv)]
                if sandboxed:
                    if name == "eslint":
                        cmd[0] = "/opt/eslint/node_modules/.bin/eslint"
                    status = Path(tmp) / f"status.{i}"
                    cmd = self.lint_launcher_argv(work, status, name, p.name, eslint_dir) + cmd
                if taskset:
                    cmd = [taskset, "-c", "0", *cmd]
                t = time.monotonic()
                # A session of its own: the launcher's keeper kills its group.
                r = subprocess.run(cmd, cwd=work, env=env, capture_output=True,
                                   timeout=LINT_RUN_TIMEOUT_S, preexec_fn=_pdeathsig,
                                   start_new_session=True)
                per_run.append(time.monotonic() - t)
                if r.returncode not in ok:
                    raise BenchError(f"{name} {p.name}{' (sandboxed)' if sandboxed else ''} "
                                     f"exited {r.returncode}: {r.stderr[-500:]!r}")
                runs += 1
                lines += p.read_text().count("\n")
                if time.monotonic() - t0 >= LINT_SECONDS and runs >= len(files):
                    break
                if time.monotonic() - t0 >= LINT_SECONDS * 3:
                    break
            el = time.monotonic() - t0
            other = foreign.stop(f"lint {name}")
        return {"runs": runs, "seconds": round(el, 2), "files_per_s": round(runs / el, 2),
                "lines_per_s": round(lines / el, 0),
                "median_run_ms": round(1000 * statistics.median(per_run), 1),
                "other_processes_cpu_s": other, "stolen_s": foreign.steal,
                "noisy": other + foreign.steal > NOISE_CPU_FRACTION * el}

    # -- redaction time --

    def phase_redact(self) -> None:
        need(REDACT_TIMEOUT_S, "the redaction timing")
        cmd = [str(self.build / "bench" / "redact"),
               str(REPO / "tests" / "fixtures" / "secrets" / "negatives.txt")]
        taskset = shutil.which("taskset")
        if taskset:
            cmd = [taskset, "-c", "0", *cmd]
        t0 = time.monotonic()
        foreign = ForeignCPU(SERVICE_ROOTS)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=REDACT_TIMEOUT_S,
                           preexec_fn=_pdeathsig)
        el = time.monotonic() - t0
        other = foreign.stop("redact")
        if r.returncode != 0:
            raise BenchError(f"bench/redact exited {r.returncode}: {r.stderr[-500:]!r}")
        ms: dict[str, dict[int, float]] = {}
        for line in r.stdout.splitlines():
            x = json.loads(line)
            ms.setdefault(x["input"], {})[x["bytes"]] = x["ms"]
        small, big = sorted({b for v in ms.values() for b in v})
        mib = big / (1024 * 1024)
        per_input = {k: {"ms_per_mib": round(v[big] / mib, 2),
                         "growth": round(v[big] / v[small], 2) if v[small] > 0 else float("nan")}
                     for k, v in ms.items()}
        worst = max((k for k in per_input if k != "clean"), key=lambda k: per_input[k]["ms_per_mib"])
        steepest = max(per_input, key=lambda k: per_input[k]["growth"])
        noisy = other + foreign.steal > NOISE_CPU_FRACTION * el
        self.results["redact"] = {"sizes_bytes": [small, big], "inputs": per_input,
                                  "worst_input": worst, "steepest_input": steepest,
                                  "other_processes_cpu_s": other, "stolen_s": foreign.steal}
        self.row("Redact code without secrets", round(mib * 1000 / ms["clean"][big], 1), "MiB/s",
                 f"{per_input['clean']['ms_per_mib']:.0f} ms/MiB", None, noisy=noisy)
        self.row("Redact slowest crafted input", per_input[worst]["ms_per_mib"], "ms/MiB",
                 repr(worst), "redact_worst_ms_per_mib", noisy=noisy)
        self.row(f"Redact time growth 1 -> {mib:.0f} MiB", per_input[steepest]["growth"], "x",
                 f"{steepest!r} (linear: {mib:.0f})", "redact_growth", noisy=noisy)


# ------------------------------------------------------------------ report --

def machine_info() -> dict:
    def cmd(*a: str) -> str:
        try:
            return subprocess.run(a, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "kernel": platform.release(), "cpu": cpu,
            "mem_mb": mem_kb // 1024, "os": cmd("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"),
            "redis": cmd("redis-server", "--version"),
            "postgres": cmd("sh", "-c", "ls /usr/lib/postgresql | sort -V | tail -n 1"),
            "wrk": cmd("sh", "-c", "wrk -v 2>&1 | head -n 1"),
            "libmicrohttpd": cmd("pkg-config", "--modversion", "libmicrohttpd"),
            "hiredis": cmd("pkg-config", "--modversion", "hiredis"),
            "python": platform.python_version()}


def git_info() -> dict:
    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(REPO), *a], capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "n/a"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def print_table(rows: list[dict]) -> str:
    head = ["metric", "value", "reference", "ratio / target", "result"]
    body = [[r["metric"], f"{fmt(r['value'])} {r['unit']}", r["reference"],
             " ".join(x for x in (r["ratio"], f"({r['target']})" if r["target"] else "") if x),
             r["verdict"]] for r in rows]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    out = [line, "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |", line]
    for b in body:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(b, widths)) + " |")
    out.append(line)
    text = "\n".join(out)
    print(text, flush=True)
    return text


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-dir", default="build")
    p.add_argument("--duration", type=int, default=10, help="seconds of each measured load")
    p.add_argument("--warmup", type=int, default=2, help="seconds of each warm-up load")
    p.add_argument("--only", default="", help="comma list of phases (development)")
    p.add_argument("--out", default=str(BENCH / "results.json"))
    p.add_argument("--prompts", default="",
                   help="directory to write each corpus file's prompt to (tokens phase)")
    p.add_argument("--http-threads", type=int, default=0,
                   help="the gateway's CODEINSIGHT_HTTP_THREADS (0: its default)")
    args = p.parse_args(argv)
    args.http_threads = max(0, min(args.http_threads, 256))
    args.duration = max(1, min(args.duration, 30))
    args.warmup = max(1, min(args.warmup, 10))
    phases = ["lint", "redact", "post", "get", "cache", "tokens", "drain"]
    if args.only:
        want = set(args.only.split(","))
        if "cache" in want:
            want.add("get")
        phases = [x for x in phases if x in want]

    def on_signal(signum: int, frame: Any) -> None:  # noqa: ARG001
        raise KeyboardInterrupt(signal.Signals(signum).name)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    started = dt.datetime.now(dt.timezone.utc)
    b = Bench(args)
    rc = 0
    error = None
    try:
        b.start()
        for ph in phases:
            getattr(b, f"phase_{ph}")()
    except BenchError as e:
        error = str(e)
        rc = 1
    except KeyboardInterrupt as e:
        error = f"interrupted ({e})"
        rc = 130
    except Exception as e:  # noqa: BLE001 - a harness error, reported
        import traceback
        traceback.print_exc()
        error = f"{type(e).__name__}: {e}"
        rc = 1
    finally:
        log("stopping everything")
        try:
            b.stop()
        except Exception as e:  # noqa: BLE001
            print(f"bench: teardown problem: {e!r}", file=sys.stderr)
            rc = rc or 1
    finished = dt.datetime.now(dt.timezone.utc)
    print()
    table = print_table(b.rows) if b.rows else "(no measurement)"
    doc = {"started_at": started.isoformat(timespec="seconds"),
           "finished_at": finished.isoformat(timespec="seconds"),
           "wall_s": round((finished - started).total_seconds(), 1),
           "git": git_info(), "machine": machine_info(),
           "config": {"wrk_connections": WRK_CONNECTIONS, "wrk_threads": WRK_THREADS,
                      "duration_s": args.duration, "warmup_s": args.warmup,
                      "rate_limit_scale_pct": int(RATE_SCALE), "post_body_bytes": POST_BODY_BYTES,
                      "phases": phases, "http_threads": args.http_threads},
           "error": error, "noisy_runs": NOISE_EVENTS, "table": b.rows, "table_text": table,
           **b.results}
    if NOISE_EVENTS:
        print("\nwarning: the machine was busy with other work during these loads; their "
              "figures are unreliable (run again on a quiet machine):")
        for ev in NOISE_EVENTS:
            print(f"  {ev}")
    if rc == 0 or b.rows:
        Path(args.out).write_text(json.dumps(doc, indent=2, default=str) + "\n")
        print(f"\nwrote {args.out} (wall {doc['wall_s']} s)")
    if error:
        print(f"\nbench: error: {error}", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
