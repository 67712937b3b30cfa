"""Lifecycle of the Redis keys and stream metadata the service writes, in a
long-running deployment: nothing may grow with the number of jobs or
worker processes ever seen, and nothing may vanish while what it stands for
is still alive (docs/operations.md, "Data in Redis")."""

import datetime as dt
import math
import secrets
import time

import pytest

from fakemodel import FakeModel, answer
from harness import wait_until

STREAM = "review_jobs"
GROUP = "fast"
LITE_BUDGET = 200_000


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


def month():
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")


def throttled_user(harness, tag, content):
    """A lite user whose next review of `content` lands over 90% of the
    budget (soft-throttled: parked until the cooldown has passed)."""
    _, user_id, key = harness.new_user("lite", tag=tag)
    est = math.ceil(len(content) / 4) + 1500 + 2048
    harness.psql(f"INSERT INTO token_charges (job_id, user_id, month, tokens) VALUES "
                 f"(gen_random_uuid(), '{user_id}', '{month()}', "
                 f"{LITE_BUDGET * 92 // 100 - est})")
    harness.redis_cli("DEL", f"budget:{user_id}:{month()}")
    return user_id, key


def listed(harness, gw, key, status):
    st, _, body = harness.http("GET", f"/jobs?status={status}&limit=100", gateway=gw, auth=key)
    assert st == 200, body
    return [j["job_id"] for j in body["jobs"]]


def park(harness, fake, tag, job_ttl, cooldown, latency_ms=0):
    """A gateway and a fast worker with job_ttl and cooldown, and a
    soft-throttled review of a throttled user's, parked by the worker: (gw,
    user id, key, job id, its marker, monotonic time of the admission, the
    worker)."""
    fake.reset()
    marker = f"{tag}_" + secrets.token_hex(4)
    content = f"# {marker}\nx = 1\n"
    step = {"match": marker, "text": answer([], "Later."), "times": 5}
    if latency_ms:
        step["latency_ms"] = latency_ms
    fake.script([step])
    gw = harness.start_gateway({**model_env(fake, cooldown, job_ttl),
                                "ANTHROPIC_API_KEY": None,
                                "CODEINSIGHT_RATE_LIMIT_SCALE": "1000"}, default=False)
    w = harness.start_worker("fast", model_env(fake, cooldown, job_ttl))
    user_id, key = throttled_user(harness, tag, content)
    status, _, body = harness.http("POST", "/review", {"file_path": f"{tag}.py",
                                                       "file_content": content,
                                                       "request_type": "review"},
                                   gateway=gw, auth=key)
    assert status == 202, body
    assert any(x.startswith("soft_throttled") for x in body.get("warnings", [])), body
    job_id = body["job_id"]
    admitted = time.monotonic()

    def parked():
        st, job = harness.get_job(job_id, gateway=gw, auth=key)
        return job if st == 200 and job.get("deferred_until") else None
    wait_until(parked, timeout=20, interval=0.1, desc="job parked")
    return gw, user_id, key, job_id, marker, admitted, w


def test_a_parked_job_stays_listed_while_it_is_queued(harness, fake):
    """jobs:<user> (admit.lua) is the only place GET /jobs finds a queued
    job (PostgreSQL has it once it ends), but it expires CODEINSIGHT_JOB_TTL
    after the user's last admission, while a parked job's hot copy lives
    JOB_TTL + CODEINSIGHT_THROTTLE_COOLDOWN (job_defer.lua, worker's
    do_defer): the job is still queued, GET /job/:id shows it, and GET /jobs
    no longer lists it. (Likewise a job that waits in the stream longer than
    JOB_TTL after its owner's last submission.)"""
    job_ttl, cooldown = 60, 600
    gw, user_id, key, job_id, marker, admitted, w = park(harness, fake, "parked", job_ttl,
                                                         cooldown)
    assert job_id in listed(harness, gw, key, "queued")
    w.stop()

    # Past JOB_TTL since the admission, well within the parked job's life.
    time.sleep(max(0.0, admitted + job_ttl + 3 - time.monotonic()))
    st, job = harness.get_job(job_id, gateway=gw, auth=key)
    assert st == 200 and job["status"] == "queued" and job.get("deferred_until"), (st, job)
    assert harness.redis_int("ZSCORE", "deferred:review_jobs", job_id) > 0
    assert fake.count(marker) == 0
    assert job_id in listed(harness, gw, key, "queued"), (
        f"queued job {job_id} missing from GET /jobs: jobs:{user_id} "
        f"TTL {harness.redis_cli('TTL', f'jobs:{user_id}')}, "
        f"job:{job_id} TTL {harness.redis_cli('TTL', f'job:{job_id}')}")
    gw.stop()


