"""The job scripts against a stale worker (schema/redis/job_start.lua,
job_defer.lua), driven directly on the session's Redis.

A worker that stalls past the visibility timeout loses its entry to another
worker (XAUTOCLAIM), which may finish the job. When the first one wakes up,
its late job_start must not turn the finished job back into "running", and
its late job_defer must not park it (job_undefer would queue it again, and
the model would be called twice, the second time never charged), and its
late result must give way to the one that stands, in Redis (job_finish.lua)
and in PostgreSQL (ci_job_save, migration 008) alike; nor may its heartbeat
take the entry back (job_heartbeat.lua).

And admit.lua: an admission whose XADD fails reserves nothing."""

import json
import time
import uuid

import pytest

GROUP = "g"
TTL = "600"


@pytest.fixture
def scripts(harness):
    gen = harness.build_dir / "gen" / "schema" / "redis"
    return {name: (gen / f"{name}.lua").read_text()
            for name in ("job_start", "job_defer", "job_finish", "job_cancel", "job_undefer",
                         "job_heartbeat", "admit", "job_event", "consumer_prune")}


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


def finish(harness, scripts, stream, eid, job_id, key, attempts="1", worker="B",
           status="done", result="{}"):
    """Worker B, which took the entry over, finishes the job (its delivery
    `attempts`)."""
    return harness.redis_cli("EVAL", scripts["job_finish"], "2", key, stream, GROUP, eid, TTL,
                             "0", "0", "", job_id, "status", status,
                             "finished_at", "2026-11-23T00:00:01Z", "error", "",
                             "attempts", attempts, "worker", worker, "result", result)


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


def test_a_late_step_event_stays_behind_the_final_one(harness, scripts, entry):
    """A step's event (job_event.lua, sent without waiting) that reaches
    Redis after job_finish, as a NOSCRIPT resend can, is dropped: the final
    event stays the last of the job's events."""
    stream, eid, job_id, key = entry
    assert start(harness, scripts, stream, eid, key) == "1"
    step = ("EVAL", scripts["job_event"], "1", key, TTL, "linted", '{"findings":0}')
    assert harness.redis_cli(*step) != ""
    assert finish(harness, scripts, stream, eid, job_id, key) == "1"
    assert harness.redis_cli(*step) == ""
    types = [ln for ln in harness.redis_cli("XRANGE", f"jobev:{job_id}", "-", "+").splitlines()
             if ln in ("linted", "done")]
    assert types == ["linted", "done"], types
    harness.redis_cli("DEL", f"jobev:{job_id}")


def test_a_jobs_events_are_capped_exactly(harness, scripts, entry):
    """jobev:<id> keeps the last 64 events whatever the server's
    stream-node-max-entries (an approximate MAXLEN ~ 64 kept up to 163 with
    Redis' default of 100, more with a larger one, past the 200 a catch-up
    read asks for); here the setting is raised to 500 for the test."""
    stream, eid, job_id, key = entry
    assert start(harness, scripts, stream, eid, key) == "1"
    was = harness.redis_cli("CONFIG", "GET", "stream-node-max-entries").splitlines()[1]
    harness.redis_cli("CONFIG", "SET", "stream-node-max-entries", "500")
    try:
        for i in range(300):
            harness.redis_cli("EVAL", scripts["job_event"], "1", key, TTL, "linted",
                              f'{{"n":{i}}}')
    finally:
        harness.redis_cli("CONFIG", "SET", "stream-node-max-entries", was)
    assert harness.redis_int("XLEN", f"jobev:{job_id}") == 64
    last = harness.redis_cli("XREVRANGE", f"jobev:{job_id}", "+", "-", "COUNT", "1")
    assert '{"n":299}' in last, last
    harness.redis_cli("DEL", f"jobev:{job_id}")


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


