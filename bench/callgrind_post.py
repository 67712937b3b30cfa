#!/usr/bin/python3
"""callgrind_post.py - instructions the gateway spends per POST /review.

Wall-clock figures on a shared 2-core VM move by +-30% between runs;
callgrind's instruction counts do not. This starts a private Redis and
PostgreSQL (tests/e2e/harness.py), runs the gateway under
`valgrind --tool=callgrind` with instrumentation off, sends 50 warm-up
POSTs of the bench's 2 KB body on one keep-alive connection, turns
instrumentation on for N more (default 1000), and prints the instructions
per POST and the functions that spend the most, inclusive.

    make all && /usr/bin/python3 bench/callgrind_post.py [--posts N] [--build-dir build]

Needs valgrind (`apt-get install valgrind`; not part of `make deps`: a
developer's tool, not the bench). Under valgrind OpenSSL runs without the
SHA extensions and `rep stosb` counts one instruction per byte, so SHA-256
and memset weigh more here than on the CPU; compare runs with each other,
not with wall time.
"""
from __future__ import annotations

import argparse
import http.client
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "bench"))

import harness as H  # noqa: E402
import run as R  # noqa: E402

WARMUP_POSTS = 50
POSTS_MAX = 20000
READY_TIMEOUT_S = 60


def post(c: http.client.HTTPConnection, body: bytes, headers: dict) -> None:
    c.request("POST", "/review", body, headers)
    r = c.getresponse()
    data = r.read()
    if r.status != 202:
        raise SystemExit(f"POST /review -> {r.status} {data[:300]!r}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    if not 1 <= args.posts <= POSTS_MAX:
        raise SystemExit(f"--posts is 1 to {POSTS_MAX}")
    R.need_tools("valgrind", "callgrind_control", "callgrind_annotate")
    build = REPO / args.build_dir
    out = Path(tempfile.mkdtemp(prefix="ci-callgrind-")) / "callgrind.out"
    h = H.Harness(build_dir=str(build))
    h.start()
    try:
        h.create_user("callgrind@example.com", plan="business")
        key = h.issue_key("callgrind@example.com", "callgrind")
        gw = h.start_gateway({"CODEINSIGHT_VIEW_CACHE_MB": "32",
                              "CODEINSIGHT_RATE_LIMIT_SCALE": R.RATE_SCALE,
                              "CODEINSIGHT_LOG_LEVEL": "info", "CODEINSIGHT_HTTP_THREADS": "2"},
                             timeout=READY_TIMEOUT_S,
                             wrapper=["valgrind", "--tool=callgrind",
                                      f"--callgrind-out-file={out}", "--instr-atstart=no"])
        body, _ = R.post_body()
        headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
        c = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
        for _ in range(WARMUP_POSTS):
            post(c, body, headers)
        subprocess.run(["callgrind_control", "-i", "on", str(gw.pid)], check=True,
                       capture_output=True)
        for _ in range(args.posts):
            post(c, body, headers)
        subprocess.run(["callgrind_control", "-i", "off", str(gw.pid)], check=True,
                       capture_output=True)
        c.close()
        gw.stop()                   # callgrind writes its file at exit
    finally:
        h.teardown()
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(out)],
                         capture_output=True, text=True, check=True).stdout
    total = None
    rows: list[tuple[int, str]] = []
    seen = set()
    for line in ann.splitlines():
        parts = line.split()
        if not parts or not parts[0][0].isdigit():
            continue
        ir = int(parts[0].replace(",", ""))
        name = line.split(")", 1)[1].strip()
        # A function with debug information is listed twice, by absolute and
        # by relative path; MHD's own frames wrap everything.
        fn = name.split(" [")[0].rsplit(":", 1)[-1]
        if "PROGRAM TOTALS" in line:
            total = ir
        elif len(rows) < args.top and "libmicrohttpd" not in name and fn not in seen:
            seen.add(fn)
            rows.append((ir, name))
    if not total:
        raise SystemExit(f"no instructions recorded (see {out})")
    print(f"{total / args.posts:,.0f} instructions per POST /review "
          f"({args.posts} POSTs, 2 KB body; callgrind output {out})")
    for ir, name in rows:
        print(f"{ir / args.posts:>10,.0f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
