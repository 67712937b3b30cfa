#!/usr/bin/env python3
"""Line coverage of the C sources after a coverage build's test run.

`make coverage` builds everything with `--coverage` into build/cov, runs the
unit and end-to-end tests against those binaries (every process that exits
normally adds its counters to build/cov/obj/**.gcda), then calls this
script, which asks gcov for each source file's executed lines and prints
the files from the least covered up, each directory's total and the total.

    tests/coverage.py build/cov [--all]

A file no test ran shows as 0%. worker/sandbox_exec.c is the one expected
there: it runs inside bubblewrap, whose read-only view of the build tree
keeps its counters from being written (its behaviour is tested from
outside: tests/unit/test_sandbox_*.c, tests/e2e/test_sandbox*.py).
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DIRS = ("common", "gateway", "worker", "cli")
SHOWN = 20                      # files listed without --all
LINES_RE = re.compile(r"^Lines executed:([0-9.]+)% of ([0-9]+)$")


def file_coverage(build: Path, src: Path) -> tuple[int, int] | None:
    """(executed, total) lines of src, or None when it has no counters."""
    objdir = build / "obj" / src.parent
    if not (objdir / (src.stem + ".gcno")).exists():
        return None
    if not (objdir / (src.stem + ".gcda")).exists():
        return 0, -1            # built, never run: total unknown without counters
    out = subprocess.run(["gcov", "-n", "-o", str(objdir), str(src)], capture_output=True,
                         text=True, timeout=60).stdout.splitlines()
    for i, line in enumerate(out):
        # The block of src itself, not of the headers it includes.
        if line.strip() == f"File '{src}'" and i + 1 < len(out):
            m = LINES_RE.match(out[i + 1].strip())
            if m:
                total = int(m.group(2))
                return round(float(m.group(1)) * total / 100), total
    return None


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: tests/coverage.py BUILD_DIR [--all]", file=sys.stderr)
        return 2
    build = Path(sys.argv[1])
    show_all = "--all" in sys.argv[2:]
    rows: list[tuple[float, int, int, str]] = []
    never: list[str] = []
    for d in DIRS:
        for src in sorted(Path(d).glob("*.c")):
            cov = file_coverage(build, src)
            if cov is None:
                continue
            if cov[1] < 0:
                never.append(str(src))
                continue
            done, total = cov
            if total:
                rows.append((100.0 * done / total, done, total, str(src)))
    rows.sort()
    print(f"{'lines':>7} {'of':>6}  file (least covered first)")
    for pct, _, total, name in rows if show_all else rows[:SHOWN]:
        print(f"{pct:6.1f}% {total:6d}  {name}")
    if not show_all and len(rows) > SHOWN:
        print(f"  ... {len(rows) - SHOWN} more (--all lists every file)")
    for name in never:
        print(f"{'never run':>14}  {name}")
    print()
    grand_done = grand_total = 0
    for d in DIRS:
        done = sum(r[1] for r in rows if r[3].startswith(d + "/"))
        total = sum(r[2] for r in rows if r[3].startswith(d + "/"))
        grand_done += done
        grand_total += total
        if total:
            print(f"{100.0 * done / total:6.1f}% {total:6d}  {d}/")
    if not grand_total:
        print("coverage: no counters found: did the tests run against this build?",
              file=sys.stderr)
        return 1
    print(f"{100.0 * grand_done / grand_total:6.1f}% {grand_total:6d}  all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