def test_defer_of_a_job_whose_cancel_was_requested_parks_nothing(harness, scripts, entry):
    """Cancelled while running (the flag set, its worker told), then the
    worker's deferral arrives: it is not parked until its due time, but
    left pending for the worker to end now (2)."""
    stream, eid, job_id, key = entry
    assert start(harness, scripts, stream, eid, key) == "1"
    out = cancel(harness, scripts, stream, eid, job_id, key)
    assert out[0] == "requested", out
    assert defer(harness, scripts, stream, eid, job_id, key) == "2"
    assert harness.redis_cli("HGET", key, "status") == "running"
    assert harness.redis_int("ZCARD", f"deferred:{stream}") == 0
    assert harness.redis_int("EXISTS", f"deferred:job:{job_id}") == 0
    assert harness.redis_cli("XPENDING", stream, GROUP).splitlines()[0] == "1"
    assert finish(harness, scripts, stream, eid, job_id, key, worker="A",
                  status="cancelled") == "1"
    assert harness.redis_cli("HGET", key, "status") == "cancelled"
    assert harness.redis_cli("XPENDING", stream, GROUP).splitlines()[0] == "0"


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


# ---- one result per job (job_finish.lua's fence, job_heartbeat.lua) --

def test_a_superseded_finish_changes_nothing(harness, scripts, entry):
    """A, cut off past the visibility timeout, finishes delivery 1 after B
    started delivery 2: refused (-1), nothing written, published or
    acknowledged. B's finish then stands; A finishing again is refused."""
    stream, eid, job_id, key = entry
    assert start(harness, scripts, stream, eid, key) == "1"
    harness.redis_cli("XCLAIM", stream, GROUP, "B", "0", eid, "JUSTID")
    assert start(harness, scripts, stream, eid, key) == "2"
    events = harness.redis_int("XLEN", f"jobev:{job_id}")
    assert finish(harness, scripts, stream, eid, job_id, key, "1", "A", result='{"a":1}') == "-1"
    assert harness.redis_cli("HGET", key, "status") == "running"
    assert harness.redis_cli("HGET", key, "result") == ""
    assert harness.redis_int("XLEN", f"jobev:{job_id}") == events
    assert harness.redis_int("XLEN", stream) == 1
    assert finish(harness, scripts, stream, eid, job_id, key, "2", "B", result='{"b":2}') == "1"
    assert harness.redis_cli("HGET", key, "result") == '{"b":2}'
    assert finish(harness, scripts, stream, eid, job_id, key, "1", "A", result='{"a":1}') == "-1"
    assert harness.redis_cli("HGET", key, "result") == '{"b":2}'


def test_the_same_delivery_finished_twice_keeps_the_first(harness, scripts, entry):
    """B ended delivery 1 (a cancel caught it on B, which took it over from
    A without a new attempt); A's late done is refused. A worker repeating
    its own finish (a lost reply) is not."""
    stream, eid, job_id, key = entry
    assert start(harness, scripts, stream, eid, key) == "1"
    assert finish(harness, scripts, stream, eid, job_id, key, "1", "B", "cancelled") == "1"
    assert finish(harness, scripts, stream, eid, job_id, key, "1", "A", "done") == "-1"
    assert harness.redis_cli("HGET", key, "status") == "cancelled"
    assert harness.redis_cli("HGET", key, "worker") == "B"
    events = harness.redis_int("XLEN", f"jobev:{job_id}")
    assert finish(harness, scripts, stream, eid, job_id, key, "1", "B", "cancelled") == "0"
    assert harness.redis_cli("HGET", key, "status") == "cancelled"
    assert harness.redis_int("XLEN", f"jobev:{job_id}") == events     # not announced twice


def idle_ms(harness, stream, eid) -> int:
    out = harness.redis_cli("XPENDING", stream, GROUP, "-", "+", "10").splitlines()
    i = out.index(eid)
    return int(out[i + 2])


