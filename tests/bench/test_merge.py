"""How bench/run.py merges the interleaved wrk slices of one target
(bench/README.md, "Interleaved slices"): counts and CPU add up, the mean is
weighted by requests, percentiles come from the slices' percentile grids.

    /usr/bin/python3 -m pytest -q tests/bench
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import run as R  # noqa: E402

GRID = [10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 91, 92, 93, 94, 95, 96, 97, 98,
        99, 99.1, 99.2, 99.3, 99.4, 99.5, 99.6, 99.7, 99.8, 99.9, 99.95, 99.99]


def uniform(lo: int, hi: int, requests: int, seconds: float = 2.0, **extra) -> dict:
    """A slice whose latencies are spread evenly over [lo, hi] microseconds."""
    sl = {"requests": requests, "duration_us": int(seconds * 1e6), "bytes": requests * 100,
          "connect_errors": 0, "read_errors": 0, "write_errors": 0, "status_errors": 0,
          "timeouts": 0, "errors_total": 0, "lat_mean_us": (lo + hi) / 2, "lat_min_us": lo,
          "lat_max_us": hi, "lat_pcts": [[p, round(lo + (hi - lo) * p / 100)] for p in GRID],
          "rps": requests / seconds, "noisy": False,
          "cpu_s": {"server": 1.0, "other_processes": 0.0, "stolen": 0.0}}
    sl.update(extra)
    return sl


def test_one_slice_keeps_its_own_percentiles():
    sl = uniform(100, 1100, 1000)
    for p in (50, 90, 99):
        assert R.merged_percentile([sl], p) == 100 + 10 * p


def test_alike_slices_merge_to_the_same_distribution():
    m = R.merge_slices([uniform(100, 1100, 1000), uniform(100, 1100, 3000)])
    assert m["lat_p50_us"] == 600 and m["lat_p99_us"] == 1090
    assert m["requests"] == 4000 and m["duration_us"] == 4_000_000 and m["rps"] == 1000.0
    assert m["cpu_s"]["server"] == 2.0 and m["slices_rps"] == [500.0, 1500.0]


def test_a_slow_slice_weighs_by_its_requests():
    fast, slow = uniform(100, 200, 9000), uniform(1000, 2000, 1000)
    # 90% of the requests are the fast slice's: p50 inside it, p99 inside
    # the slow one (its own 90th percentile), the mean weighted.
    m = R.merge_slices([fast, slow])
    assert m["lat_p50_us"] == 156          # the fast slice's 55.6th percentile
    assert 1880 <= m["lat_p99_us"] <= 1900
    assert m["lat_mean_us"] == round((150 * 9000 + 1500 * 1000) / 10000, 1)
    assert m["lat_max_us"] == 2000


def test_command_time_and_noise_add_up():
    a = uniform(1, 2, 10, redis_commandstats={"evalsha": {"calls": 10, "usec_per_call": 30.0}})
    b = uniform(1, 2, 10, redis_commandstats={"evalsha": {"calls": 30, "usec_per_call": 10.0},
                                              "xadd": {"calls": 5, "usec_per_call": 4.0}})
    b["cpu_s"]["stolen"] = 0.7             # more than 15% of the 4 s of both
    m = R.merge_slices([a, b])
    assert m["redis_commandstats"]["evalsha"] == {"calls": 40, "usec_per_call": 15.0}
    assert m["redis_commandstats"]["xadd"] == {"calls": 5, "usec_per_call": 4.0}
    assert m["noisy"]
    assert not R.merge_slices([uniform(1, 2, 10), uniform(1, 2, 10)])["noisy"]
    # One noisy slice of five marks the merge, though the five together
    # stayed under the threshold.
    quiet = [uniform(1, 2, 10) for _ in range(4)]
    assert not R.merge_slices(quiet + [uniform(1, 2, 10)])["noisy"]
    assert R.merge_slices(quiet + [uniform(1, 2, 10, noisy=True)])["noisy"]
