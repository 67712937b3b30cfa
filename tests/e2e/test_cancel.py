"""DELETE /job/:id end to end (docs/pipeline.md, "Cancelling a job"): a
queued job leaves the queue at once, its reservation released and its row
stored; a running job's worker aborts the model call it waits on and stores
it cancelled; a worker that died holding a cancelled job leaves it to the
next, which ends it without work; a parked (deferred) job is cancelled from
its parking; finished, foreign and malformed jobs are refused.

The fake model vendor holds the calls that must be aborted ("timeout": it
never answers until the client closes), so a job can only end quickly by
being cancelled.

    /usr/bin/python3 -m pytest -q tests/e2e/test_cancel.py
"""

from __future__ import annotations

import datetime as dt
import secrets
import signal
import time
import urllib.request
import uuid

import pytest

from fakemodel import abort_charge, anthropic_env, module_fake
from harness import GROUP_FAST, STREAM_FAST, free_port, job_entry_of, wait_until
from test_events import Stream

ANTHROPIC_KEY = "sk-ant-e2e-" + secrets.token_urlsafe(24)
# Long enough that only a cancellation ends a held model call in a test.
LLM_TIMEOUT_MS = 120_000
CANCEL_WITHIN_S = 15


def month() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")


@pytest.fixture(scope="module")
def fake(harness, _module_isolation):
    with module_fake(harness, "fake-llm-cancel", (ANTHROPIC_KEY,)) as f:
        yield f


@pytest.fixture(scope="module")
def cgw(harness, fake):
    return harness.start_gateway({**anthropic_env(fake), "CODEINSIGHT_RATE_LIMIT_SCALE": "10000"},
                                 default=True)


@pytest.fixture
def fresh(harness, cgw, fake):
    harness.reset_state()
    fake.reset()
    return harness