def test_heartbeat_refreshes_only_its_own_entries(harness, scripts, entry):
    """A's heartbeat after B reclaimed one of its two entries: A's own is
    refreshed, and its job's hash gets the job TTL again (a job running
    longer than the TTL keeps its state); B's stays B's (a bare XCLAIM would
    take it back) and is returned, its hash untouched; an entry no longer
    pending is neither."""
    stream, eid, job_id, key = entry
    job2 = str(uuid.uuid4())
    eid2 = harness.redis_cli("XADD", stream, "*", "job_id", job2)
    harness.redis_cli("XREADGROUP", "GROUP", GROUP, "A", "COUNT", "1", "STREAMS", stream, ">")
    harness.redis_cli("XCLAIM", stream, GROUP, "B", "0", eid2, "JUSTID")
    gone = harness.redis_cli("XADD", stream, "*", "job_id", str(uuid.uuid4()))
    for k in (key, f"job:{job2}"):
        harness.redis_cli("HSET", k, "status", "running")
        harness.redis_cli("EXPIRE", k, "5")
    time.sleep(0.3)
    assert idle_ms(harness, stream, eid) >= 300
    out = harness.redis_cli("EVAL", scripts["job_heartbeat"], "1", stream, GROUP, "A", "600",
                            eid, job_id, eid2, job2, gone, "")
    assert out.splitlines() == [eid2]
    assert int(harness.redis_cli("TTL", key)) > 5, "A's job hash kept its old TTL"
    assert int(harness.redis_cli("TTL", f"job:{job2}")) <= 5, "B's job hash was refreshed"
    harness.redis_cli("DEL", f"job:{job2}")
    pending = harness.redis_cli("XPENDING", stream, GROUP, "-", "+", "10").splitlines()
    owners = dict(zip(pending[0::4], pending[1::4]))
    assert owners == {eid: "A", eid2: "B"}, pending
    assert idle_ms(harness, stream, eid) < 300
    counts = dict(zip(pending[0::4], pending[3::4]))
    assert counts[eid] == "1", pending      # JUSTID: not counted as a delivery


def test_prune_removes_only_consumers_holding_nothing(harness, scripts, entry):
    """consumer_prune.lua: a stopping worker's own consumer goes when it
    holds nothing; any other goes once idle past the limit and holding
    nothing; one holding an entry stays, whatever its idle time (XGROUP
    DELCONSUMER would drop its entry from the pending list for good)."""
    stream, eid, _, _ = entry        # delivered to A, pending
    harness.redis_cli("XADD", stream, "*", "job_id", str(uuid.uuid4()))
    harness.redis_cli("XREADGROUP", "GROUP", GROUP, "B", "COUNT", "1", "STREAMS", stream, ">")
    harness.redis_cli("XACK", stream, GROUP,
                      harness.redis_cli("XPENDING", stream, GROUP, "-", "+", "10",
                                        "B").splitlines()[0])
    for name in ("C", "D"):
        harness.redis_cli("XGROUP", "CREATECONSUMER", stream, GROUP, name)

    def names():
        out = harness.redis_cli("XINFO", "CONSUMERS", stream, GROUP).splitlines()
        return sorted(out[i + 1] for i, v in enumerate(out) if v == "name")

    assert names() == ["A", "B", "C", "D"]
    # C is stopping: it holds nothing, it goes; the others are not idle long.
    out = harness.redis_cli("EVAL", scripts["consumer_prune"], "1", stream, GROUP, "C", "60000")
    assert out.splitlines() == ["C"] and names() == ["A", "B", "D"]
    # A stopping worker that still holds an entry stays.
    assert harness.redis_cli("EVAL", scripts["consumer_prune"], "1", stream, GROUP, "A",
                             "60000") == ""
    time.sleep(0.05)
    # Idle past the limit: B and D hold nothing and go; A holds eid and stays.
    out = harness.redis_cli("EVAL", scripts["consumer_prune"], "1", stream, GROUP, "", "10")
    assert sorted(out.splitlines()) == ["B", "D"] and names() == ["A"]
    pending = harness.redis_cli("XPENDING", stream, GROUP, "-", "+", "10").splitlines()
    assert pending[:2] == [eid, "A"], pending
    # No stream, no group: nothing to do.
    assert harness.redis_cli("EVAL", scripts["consumer_prune"], "1", stream + "-none", GROUP,
                             "", "0") == ""
    assert harness.redis_cli("EVAL", scripts["consumer_prune"], "1", stream, "nogroup",
                             "", "0") == ""


