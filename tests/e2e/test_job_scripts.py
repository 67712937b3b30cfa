"""The job scripts against a stale worker (schema/redis/job_start.lua,
job_defer.lua), driven directly on the session's Redis.

A worker that stalls past the visibility timeout loses its entry to another
worker (XAUTOCLAIM), which may finish the job. When the first one wakes up,
its late job_start must not turn the finished job back into "running", and
its late job_defer must not park it (job_undefer would queue it again, and
the model would be called twice, the second time never charged)."""

import uuid

import pytest

GROUP = "g"
TTL = "600"


@pytest.fixture
def scripts(harness):
    gen = harness.build_dir / "gen" / "schema" / "redis"
    return {name: (gen / f"{name}.lua").read_text()
            for name in ("job_start", "job_defer", "job_finish", "job_cancel", "job_undefer")}


@pytest.fixture
def entry(harness):
    """A fresh stream with one entry delivered to consumer A: (stream, entry
    id, job id, job hash key)."""
    stream = f"e2e-scripts-{uuid.uuid4().hex[:8]}"
    job_id = str(uuid.uuid4())
    eid = harness.redis_cli("XADD", stream, "*", "job_id", job_id)
    harness.redis_cli("XGROUP", "CREATE", stream, GROUP, "0")
    harness.redis_cli("XREADGROUP", "GROUP", GROUP, "A", "COUNT", "1", "STREAMS", stream, ">")
    yield stream, eid, job_id, f"job:{job_id}"
    harness.redis_cli("DEL", stream, f"job:{job_id}", f"deferred:{stream}",
                      f"deferred:job:{job_id}")


def start(harness, scripts, stream, eid, key):
    return harness.redis_cli("EVAL", scripts["job_start"], "2", key, stream, TTL, eid, GROUP,
                             "started_at", "2026-11-23T00:00:00Z", "pool", "fast",
                             "worker", "A")


def defer(harness, scripts, stream, eid, job_id, key):
    return harness.redis_cli("EVAL", scripts["job_defer"], "4", key, stream,
                             f"deferred:{stream}", f"deferred:job:{job_id}", GROUP, eid,
                             "4102444800000", "2100-01-01T00:00:00Z", job_id, TTL,
                             "job_id", job_id)


def finish(harness, scripts, stream, eid, job_id, key):
    """Worker B, which took the entry over, finishes the job."""
    return harness.redis_cli("EVAL", scripts["job_finish"], "2", key, stream, GROUP, eid, TTL,
                             "0", "0", "", job_id, "status", "done",
                             "finished_at", "2026-11-23T00:00:01Z", "error", "")


def test_late_start_leaves_a_finished_job_alone(harness, scripts, entry):
    stream, eid, job_id, key = entry
    assert start(harness, scripts, stream, eid, key) == "1"
    assert finish(harness, scripts, stream, eid, job_id, key) == "1"
    assert start(harness, scripts, stream, eid, key) == "0"
    assert harness.redis_cli("HGET", key, "status") == "done"
    assert harness.redis_cli("HGET", key, "attempts") == "1"
    assert harness.redis_cli("HGET", key, "pool") == "fast"
    assert harness.redis_int("XLEN", stream) == 0
    # A redelivery of the finished job's entry is retired: acknowledged too.
    eid2 = harness.redis_cli("XADD", stream, "*", "job_id", job_id)
    harness.redis_cli("XREADGROUP", "GROUP", GROUP, "A", "COUNT", "1", "STREAMS", stream, ">")
    assert start(harness, scripts, stream, eid2, key) == "0"
    assert harness.redis_int("XLEN", stream) == 0
    assert harness.redis_cli("XPENDING", stream, GROUP).splitlines()[0] == "0"


def test_late_defer_does_not_park_a_finished_job(harness, scripts, entry):
    stream, eid, job_id, key = entry
    assert start(harness, scripts, stream, eid, key) == "1"
    assert finish(harness, scripts, stream, eid, job_id, key) == "1"
    assert defer(harness, scripts, stream, eid, job_id, key) == "0"
    assert harness.redis_cli("HGET", key, "status") == "done"
    assert harness.redis_int("ZCARD", f"deferred:{stream}") == 0
    assert harness.redis_int("EXISTS", f"deferred:job:{job_id}") == 0