def worker_env(fake, **extra) -> dict:
    env = {**anthropic_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
           "CODEINSIGHT_LLM_TIMEOUT_MS": str(LLM_TIMEOUT_MS),
           "CODEINSIGHT_LLM_MAX_ATTEMPTS": "1", "CODEINSIGHT_READ_BLOCK_MS": "200"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def user(harness, tag: str) -> tuple[str, str]:
    _, user_id, key = harness.new_user("pro", tag=tag)
    return user_id, key


def reserved(harness, user_id: str) -> int:
    v = harness.redis_cli("HGET", f"budget:{user_id}:{month()}", "reserved")
    return int(v) if v else 0


def cancel(harness, job_id: str, key) -> tuple[int, dict, object]:
    status, headers, body = harness.http("DELETE", f"/job/{job_id}", auth=key)
    return status, headers, body


def pg_job(harness, job_id: str) -> list[str]:
    rows = harness.psql_rows(f"SELECT status, error, started_at IS NULL FROM jobs "
                             f"WHERE job_id = '{job_id}'")
    return rows[0] if rows else []


def held_call(fake) -> bool:
    return fake.stats()["in_flight"] >= 1


def held_charge(fake, marker: str) -> int:
    """What the one model call holding marker is charged once aborted."""
    reqs = fake.requests(marker)
    assert len(reqs) == 1, reqs
    return abort_charge(reqs[0]["body"])


# -------------------------------------------------------------------- tests --

def test_a_queued_job_is_cancelled_at_once(fresh, fake):
    user_id, key = user(fresh, "queued")
    before = reserved(fresh, user_id)
    job_id = fresh.submit("q.py", "x = 1\n", auth=key)
    assert reserved(fresh, user_id) > before
    assert fresh.queued_entry(job_id) is not None

    status, _, body = cancel(fresh, job_id, key)
    assert status == 200, body
    assert body["status"] == "cancelled" and body["error"] == "cancelled by its owner", body
    assert body["finished_at"] and body["findings"] == [], body
    # Out of the queue, reservation released, nothing charged, stored.
    assert fresh.queued_entry(job_id) is None
    assert reserved(fresh, user_id) == before
    assert fresh.psql_int(f"SELECT count(*) FROM token_charges WHERE job_id = '{job_id}'") == 0
    assert pg_job(fresh, job_id) == ["cancelled", "cancelled by its owner", "t"]
    st, job = fresh.get_job(job_id, auth=key)
    assert st == 200 and job["status"] == "cancelled", job
    # Idempotent: cancelled again is the same answer, and the reservation
    # is released once only.
    status, _, again = cancel(fresh, job_id, key)
    assert status == 200 and again["status"] == "cancelled", again
    assert reserved(fresh, user_id) == before

    # A worker started afterwards never sees it, and the model is never asked.
    fresh.start_worker("fast", worker_env(fake))
    other = fresh.submit("after.py", "y = 2\n", auth=key)
    assert fresh.poll_job(other, auth=key)["status"] == "done"
    assert fake.stats()["requests_total"] == 1, fake.stats()
    st, job = fresh.get_job(job_id, auth=key)
    assert job["status"] == "cancelled", job
    # Its events end with cancelled (a final event: the stream closes).
    stream = Stream(fresh.gateway, job_id, key).read()
    assert stream.closed and stream.types()[-1] == "cancelled", stream.text


def test_a_job_delivered_but_not_started_is_not_run(fresh, fake):
    """The entry was read by a consumer (pending) when the owner cancelled:
    the cancellation acknowledges it, and a worker reclaiming it finds the
    job cancelled."""
    user_id, key = user(fresh, "pending")
    job_id = fresh.submit("p.py", "z = 3\n", auth=key)
    stream, eid = job_entry_of(job_id)
    fresh.redis_cli("XGROUP", "CREATE", STREAM_FAST, GROUP_FAST, "0", "MKSTREAM", check=False)
    fresh.redis_cli("XREADGROUP", "GROUP", GROUP_FAST, "ghost", "COUNT", "10",
                    "STREAMS", STREAM_FAST, ">")
    assert fresh.redis_int("XPENDING", STREAM_FAST, GROUP_FAST) == 1

    status, _, body = cancel(fresh, job_id, key)
    assert status == 200 and body["status"] == "cancelled", body
    assert fresh.redis_int("XPENDING", STREAM_FAST, GROUP_FAST) == 0
    fresh.start_worker("fast", worker_env(fake, CODEINSIGHT_VISIBILITY_TIMEOUT_MS=1000))
    time.sleep(2.5)
    assert fake.stats()["requests_total"] == 0
    assert pg_job(fresh, job_id)[0] == "cancelled"


def test_a_running_job_is_stopped_by_its_worker(fresh, fake):
    user_id, key = user(fresh, "running")
    marker = "held_" + secrets.token_hex(4)
    fake.script([{"match": marker, "fault": "timeout"}])
    port = free_port()
    w = fresh.start_worker("fast", worker_env(fake, CODEINSIGHT_METRICS_PORT=port))
    before = reserved(fresh, user_id)
    job_id = fresh.submit("held.go", f"package main\n\n// {marker}\nfunc main() {{}}\n",
                          auth=key)
    wait_until(lambda: held_call(fake), timeout=20, desc="the model call is held")
    st, job = fresh.get_job(job_id, auth=key)
    assert job["status"] == "running" and "cancel_requested" not in job, job

    asked = time.monotonic()
    status, headers, body = cancel(fresh, job_id, key)
    assert status == 202, body
    assert headers.get("Retry-After") == "1"
    assert body["status"] == "running" and body["cancel_requested"] is True, body

    job = fresh.poll_job(job_id, until=("cancelled", "done", "failed"), timeout=CANCEL_WITHIN_S,
                         auth=key)
    took = time.monotonic() - asked
    assert job["status"] == "cancelled", job
    assert job["error"] == "cancelled by its owner" and job["findings"] == [], job
    assert took < LLM_TIMEOUT_MS / 1000 / 4, took
    # The held call was aborted: the vendor saw the client close it.
    wait_until(lambda: fake.stats()["client_gave_up"] == 1, timeout=10, desc="the call aborted")
    assert fake.stats()["in_flight"] == 0
    assert w.events("job_cancelled", job_id=job_id)
    assert w.events("job_done", job_id=job_id)[0]["status"] == "cancelled"
    # Stored by the worker: ledger row of what it used, the aborted call's
    # prompt, which the vendor may bill; the reservation released.
    assert pg_job(fresh, job_id) == ["cancelled", "cancelled by its owner", "f"]
    charged = fresh.psql_int(f"SELECT tokens FROM token_charges WHERE job_id = '{job_id}'")
    assert charged == held_charge(fake, marker) > 0, charged
    assert reserved(fresh, user_id) == before
    st, _, usage = fresh.http("GET", "/usage", auth=key)
    assert st == 200 and usage["tokens"] == charged, usage
    types = Stream(fresh.gateway, job_id, key).read().types()
    assert types[-2:] == ["cancel_requested", "cancelled"], types

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        metrics = r.read().decode()
    assert 'codeinsight_jobs_total{type="review",outcome="cancelled"} 1' in metrics, metrics

    # Too late now: cancelled stays cancelled.
    status, _, again = cancel(fresh, job_id, key)
    assert status == 200 and again["status"] == "cancelled", again
    # The worker goes on with other jobs.
    other = fresh.submit("next.py", "n = 1\n", auth=key)
    assert fresh.poll_job(other, auth=key)["status"] == "done"


def test_a_cancelled_job_reports_the_cost_of_its_answered_call(fresh, fake):
    """The model answered, not JSON, and the repair call is held when the
    owner cancels: the job is charged the answered call's tokens and the
    held call's estimate (docs/pipeline.md), and its usage and cost_usd,
    so GET /usage's cost and breakdown, are the answered call's: 9,000 in
    and 700 out at 3 and 15 USD per million tokens. Before, the tokens were
    charged with a usage of 0 and no cost."""
    user_id, key = user(fresh, "cancel-cost")
    marker = "repair_" + secrets.token_hex(4)
    fake.script([{"match": marker, "text": "not json at all",
                  "usage": {"input_tokens": 9000, "output_tokens": 700}},
                 {"match": marker, "fault": "timeout"}])
    fresh.start_worker("fast", worker_env(fake))
    job_id = fresh.submit("svc/value.go", f"package svc\n\n// {marker}\nfunc V() {{}}\n",
                          auth=key)
    wait_until(lambda: fake.count(marker) == 2 and held_call(fake), timeout=20,
               desc="the repair call is held")
    status, _, body = cancel(fresh, job_id, key)
    assert status == 202, body
    job = fresh.poll_job(job_id, until=("cancelled", "done", "failed"), timeout=CANCEL_WITHIN_S,
                         auth=key)
    assert job["status"] == "cancelled", job
    u = job["usage"]
    assert (u["input_tokens"], u["output_tokens"], u["cost_usd"]) == (9000, 700, 0.0375), u
    wait_until(lambda: fake.stats()["client_gave_up"] == 1, timeout=10, desc="the call aborted")
    repair = abort_charge(fake.requests(marker)[1]["body"])
    tokens, cost, inp, out = fresh.psql_rows(
        "SELECT tokens, cost_usd, input_tokens, output_tokens FROM token_charges "
        f"WHERE job_id = '{job_id}'")[0]
    assert (int(tokens), float(cost), int(inp), int(out)) == \
        (9700 + repair, 0.0375, 9000, 700), (tokens, cost, inp, out)
    st, _, usage = fresh.http("GET", "/usage", auth=key)
    assert st == 200 and (usage["tokens"], usage["cost_usd"]) == (9700 + repair, 0.0375), usage
    review = usage["by_task"]["review"]
    assert (review["input_tokens"], review["output_tokens"]) == (9000, 700), usage


def test_a_cancellation_missed_while_unsubscribed_is_caught_up(fresh, fake):
    """The request reached Redis (cancel_requested) but its message did not
    reach the worker, as when its subscription was down: once the worker
    has subscribed again it looks its jobs up and ends this one."""
    user_id, key = user(fresh, "catchup")
    marker = "missed_" + secrets.token_hex(4)
    fake.script([{"match": marker, "fault": "timeout"}])
    w = fresh.start_worker("fast", worker_env(fake))
    job_id = fresh.submit("missed.py", f"# {marker}\nm = 1\n", auth=key)
    wait_until(lambda: held_call(fake), timeout=20, desc="the model call is held")
    fresh.redis_cli("HSET", f"job:{job_id}", "cancel_requested", "1")   # no PUBLISH
    time.sleep(1)
    assert fresh.get_job(job_id, auth=key)[1]["status"] == "running"

    # Every subscribed connection is dropped; each one subscribes again.
    fresh.redis_cli("CLIENT", "KILL", "TYPE", "pubsub")
    job = fresh.poll_job(job_id, until=("cancelled", "done", "failed"), timeout=CANCEL_WITHIN_S,
                         auth=key)
    assert job["status"] == "cancelled", job
    assert w.events("job_cancelled", job_id=job_id)
    wait_until(lambda: fake.stats()["client_gave_up"] == 1, timeout=10, desc="the call aborted")


def test_a_dead_workers_cancelled_job_ends_on_the_next(fresh, fake):
    user_id, key = user(fresh, "dead")
    marker = "dies_" + secrets.token_hex(4)
    fake.script([{"match": marker, "fault": "timeout", "times": 2}])
    env = worker_env(fake, CODEINSIGHT_VISIBILITY_TIMEOUT_MS=1500)
    w1 = fresh.start_worker("fast", env)
    before = reserved(fresh, user_id)
    job_id = fresh.submit("dies.py", f"# {marker}\nv = 1\n", auth=key)
    wait_until(lambda: held_call(fake), timeout=20, desc="the model call is held")
    assert w1.kill() == -signal.SIGKILL

    status, _, body = cancel(fresh, job_id, key)
    assert status == 202 and body["cancel_requested"] is True, body
    w2 = fresh.start_worker("fast", env)
    job = fresh.poll_job(job_id, until=("cancelled", "done", "failed"), timeout=30, auth=key)
    assert job["status"] == "cancelled" and job["attempts"] == 1, job
    assert w2.events("job_cancelled", job_id=job_id)
    assert fake.stats()["requests_total"] == 1, "the next worker must not call the model again"
    assert pg_job(fresh, job_id)[0] == "cancelled"
    assert reserved(fresh, user_id) == before


def throttled_job(fresh, fake, tag: str, path: str, content: str):
    """A lite user over 90% of its budget submits path: (user id, key, the
    fast worker started, job id). The job's model call is deferred by an
    hour's cooldown."""
    _, user_id, key = fresh.new_user("lite", tag=tag)
    fresh.psql(f"INSERT INTO token_charges (job_id, user_id, month, tokens) VALUES "
               f"(gen_random_uuid(), '{user_id}', '{month()}', {200_000 * 92 // 100})")
    fresh.redis_cli("DEL", f"budget:{user_id}:{month()}")
    w = fresh.start_worker("fast", worker_env(fake, CODEINSIGHT_THROTTLE_COOLDOWN=3600))
    status, _, body = fresh.http("POST", "/review", {"file_path": path, "file_content": content,
                                                     "request_type": "review"}, auth=key)
    assert status == 202, body
    return user_id, key, w, body["job_id"]


def assert_ended_unparked(fresh, fake, user_id: str, job_id: str, reserved_before: int):
    """The throttled job ended cancelled: nothing parked, its reservation
    released, its row stored, the model never called."""
    assert fresh.redis_int("ZCARD", "deferred:review_jobs") == 0
    assert fresh.redis_int("EXISTS", f"deferred:job:{job_id}") == 0
    assert reserved(fresh, user_id) < reserved_before
    assert pg_job(fresh, job_id)[0] == "cancelled"
    assert fake.stats()["requests_total"] == 0


def test_a_parked_job_is_cancelled_from_its_parking(fresh, fake):
    """A soft-throttled job waiting for its model call (deferred) leaves the
    deferred set and is never put back on the stream."""
    user_id, key, w, job_id = throttled_job(fresh, fake, "parked", "parked.go",
                                            "# parked\nw = 1\n")
    wait_until(lambda: w.events("job_deferred", job_id=job_id), timeout=20, desc="parked")
    assert fresh.redis_int("ZCARD", "deferred:review_jobs") == 1
    parked_reserved = reserved(fresh, user_id)
    assert parked_reserved > 0

    status, _, body = cancel(fresh, job_id, key)
    assert status == 200 and body["status"] == "cancelled", body
    assert body.get("deferred_until") is None, body
    assert_ended_unparked(fresh, fake, user_id, job_id, parked_reserved)


def test_a_job_cancelled_on_its_way_to_the_parking_is_not_parked(fresh, fake):
    """The request reaches Redis while the worker lints a soft-throttled
    job, and its message does not reach the worker (no PUBLISH): the
    deferral finds the request and the job ends cancelled now, not parked
    for the cooldown (an hour here) and ended by whoever takes it then."""
    user_id, key, w, job_id = throttled_job(fresh, fake, "onitsway", "onitsway.py",
                                            "# on its way\nimport os\n\n\n"
                                            "def f():\n    return os.sep\n")
    before = reserved(fresh, user_id)
    assert before > 0
    # Started (job_start.lua ran): its linters take a few hundred ms.
    wait_until(lambda: fresh.redis_cli("HGET", f"job:{job_id}", "status") == "running",
               timeout=20, interval=0.01, desc="the job runs")
    fresh.redis_cli("HSET", f"job:{job_id}", "cancel_requested", "1")   # no PUBLISH
    job = fresh.poll_job(job_id, until=("cancelled", "done", "failed"), timeout=CANCEL_WITHIN_S,
                         auth=key)
    assert job["status"] == "cancelled", job
    assert not w.events("job_deferred", job_id=job_id), "the job was parked"
    assert w.events("job_cancelled", job_id=job_id)
    assert_ended_unparked(fresh, fake, user_id, job_id, before)


def test_a_queued_job_cancelled_while_postgres_is_down_is_stored_on_retry(fresh, fake):
    """PostgreSQL down: the cancellation still happens in Redis (the job
    leaves the queue, its reservation is released) but cannot be stored,
    so the answer is 503 database_unavailable, never a 200 for a job the
    system of record does not have. Once it is back, the same DELETE
    stores it and answers 200, the reservation released once only."""
    user_id, key = user(fresh, "pg-down")
    assert fresh.http("GET", "/whoami", auth=key)[0] == 200     # key cached
    before = reserved(fresh, user_id)
    job_id = fresh.submit("pgdown.py", "p = 1\n", auth=key)
    assert reserved(fresh, user_id) > before
    fresh.stop_pg()
    try:
        status, headers, body = cancel(fresh, job_id, key)
        assert status == 503 and body["code"] == "database_unavailable", body
        assert headers.get("Retry-After"), headers
        assert fresh.queued_entry(job_id) is None
        assert reserved(fresh, user_id) == before
        st, job = fresh.get_job(job_id, auth=key)
        assert st == 200 and job["status"] == "cancelled", job
    finally:
        fresh.start_pg()
    assert pg_job(fresh, job_id) == []

    def stored():
        status, _, body = cancel(fresh, job_id, key)
        return body if status == 200 else None
    body = wait_until(stored, timeout=20, interval=0.25, desc="DELETE 200 after PostgreSQL")
    assert body["status"] == "cancelled", body
    assert pg_job(fresh, job_id) == ["cancelled", "cancelled by its owner", "t"]
    assert reserved(fresh, user_id) == before
    assert fresh.psql_int(f"SELECT count(*) FROM token_charges WHERE job_id = '{job_id}'") == 0


def test_refusals(fresh, fake):
    user_id, key = user(fresh, "refused")
    fresh.start_worker("fast", worker_env(fake))
    done = fresh.submit("done.py", "d = 1\n", auth=key)
    assert fresh.poll_job(done, auth=key)["status"] == "done"
    status, _, body = cancel(fresh, done, key)
    assert status == 409 and body["code"] == "job_finished", body
    assert body["job_status"] == "done", body
    assert fresh.get_job(done, auth=key)[1]["status"] == "done"

    queued_for_other = fresh.submit("mine.py", "m = 1\n", auth=key)
    _, other_key = user(fresh, "other")
    status, _, body = cancel(fresh, queued_for_other, other_key)
    assert status == 404 and body["code"] == "job_not_found", body
    status, _, body = cancel(fresh, str(uuid.uuid4()), key)
    assert status == 404 and body["code"] == "job_not_found", body
    status, _, body = cancel(fresh, "not-a-job", key)
    assert status == 404 and body["code"] == "job_not_found", body
    status, _, body = cancel(fresh, done, None)
    assert status == 401, body
    # The job refused to someone else is untouched.
    job = fresh.poll_job(queued_for_other, auth=key)
    assert job["status"] == "done", job

    # GET /jobs filters on the new status; an unknown one is refused.
    fresh.stop_workers()
    cancelled = fresh.submit("c.py", "c = 1\n", auth=key)
    assert cancel(fresh, cancelled, key)[0] == 200
    status, _, page = fresh.http("GET", "/jobs?status=cancelled", auth=key)
    assert status == 200, page
    assert [(j["job_id"], j["status"]) for j in page["jobs"]] == [(cancelled, "cancelled")], page
    status, _, body = fresh.http("GET", "/jobs?status=gone", auth=key)
    assert status == 400 and body["code"] == "invalid_field_value", body