def save(harness, job_id, attempts, worker, status="done", summary="") -> str:
    doc = {"job_id": job_id, "type": "review", "status": status, "attempts": attempts,
           "worker": worker, "summary": summary, "created_at": "2026-11-23T00:00:00Z",
           "finished_at": "2026-11-23T00:00:01Z", "pool": "fast"}
    return harness.psql("SELECT COALESCE(ci_job_save('" + json.dumps(doc) + "'::jsonb), 0)")


def saved(harness, job_id) -> list[str]:
    return harness.psql_rows(f"SELECT status, worker, attempts, summary FROM jobs "
                             f"WHERE job_id = '{job_id}'")[0]


def test_postgresql_keeps_the_result_that_stands(harness):
    """ci_job_save: a later delivery replaces an earlier one's row (a worker
    that died after saving); an earlier delivery's late save, or another
    worker's for the same delivery, is refused (-1), changing nothing; the
    same worker may save again."""
    job_id = str(uuid.uuid4())
    try:
        assert save(harness, job_id, 1, "A", summary="a1") == "0"
        assert save(harness, job_id, 2, "B", summary="b2") == "0"
        assert saved(harness, job_id) == ["done", "B", "2", "b2"]
        assert save(harness, job_id, 1, "A", summary="a1 late") == "-1"
        assert save(harness, job_id, 2, "C", "cancelled", "c2") == "-1"
        assert saved(harness, job_id) == ["done", "B", "2", "b2"]
        assert save(harness, job_id, 2, "B", summary="b2 again") == "0"
        assert saved(harness, job_id) == ["done", "B", "2", "b2 again"]
    finally:
        harness.psql(f"DELETE FROM jobs WHERE job_id = '{job_id}'")


def admission(ident, stream, user, est) -> tuple[list[str], list[str]]:
    """admit.lua's keys and arguments for one review of a caller the gateway
    admitted itself (its header lists them): no key, no result cache."""
    draft = str(uuid.uuid4())
    draft = draft[:19] + "8" + draft[20:]          # the fast stream's nibble
    args = ["2026-11", str(est), "", "", "", draft, "", user, "1000000", "1", "0",
            "1100000", '"type":"review"}', "x = 1\n"]
    return [ident, stream], [str(len(args)), *args]


def test_admission_whose_entry_fails_reserves_nothing(harness, scripts):
    """Two admissions of one user in one batch, the first to a stream key
    holding a string (XADD raises): it alone fails, and the budget counter
    gets the second one's reservation only."""
    user = str(uuid.uuid4())
    ident, bkey = f"e2e-ident-{user}", f"budget:{user}:2026-11"
    bad, good = f"e2e-admit-bad-{user[:8]}", f"e2e-admit-{user[:8]}"
    harness.redis_cli("HSET", ident, "revoked", "0")
    harness.redis_cli("HSET", bkey, "used", "0", "reserved", "0")
    harness.redis_cli("SET", bad, "not a stream")
    k1, a1 = admission(ident, bad, user, 1000)
    k2, a2 = admission(ident, good, user, 700)
    try:
        out = harness.redis_cli("EVAL", scripts["admit"], "4", *k1, *k2, TTL, "0", "0",
                                *a1, *a2).splitlines()
        assert out[0] == "error" and "WRONGTYPE" in out[1], out
        assert len(out) == 3 and out[2].endswith("00"), out       # "<job id>00": admitted
        assert harness.redis_cli("HGET", bkey, "reserved") == "700"
        assert harness.redis_int("XLEN", good) == 1
        assert harness.redis_int("ZCARD", f"jobs:{user}") == 1
        assert 590 <= harness.redis_int("TTL", f"jobs:{user}") <= 600
    finally:
        harness.redis_cli("DEL", ident, bkey, bad, good, f"jobs:{user}")


