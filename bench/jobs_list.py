#!/usr/bin/env python3
"""bench/jobs_list.py - latency of GET /jobs when a filter skips most of a
caller's index (gateway/jobs.c reads up to JOBS_SCAN_MAX ids a page).

Starts a private Redis + PostgreSQL and a gateway through
tests/e2e/harness.py, admits one debug job and then --jobs - 1 reviews for
one API key (POST /review, as a client would: queued jobs, whose hot copy is
their stream entry), then times --requests sequential requests of

    GET /jobs?type=debug&limit=20   (scans 1000 ids, finds nothing: capped)
    GET /jobs                       (unfiltered first page, limit 20)

and prints min / median / p90 / max in milliseconds. Not a test: nothing
here passes or fails on a time. Bounded: every request has a timeout and the
run a deadline (RUN_BUDGET_S). Stops everything it started.

    /usr/bin/python3 bench/jobs_list.py --build-dir build
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

import harness as H  # noqa: E402  (tests/e2e/harness.py)

RUN_BUDGET_S = 300
JOBS_MAX = 5000                 # the index keeps 10000; budgets bite long before
REQUESTS_MAX = 200
SUBMIT_THREADS = 8
HTTP_TIMEOUT_S = 30
RATE_SCALE = "10000"            # as tests/e2e/conftest.py: rates are not measured here
WARMUP = 2


def check_budget(deadline: float, what: str) -> None:
    if time.monotonic() > deadline:
        raise SystemExit(f"jobs_list: over the {RUN_BUDGET_S}s budget while {what}")


def timed(h: H.Harness, key: str, path: str, n: int, deadline: float) -> list[float]:
    """n sequential GETs (after WARMUP untimed ones); milliseconds each."""
    out = []
    for i in range(WARMUP + n):
        check_budget(deadline, f"timing {path}")
        t0 = time.perf_counter()
        status, _, body = h.http("GET", path, auth=key, timeout=HTTP_TIMEOUT_S)
        ms = (time.perf_counter() - t0) * 1000
        if status != 200:
            raise SystemExit(f"jobs_list: GET {path} -> {status} {body!r}")
        if i >= WARMUP:
            out.append(ms)
    return out


def summary(ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=10)
    return (f"n={len(ms)} min={min(ms):.2f} median={statistics.median(ms):.2f} "
            f"p90={q[-1]:.2f} max={max(ms):.2f} ms")


def redis_ms(h: H.Harness, requests: int) -> str:
    """Redis' own time in the scripts (EVALSHA, EVAL) per request, from
    INFO commandstats since the last CONFIG RESETSTAT."""
    usec = calls = 0
    for line in h.redis_cli("INFO", "commandstats").splitlines():
        if line.startswith(("cmdstat_evalsha:", "cmdstat_eval:")):
            f = dict(kv.split("=") for kv in line.split(":", 1)[1].split(","))
            usec += int(f["usec"])
            calls += int(f["calls"])
    return f"redis scripts {calls / requests:.0f} calls, {usec / requests / 1000:.2f} ms a request"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--jobs", type=int, default=1200)
    ap.add_argument("--requests", type=int, default=20)
    a = ap.parse_args()
    if not 2 <= a.jobs <= JOBS_MAX or not 3 <= a.requests <= REQUESTS_MAX:
        ap.error(f"--jobs 2..{JOBS_MAX}, --requests 3..{REQUESTS_MAX}")
    deadline = time.monotonic() + RUN_BUDGET_S
    h = H.Harness(build_dir=a.build_dir)
    try:
        h.start()
        h.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": RATE_SCALE}, default=True)
        _, _, key = h.new_user("business", tag="bench-jobs")
        h.submit(file_path="d/x.py", file_content="x = 1 / 0\n", request_type="debug",
                 error_log="ZeroDivisionError: division by zero\n", auth=key)
        with concurrent.futures.ThreadPoolExecutor(SUBMIT_THREADS) as pool:
            futs = [pool.submit(h.submit, file_path=f"r/{i}.py", file_content=f"r = {i}\n",
                                auth=key) for i in range(a.jobs - 1)]
            for f in futs:
                check_budget(deadline, "admitting jobs")
                f.result(timeout=HTTP_TIMEOUT_S)
        print(f"build {a.build_dir}: {a.jobs} jobs for one key")
        _, _, first = h.http("GET", "/jobs?type=debug&limit=20", auth=key)
        print(f"  ?type=debug first page: {len(first['jobs'])} jobs, "
              f"next_cursor {'set' if first['next_cursor'] else 'null'}")
        for path in ("/jobs?type=debug&limit=20", "/jobs"):
            h.redis_cli("CONFIG", "RESETSTAT")
            line = summary(timed(h, key, path, a.requests, deadline))
            print(f"  GET {path:28} {line}; {redis_ms(h, WARMUP + a.requests)}")
    finally:
        h.teardown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
