"""What a worker process leaves in Redis over a long-running deployment:
its consumer in the group once it has stopped (nothing may grow with the
number of worker processes ever seen), and the hash of a job it runs longer
than CODEINSIGHT_JOB_TTL (nothing may vanish while its job is alive);
docs/operations.md, "Data in Redis" and "Queue insight". From an audit of
the Redis keys' lifecycle."""

import secrets
import time

import pytest

from fakemodel import FakeModel, answer
from harness import wait_until

STREAM = "review_jobs"
GROUP = "fast"

@pytest.fixture(scope="module")
def fake(harness):
    f = FakeModel.start(harness.tmpdir / "logs", name="fake-llm-lifecycle")
    yield f
    f.stop()


def model_env(fake, cooldown, job_ttl):
    return {"CODEINSIGHT_LLM_PROVIDER": "anthropic",
            "CODEINSIGHT_LLM_BASE_URL": f"http://127.0.0.1:{fake.port}",
            "ANTHROPIC_API_KEY": "test-key-" + secrets.token_hex(8),
            "CODEINSIGHT_THROTTLE_COOLDOWN": str(cooldown),
            "CODEINSIGHT_JOB_TTL": str(job_ttl)}


def consumers(harness, stream=STREAM, group=GROUP):
    """Names of the consumers of the group (XINFO CONSUMERS)."""
    out = harness.redis_cli(
        "EVAL", "local n = {} for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], "
        "ARGV[1])) do n[#n + 1] = c[2] end return n", "1", stream, group)
    return [ln for ln in out.splitlines() if ln]


def test_stopped_workers_leave_no_consumers_behind(harness, gateway):
    """Each worker process joins the group under a consumer name of its own
    (<pool>-<host>-<pid>-<random>) and never leaves it: a worker stopped
    cleanly, holding nothing, stays in XINFO CONSUMERS forever. Every
    restart, rollout or autoscaler step adds one more, and queue_info.lua
    walks them all on every /metrics scrape and GET /queue/info."""
    names = []
    for _ in range(3):
        w = harness.start_worker("fast")
        name = w.consumer
        assert name, w.tail()
        # It joins the group with its first delivery (Redis 7.0; 7.2 and
        # later with its first XREADGROUP): one job each.
        job_id = harness.submit(file_content=f"x = {len(names)}\n")
        assert harness.poll_job(job_id, timeout=30)["status"] == "done"
        assert name in consumers(harness)
        harness.wait_stream_drained(STREAM, GROUP)
        assert w.stop() == 0, w.tail()
        names.append(name)
    left = [n for n in consumers(harness) if n in names]
    assert left == [], f"consumers of stopped workers still in group {GROUP}: {left}"



def test_a_running_job_keeps_its_hash(harness, fake):
    """job_start.lua gives job:<id> CODEINSIGHT_JOB_TTL and nothing refreshes
    it while the job runs (the heartbeat refreshes the stream entry only;
    job_event.lua refreshes jobev:<id> only). A job that runs longer than
    JOB_TTL (a slow model within CODEINSIGHT_LLM_TIMEOUT_MS, retries, a
    PostgreSQL outage while persisting) loses its hash mid-run: GET /job/:id
    is 404 for a running job, its step events are dropped (job_event.lua
    answers false without a hash), and its owner cannot cancel it
    (job_cancel.lua: 'absent')."""
    job_ttl = 60
    fake.reset()
    marker = "longrun_" + secrets.token_hex(4)
    content = f"# {marker}\nx = 4\n"
    fake.script([{"match": marker, "text": answer([], "Slow answer."),
                  "latency_ms": (job_ttl + 15) * 1000, "times": 1}])
    env = {**model_env(fake, 10800, job_ttl), "CODEINSIGHT_LLM_TIMEOUT_MS": "120000"}
    gw = harness.start_gateway({**env, "ANTHROPIC_API_KEY": None,
                                "CODEINSIGHT_RATE_LIMIT_SCALE": "1000"}, default=False)
    harness.start_worker("fast", env)
    _, _, key = harness.new_user("business", tag="longrun")
    status, _, body = harness.http("POST", "/review", {"file_path": "longrun.py",
                                                       "file_content": content,
                                                       "request_type": "review"},
                                   gateway=gw, auth=key)
    assert status == 202, body
    job_id = body["job_id"]
    harness.poll_job(job_id, until=("running",), timeout=20, gateway=gw, auth=key)
    started = time.monotonic()
    wait_until(lambda: fake.count(marker) >= 1, timeout=20, interval=0.1, desc="model asked")

    # Past JOB_TTL since the start; the model has not answered yet.
    time.sleep(max(0.0, started + job_ttl + 3 - time.monotonic()))
    st, job = harness.get_job(job_id, gateway=gw, auth=key)
    ttl = harness.redis_cli("TTL", f"job:{job_id}")
    cst, _, cbody = harness.http("DELETE", f"/job/{job_id}", gateway=gw, auth=key)
    assert (st, job.get("status")) == (200, "running") and cst == 202, (
        f"running job read {st} {job!r}; job:{job_id} TTL {ttl}; DELETE {cst} {cbody!r}")
    harness.stop_workers()
    gw.stop()