def test_a_parked_job_keeps_its_owners_index(harness, scripts, entry):
    """GET /jobs finds a queued job in jobs:<user> alone: job_defer.lua puts
    the parked job's id back and gives the index the TTL it was handed (JOB_TTL
    + the cooldown), and a later admission's JOB_TTL does not shorten it."""
    stream, eid, job_id, key = entry
    user = str(uuid.uuid4())
    index, ident, bkey = f"jobs:{user}", f"e2e-ident-{user}", f"budget:{user}:2026-11"
    other = f"e2e-admit-{user[:8]}"
    try:
        assert start(harness, scripts, stream, eid, key) == "1"
        assert harness.redis_cli("EVAL", scripts["job_defer"], "4", key, stream,
                                 f"deferred:{stream}", f"deferred:job:{job_id}", GROUP, eid,
                                 "4102444800000", "2100-01-01T00:00:00Z", job_id, "5000",
                                 "job_id", job_id, "user_id", user) == "1"
        assert harness.redis_cli("ZSCORE", index, job_id) == "0"
        assert 4990 <= harness.redis_int("TTL", index) <= 5000

        harness.redis_cli("HSET", ident, "revoked", "0")
        harness.redis_cli("HSET", bkey, "used", "0", "reserved", "0")
        k, a = admission(ident, other, user, 100)
        out = harness.redis_cli("EVAL", scripts["admit"], "2", *k, TTL, "0", "0", *a)
        assert out.endswith("00"), out
        assert harness.redis_int("ZCARD", index) == 2
        assert 4980 <= harness.redis_int("TTL", index) <= 5000
    finally:
        harness.redis_cli("DEL", index, ident, bkey, other, f"jobev:{job_id}")


def test_a_requeued_job_keeps_its_hash_or_starts_with_the_whole_view(harness, scripts,
                                                                     entry):
    """Parked (the worker parks meta's members as fields of their own), the
    job's copy and hash have no expiry; put back on the stream, its hash
    keeps none until it starts, and its entry has one meta again, as
    admit.lua writes it, beside the code: a worker that starts it without a
    hash (lost meanwhile) begins one with the whole view, never the code."""
    stream, eid, job_id, key = entry
    user = str(uuid.uuid4())
    try:
        assert start(harness, scripts, stream, eid, key) == "1"
        assert harness.redis_cli("EVAL", scripts["job_defer"], "4", key, stream,
                                 f"deferred:{stream}", f"deferred:job:{job_id}", GROUP, eid,
                                 "4102444800000", "2100-01-01T00:00:00Z", job_id, TTL,
                                 "job_id", job_id, "type", "review",
                                 "created_at", "2026-11-23T00:00:00Z", "file_path", "src/a.py",
                                 "user_id", user, "throttled", "1",
                                 "file_content", "x = 1") == "1"
        assert harness.redis_int("TTL", key) == -1
        assert harness.redis_int("TTL", f"deferred:job:{job_id}") == -1
        assert harness.redis_int("TTL", f"jobev:{job_id}") == -1
        assert harness.redis_cli("EVAL", scripts["job_undefer"], "2", f"deferred:{stream}",
                                 stream, "4102444800001", "10") == "1"
        assert harness.redis_int("TTL", key) == -1
        assert harness.redis_int("TTL", f"jobev:{job_id}") == -1
        assert harness.redis_int("EXISTS", f"deferred:job:{job_id}") == 0
        got = harness.redis_cli("XRANGE", stream, "-", "+").splitlines()
        new_eid, fields = got[0], dict(zip(got[1::2], got[2::2]))
        assert sorted(fields) == ["defer_until_ms", "file_content", "job_id", "meta"], fields
        assert json.loads(fields["meta"]) == {
            "type": "review", "created_at": "2026-11-23T00:00:00Z", "file_path": "src/a.py",
            "user_id": user, "throttled": "1"}

        harness.redis_cli("DEL", key)
        harness.redis_cli("XREADGROUP", "GROUP", GROUP, "B", "COUNT", "1", "STREAMS", stream, ">")
        assert start(harness, scripts, stream, new_eid, key) == "1"
        got = harness.redis_cli("HGETALL", key).splitlines()
        hash_ = dict(zip(got[0::2], got[1::2]))
        assert "file_content" not in hash_ and hash_["status"] == "running", hash_
        assert json.loads(hash_["meta"])["type"] == "review"
        assert json.loads(hash_["meta"])["file_path"] == "src/a.py"
        assert 590 <= harness.redis_int("TTL", key) <= 600
    finally:
        harness.redis_cli("DEL", f"jobev:{job_id}", f"jobs:{user}")


