"""Routing: debug/architecture jobs are done by the heavy pool only, review
jobs by the fast pool only."""

import subprocess
import time

import pytest

from harness import GROUP_HEAVY, PY_SAMPLE, STREAM_FAST, STREAM_HEAVY, assert_job_shape

WAIT_QUEUED = 3.0


def assert_stays_queued(harness, job_id, seconds=WAIT_QUEUED):
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / 0.2) + 5):
        status, job = harness.get_job(job_id)
        assert status == 200, job
        assert job["status"] == "queued", f"job left the queue without its pool: {job!r}"
        if time.monotonic() >= deadline:
            return
        time.sleep(0.2)


@pytest.mark.parametrize("request_type", ["debug", "architecture"])
def test_heavy_types_need_the_heavy_worker(harness, gateway, clean_state, request_type):
    fast = harness.start_worker("fast")
    extra = {"error_log": "NameError: name 'undefined_name' is not defined\n"} \
        if request_type == "debug" else {"user_request": "a todo-list API"}
    job_id = harness.submit(file_path="app.py", file_content=PY_SAMPLE, request_type=request_type,
                            **extra)
    assert harness.redis_int("XLEN", STREAM_HEAVY) == 1
    assert_stays_queued(harness, job_id)
    assert not fast.events("job_started", job_id=job_id), "fast worker took a heavy job"

    heavy = harness.start_worker("heavy")
    job = harness.poll_job(job_id, timeout=90)
    assert_job_shape(job)
    if request_type == "architecture":
        # This worker has no model, and the generator has no static fallback.
        assert job["status"] == "failed" and job["error"].startswith("needs a model"), job
    else:
        assert job["status"] == "done", job
    assert job["type"] == request_type
    assert job["pool"] == "heavy"
    assert isinstance(job["worker"], str) and job["worker"]
    assert heavy.events("job_done", job_id=job_id) or heavy.events("job_started", job_id=job_id)
    assert not fast.events("job_started", job_id=job_id)
    assert harness.psql_int(f"SELECT count(*) FROM jobs WHERE job_id = '{job_id}'") == 1
    harness.wait_stream_drained(STREAM_HEAVY, GROUP_HEAVY)
    assert fast.alive() and heavy.alive()


def test_review_needs_the_fast_worker(harness, gateway, clean_state):
    heavy = harness.start_worker("heavy")
    job_id = harness.submit(file_path="app.py", file_content=PY_SAMPLE, request_type="review")
    assert harness.redis_int("XLEN", STREAM_FAST) == 1
    assert_stays_queued(harness, job_id)
    assert not heavy.events("job_started", job_id=job_id), "heavy worker took a review job"

    fast = harness.start_worker("fast")
    job = harness.poll_job(job_id)
    assert job["status"] == "done", job
    assert job["pool"] == "fast"
    assert fast.events("job_done", job_id=job_id) or fast.events("job_started", job_id=job_id)
    assert not heavy.events("job_started", job_id=job_id)


@pytest.mark.parametrize("args", [[], ["--pool"], ["--pool", "warm"], ["--pool=FAST"],
                                  ["--pool", "fast", "--extra"], ["fast"]])
def test_a_worker_without_a_pool_is_a_usage_error(harness, args):
    """The pool is the one argument a worker needs: without a valid one it
    exits 2 with its usage, before connecting to anything."""
    r = subprocess.run([str(harness.binary("codeinsight-worker")), *args],
                       env=harness.child_env(), capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, (args, r)
    assert r.stderr.startswith("usage: codeinsight-worker --pool fast|heavy\n"), r.stderr
    assert r.stdout == "", r.stdout


def test_a_worker_sweeps_what_killed_workers_left(harness, gateway, tmp_path):
    """A worker killed outright cannot remove its runs' directories (a
    linter's, a sandbox's); the next worker to start removes those of
    processes that are gone, and only those."""
    import os
    tmp = tmp_path / "worker-tmp"
    tmp.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = [tmp / f"codeinsight-lint-{gone.pid}-Ab12Cd",
             tmp / f"codeinsight-sandbox-{gone.pid}-Ef34Gh"]
    alive = tmp / f"codeinsight-lint-{os.getpid()}-Ij56Kl"     # this test runs: not swept
    for d in (*stale, alive):
        (d / "files").mkdir(parents=True)
        (d / "files" / "main.py").write_text("print(1)\n")
    w = harness.start_worker("fast", {"TMPDIR": str(tmp)})
    swept = w.wait_for_log("scratch_swept", timeout=15)
    assert swept["directories"] == 2, swept
    assert not any(d.exists() for d in stale) and alive.exists()
    # A job's runs work in that directory as usual, and leave nothing.
    job = harness.poll_job(harness.submit(file_path="app.py", file_content="import os\n"))
    assert job["status"] == "done" and job["findings"], job
    assert sorted(p.name for p in tmp.iterdir()) == [alive.name]