def test_a_parked_job_outlives_a_pause_of_its_pool(harness, fake):
    """A queued job's stream entry waits for a worker however long it takes;
    so must a parked job's only copy, code included, deferred:job:<id>, and
    its hash. They were given CODEINSIGHT_JOB_TTL +
    CODEINSIGHT_THROTTLE_COOLDOWN by job_defer.lua: when no worker of its
    pool ran for JOB_TTL past its due time (a rollout, a pool scaled to
    zero, an outage), both expired, job_undefer.lua dropped its id from
    deferred:<stream> and queued nothing, so the accepted job never ran,
    never reached PostgreSQL, was 404 to its owner, and its token
    reservation was never released."""
    job_ttl, cooldown = 60, 5
    gw, _, key, job_id, marker, _, w = park(harness, fake, "paused", job_ttl, cooldown)
    parked_at = time.monotonic()
    assert w.stop() == 0, w.tail()

    # The pool pauses past the TTL the parked copy and the hash had.
    time.sleep(max(0.0, parked_at + job_ttl + cooldown + 3 - time.monotonic()))
    st, job = harness.get_job(job_id, gateway=gw, auth=key)
    assert st == 200 and job["status"] == "queued" and job.get("deferred_until"), (st, job)
    harness.start_worker("fast", model_env(fake, cooldown, job_ttl))
    done = harness.poll_job(job_id, until=("done", "failed"), timeout=20, gateway=gw, auth=key)
    assert done["status"] == "done" and fake.count(marker) == 1, done
    harness.stop_workers()
    gw.stop()


def test_a_requeued_job_whose_hash_expired_keeps_its_view(harness, fake):
    """A parked job goes back on the stream under a new entry id carrying
    job_id. The job id no longer names an entry, so its hash job:<id> is its
    only readable hot copy while it waits for a worker. That hash used to
    keep the TTL job_defer.lua gave it (CODEINSIGHT_JOB_TTL + the cooldown):
    when the requeued entry waited in the stream until it expired, GET
    /job/:id was 404 for a queued job, and job_start.lua, which copies only
    the view fields of the entry (ENTRY_VIEW: user_id, throttled, degraded,
    degraded_reason, meta) while do_defer had parked meta's members as
    fields of their own, began a hash without type or created_at: the
    running job stayed 404 (job_view_from_hash wants a type) until
    PostgreSQL had it. Nor was it listed by GET /jobs: its owner's index had
    expired too, and nothing put it back."""
    job_ttl, cooldown = 60, 5
    gw, _, key, job_id, _, _, w = park(harness, fake, "requeued", job_ttl, cooldown,
                                       latency_ms=6000)
    parked_at = time.monotonic()
    assert w.stop() == 0, w.tail()

    # Due: put back on the stream by job_undefer.lua, as a worker's tick does
    # (here no worker takes it at once: the pool is busy, or paused).
    undefer = (harness.build_dir / "gen" / "schema" / "redis" / "job_undefer.lua").read_text()
    time.sleep(cooldown + 1)
    assert harness.redis_cli("EVAL", undefer, "2", "deferred:review_jobs", STREAM,
                             str(int(time.time() * 1000)), "100") == "1"
    # It waits in the stream past the TTL its hash had.
    time.sleep(max(0.0, parked_at + job_ttl + cooldown + 3 - time.monotonic()))
    assert harness.redis_int("XLEN", STREAM) == 1
    queued, _ = harness.get_job(job_id, gateway=gw, auth=key)

    w = harness.start_worker("fast", model_env(fake, cooldown, job_ttl))
    w.wait_for_log("job_started", timeout=15)
    running, view = harness.get_job(job_id, gateway=gw, auth=key)
    fields = harness.redis_cli("HKEYS", f"job:{job_id}").splitlines()
    assert (queued, running) == (200, 200), (
        f"queued job read {queued}, running job read {running} {view!r}; "
        f"hash begun by job_start.lua: {sorted(fields)}")
    # Its owner's index had expired while it waited: GET /jobs lists it
    # again once it runs (job_start.lua puts it back).
    harness.poll_job(job_id, until=("running",), timeout=15, gateway=gw, auth=key)
    assert job_id in listed(harness, gw, key, "running"), (
        f"running job {job_id} missing from GET /jobs: "
        f"jobs:{view['user_id']} TTL {harness.redis_cli('TTL', 'jobs:' + view['user_id'])}")
    harness.poll_job(job_id, timeout=30, gateway=gw, auth=key)
    harness.stop_workers()
    gw.stop()


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
    (job_cancel.lua: 'absent'). Its owner's index, jobs:<user>, which the
    admission gave JOB_TTL, expired likewise: GET /jobs no longer listed
    it."""
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
    # Listed by GET /jobs too: the heartbeat keeps it in its owner's index,
    # which the admission gave JOB_TTL.
    running = listed(harness, gw, key, "running")
    cst, _, cbody = harness.http("DELETE", f"/job/{job_id}", gateway=gw, auth=key)
    assert (st, job.get("status")) == (200, "running") and cst == 202, (
        f"running job read {st} {job!r}; job:{job_id} TTL {ttl}; DELETE {cst} {cbody!r}")
    assert job_id in running, (
        f"running job {job_id} missing from GET /jobs: jobs:{job['user_id']} TTL "
        f"{harness.redis_cli('TTL', 'jobs:' + job['user_id'])}")
    harness.stop_workers()
    gw.stop()