def test_a_repeated_finish_dead_letters_once(harness, scripts, entry):
    """A worker's finish repeated after a lost reply: the dead letter, the
    events and the charge happen once; the entry is retired either way."""
    stream, eid, job_id, key = entry
    dead = f"{stream}:dead"
    budget = f"e2e-budget-{job_id}"
    harness.redis_cli("HSET", budget, "reserved", "100", "used", "0")
    try:
        assert start(harness, scripts, stream, eid, key) == "1"
        for want in ("1", "0"):
            got = harness.redis_cli("EVAL", scripts["job_finish"], "3", key, stream, budget,
                                    GROUP, eid, TTL, "100", "40", dead, job_id,
                                    "status", "failed", "finished_at", "2026-11-23T00:00:01Z",
                                    "error", "gave up", "attempts", "1", "worker", "B")
            assert got == want, (want, got)
        assert harness.redis_int("XLEN", dead) == 1
        assert harness.redis_cli("HGETALL", budget).splitlines() == \
            ["reserved", "0", "used", "40"]
        assert harness.redis_int("XLEN", stream) == 0
    finally:
        harness.redis_cli("DEL", dead, budget)


@pytest.fixture
def settling(harness):
    """Two jobs of one user queued with a reservation of 100 each, the first
    delivered to consumer A, and their owner's counter key (not made):
    (stream, counter key, {job id: entry id}, done id, cancelled id, the
    milliseconds of the first entry and of the second)."""
    stream = f"e2e-scripts-{uuid.uuid4().hex[:8]}"
    user, month = str(uuid.uuid4()), "2026-11"
    budget = f"budget:{user}:{month}"
    done_id, cancelled_id = str(uuid.uuid4()), str(uuid.uuid4())
    harness.redis_cli("XGROUP", "CREATE", stream, GROUP, "$", "MKSTREAM")
    meta = json.dumps({"user_id": user, "month": month, "reserved": "100"})
    eids = {j: harness.redis_cli("XADD", stream, "*", "job_id", j, "meta", meta)
            for j in (done_id, cancelled_id)}
    harness.redis_cli("XREADGROUP", "GROUP", GROUP, "A", "COUNT", "1", "STREAMS", stream, ">")
    yield (stream, budget, eids, done_id, cancelled_id,
           tuple(int(eids[j].split("-")[0]) for j in (done_id, cancelled_id)))
    harness.redis_cli("DEL", stream, budget, f"job:{done_id}", f"job:{cancelled_id}",
                      f"jobev:{done_id}", f"jobev:{cancelled_id}")