def test_defer_of_a_pending_entry_parks_it(harness, scripts, entry):
    stream, eid, job_id, key = entry
    assert start(harness, scripts, stream, eid, key) == "1"
    assert defer(harness, scripts, stream, eid, job_id, key) == "1"
    assert harness.redis_cli("HGET", key, "status") == "queued"
    assert harness.redis_cli("ZSCORE", f"deferred:{stream}", job_id) == "4102444800000"
    assert harness.redis_cli("HGET", f"deferred:job:{job_id}", "job_id") == job_id
    assert harness.redis_int("XLEN", stream) == 0
    pending = harness.redis_cli("XPENDING", stream, GROUP).splitlines()
    assert pending[0] == "0", pending


def cancel(harness, scripts, stream, eid, job_id, key) -> list[str]:
    """Its owner cancels the job (job_cancel.lua): the outcome, then the
    hash's fields and values, one per line."""
    return harness.redis_cli("EVAL", scripts["job_cancel"], "4", key, stream,
                             f"deferred:{stream}", f"deferred:job:{job_id}", eid, GROUP, TTL,
                             job_id, "cancelled by its owner").splitlines()


def test_cancel_after_the_deferral_ended_is_left_to_the_next_start(harness, scripts, entry):
    """Parked, then put back on the stream under an entry id of its own: the
    cancellation cannot reach that entry, so it flags the job, and the
    worker that takes the new entry is told to end it (-1 - attempts)."""
    stream, eid, job_id, key = entry
    assert start(harness, scripts, stream, eid, key) == "1"
    assert defer(harness, scripts, stream, eid, job_id, key) == "1"
    moved = harness.redis_cli("EVAL", scripts["job_undefer"], "2", f"deferred:{stream}", stream,
                              "4102444800001", "10")
    assert moved == "1"
    out = cancel(harness, scripts, stream, eid, job_id, key)
    assert out[0] == "requested", out
    assert harness.redis_cli("HGET", key, "cancel_requested") == "1"
    assert harness.redis_cli("HGET", key, "status") == "queued"
    harness.redis_cli("XREADGROUP", "GROUP", GROUP, "B", "COUNT", "1", "STREAMS", stream, ">")
    new_eid = harness.redis_cli("XRANGE", stream, "-", "+").splitlines()[0]
    assert new_eid != eid
    assert start(harness, scripts, stream, new_eid, key) == "-2"    # one attempt so far
    assert harness.redis_cli("HGET", key, "status") == "queued"     # unchanged: the worker ends it


def test_cancel_of_a_parked_job_and_of_a_vanished_one(harness, scripts, entry):
    stream, eid, job_id, key = entry
    assert start(harness, scripts, stream, eid, key) == "1"
    assert defer(harness, scripts, stream, eid, job_id, key) == "1"
    out = cancel(harness, scripts, stream, eid, job_id, key)
    assert out[0] == "cancelled", out
    assert harness.redis_cli("HGET", key, "status") == "cancelled"
    assert harness.redis_cli("HGET", key, "deferred_until") == ""
    assert harness.redis_int("ZCARD", f"deferred:{stream}") == 0
    assert harness.redis_int("EXISTS", f"deferred:job:{job_id}") == 0
    # Cancelled again: nothing changes; and a late start retires its entry.
    assert cancel(harness, scripts, stream, eid, job_id, key)[0] == "finished"
    assert start(harness, scripts, stream, eid, key) == "0"

    gone = str(uuid.uuid4())
    assert cancel(harness, scripts, stream, "0-1", gone, f"job:{gone}") == ["absent"]
    assert cancel(harness, scripts, stream, "", gone, f"job:{gone}") == ["absent"]
    assert harness.redis_int("EXISTS", f"job:{gone}") == 0