def settle_both(harness, scripts, settling) -> list[list[str]]:
    """The first job finishes (it used 40), the second is cancelled; the
    counter's reserved, used, and whether it is stale ("1", "0") after
    each."""
    stream, budget, eids, done_id, cancelled_id, _ = settling
    seen = []

    def counter():
        return [*harness.redis_cli("HMGET", budget, "reserved", "used").splitlines(),
                harness.redis_cli("HEXISTS", budget, "stale")]
    key = f"job:{done_id}"
    assert start(harness, scripts, stream, eids[done_id], key) == "1"
    got = harness.redis_cli("EVAL", scripts["job_finish"], "3", key, stream, budget,
                            GROUP, eids[done_id], TTL, "100", "40", "", done_id,
                            "status", "done", "finished_at", "2026-11-23T00:00:01Z",
                            "error", "", "attempts", "1", "worker", "A")
    assert got == "1", got
    seen.append(counter())
    out = cancel(harness, scripts, stream, eids[cancelled_id], cancelled_id,
                 f"job:{cancelled_id}")
    assert out[0] == "cancelled", out
    seen.append(counter())
    # The settlement's guard: a second cancel releases nothing again.
    assert cancel(harness, scripts, stream, eids[cancelled_id], cancelled_id,
                  f"job:{cancelled_id}")[0] == "finished"
    assert counter() == seen[-1]
    return seen


def test_settling_releases_and_charges(harness, scripts, settling):
    """The counter the jobs were reserved in (made before them: 'since'
    no later than their entries): each releases its 100, the finish adds
    its 40."""
    budget, ms = settling[1], settling[5]
    harness.redis_cli("HSET", budget, "used", "500", "reserved", "230", "since", str(ms[0]))
    assert settle_both(harness, scripts, settling) == [["130", "540", "0"], ["30", "540", "0"]]


def test_a_counter_rebuilt_after_the_jobs_holds_none_of_them(harness, scripts, settling):
    """Redis lost the owner's counter while the jobs ran, and an admission
    rebuilt it from the ledger ('since' after their entries; one new
    reservation of 30): it holds none of their reservations, so nothing is
    released, and the finished job's charge, saved to the ledger before or
    after the rebuild, is not added but marks 'used' stale, to be read from
    the ledger again."""
    budget, ms = settling[1], settling[5]
    harness.redis_cli("HSET", budget, "used", "500", "reserved", "30", "since", str(ms[1] + 1))
    assert settle_both(harness, scripts, settling) == [["30", "500", "1"], ["30", "500", "1"]]


def test_an_unstamped_counter_is_never_released_below_zero(harness, scripts, settling):
    """A counter with no 'since' (made by an older gateway) gets every
    release, but 'reserved' stops at zero rather than go below, where it
    would let the owner overspend for the rest of the month."""
    budget = settling[1]
    harness.redis_cli("HSET", budget, "used", "500", "reserved", "30")
    assert settle_both(harness, scripts, settling) == [["0", "540", "0"], ["0", "540", "0"]]


def test_a_stale_counter_reads_used_from_the_ledger_again(harness, scripts):
    """admit.lua asks for the ledger (need_budget) when the counter is
    stale, then takes its figure for 'used', keeping the reservations."""
    user = str(uuid.uuid4())
    ident, bkey = f"e2e-ident-{user}", f"budget:{user}:2026-11"
    stream = f"e2e-admit-{user[:8]}"
    harness.redis_cli("HSET", ident, "revoked", "0")
    harness.redis_cli("HSET", bkey, "used", "500", "reserved", "30", "since", "1", "stale", "1")
    keys, args = admission(ident, stream, user, 700)
    try:
        out = harness.redis_cli("EVAL", scripts["admit"], "2", *keys, TTL, "0", "0",
                                *args).splitlines()
        assert out == ["need_budget", user], out
        args[5] = "540"                             # ARGV[5]: the ledger's figure
        out = harness.redis_cli("EVAL", scripts["admit"], "2", *keys, TTL, "0", "0",
                                *args).splitlines()
        assert len(out) == 1 and out[0].endswith("00"), out
        assert harness.redis_cli("HMGET", bkey, "used", "reserved", "since").splitlines() == \
            ["540", "730", "1"]
        assert harness.redis_int("HEXISTS", bkey, "stale") == 0
    finally:
        harness.redis_cli("DEL", ident, bkey, stream, f"jobs:{user}")
