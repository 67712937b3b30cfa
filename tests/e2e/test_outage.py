"""Dependency outages: with Redis down, POST /review is 503 redis_unavailable
and /readyz is 503 naming redis; with PostgreSQL down, /readyz is 200
"degraded" naming postgres and a known key still submits; both recover when
the service comes back, without restarting the gateway.

Stops and restarts the session's Redis/PostgreSQL (same port, dir, password);
they are running again at the end of every test."""

import uuid

import pytest

from harness import assert_problem, wait_until

RECOVER_TIMEOUT = 20
BODY = {"file_path": "app.py", "file_content": "import os\n", "request_type": "review"}


@pytest.fixture
def redis_down(harness, gateway):
    harness.stop_redis()
    try:
        yield
    finally:
        if not harness.redis_up():
            harness.start_redis()


@pytest.fixture
def pg_down(harness, gateway):
    harness.stop_pg()
    try:
        yield
    finally:
        if not harness.pg_up():
            harness.start_pg()


def readable_again(harness, job_id):
    """The job's view once GET /job/:id answers 200 again (Redis restarted)."""
    def view():
        status, job = harness.get_job(job_id)
        return job if status == 200 else None
    return wait_until(view, timeout=RECOVER_TIMEOUT, interval=0.25,
                      desc=f"job {job_id} readable after Redis restart")


def test_ready_before(harness, gateway):
    status, _, body = harness.http("GET", "/readyz")
    assert status == 200, body


def test_redis_down_then_recovers(harness, gateway, redis_down):
    resp = harness.http("POST", "/review", BODY)
    assert_problem(resp, 503, "redis_unavailable")
    retry = resp[1].get("Retry-After")
    assert retry is not None and retry.strip().isdigit(), f"Retry-After {retry!r}"

    resp = harness.http("GET", "/readyz")
    body = assert_problem(resp, 503, "not_ready")
    assert body.get("checks") == {"redis": "down", "postgres": "ok"}, body

    # liveness is not readiness: the gateway itself is fine
    status, _, body = harness.http("GET", "/healthz")
    assert status == 200, body
    # a second submission while down is answered the same way (no hang, no crash)
    assert_problem(harness.http("POST", "/review", BODY), 503, "redis_unavailable")
    assert gateway.alive()

    harness.start_redis()

    def submitted():
        status, _, data = harness.http("POST", "/review", BODY)
        return data if status == 202 else None
    data = wait_until(submitted, timeout=RECOVER_TIMEOUT, interval=0.25,
                      desc="POST /review to succeed after Redis restart")
    status, job = harness.get_job(data["job_id"])
    assert status == 200 and job["status"] == "queued", job
    status, _, body = harness.http("GET", "/readyz")
    assert status == 200, body
    assert body == {"status": "ready", "checks": {"redis": "ok", "postgres": "ok"}}
    assert gateway.alive()


def test_a_queued_job_is_not_lost_while_redis_is_down(harness, gateway):
    """A queued job lives in Redis only: while Redis is down its poll is 503
    redis_unavailable (retry), never 404 (gone), and so is its cancellation
    (a finished job's poll: test_a_finished_jobs_poll_while_redis_is_down).
    Both are there again once Redis is back."""
    harness.stop_workers()
    queued = harness.submit()
    harness.stop_redis()
    try:
        for method in ("GET", "DELETE"):
            resp = harness.http(method, f"/job/{queued}")
            assert_problem(resp, 503, "redis_unavailable")
            assert resp[1].get("Retry-After"), resp[1]
    finally:
        harness.start_redis()
    assert readable_again(harness, queued)["status"] == "queued"


def test_postgres_down_then_recovers(harness, gateway, pg_down):
    # Still ready for traffic (the gateway goes on from Redis), but says so.
    def degraded():
        status, _, body = harness.http("GET", "/readyz")
        return body if status == 200 and body.get("status") == "degraded" else None
    body = wait_until(degraded, timeout=10, interval=0.25,
                      desc="/readyz 200 degraded with PostgreSQL down")
    assert body == {"status": "degraded", "checks": {"redis": "ok", "postgres": "down"}}, body
    # ... and it does go on: a key seen before still submits and polls.
    status, _, data = harness.http("POST", "/review", BODY)
    assert status == 202, data
    status, job = harness.get_job(data["job_id"])
    assert status == 200 and job["status"] == "queued", job
    status, _, _ = harness.http("GET", "/healthz")
    assert status == 200
    assert gateway.alive()

    harness.start_pg()

    def ready():
        status, _, body = harness.http("GET", "/readyz")
        return body if status == 200 else None
    body = wait_until(ready, timeout=RECOVER_TIMEOUT, interval=0.25,
                      desc="/readyz 200 after PostgreSQL restart")
    assert body == {"status": "ready", "checks": {"redis": "ok", "postgres": "ok"}}
    assert gateway.alive()


def test_postgres_down_reads_that_need_it_answer_503(harness, gateway):
    """What only PostgreSQL holds cannot be answered while it is down: each
    such call is 503 database_unavailable with Retry-After and a detail
    that names no host (never a hang, a 500 or a wrong 401/404), and the
    same calls succeed once it is back."""
    email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
    harness.create_user(email, plan="pro", password="correct horse battery")
    harness.set_operator(email)         # GET /stats is for operators
    key = harness.issue_key(email)
    # The key is known to the gateway (cached) before the outage.
    assert harness.http("GET", "/whoami", auth=key)[0] == 200
    calls = [("GET", "/usage", None, key), ("GET", "/stats", None, key),
             ("GET", "/audit", None, key), ("GET", "/keys", None, key),
             ("GET", f"/job/{uuid.uuid4()}", None, key),
             ("POST", "/auth/login", {"email": email, "password": "correct horse battery"},
              None),
             # A key the gateway has never seen cannot be checked.
             ("GET", "/whoami", None, "ci_live_" + "x" * 32)]
    harness.stop_pg()
    try:
        for method, path, body, auth in calls:
            resp = harness.http(method, path, body, auth=auth)
            problem = assert_problem(resp, 503, "database_unavailable")
            assert resp[1].get("Retry-After"), (path, resp[1])
            assert "127.0.0.1" not in problem["detail"], problem
        assert gateway.alive()
    finally:
        harness.start_pg()
    for method, path, body, auth in calls[:4]:
        status, _, got = wait_until(
            lambda: (lambda r: r if r[0] == 200 else None)(harness.http(method, path, body,
                                                                         auth=auth)),
            timeout=RECOVER_TIMEOUT, interval=0.25, desc=f"{path} after PostgreSQL restart")
        assert status == 200, got


def test_a_finished_jobs_poll_while_redis_is_down(harness, gateway):
    """Every request is admitted against Redis first (identity cache, rate
    buckets): while it is down a finished job's poll is 503
    redis_unavailable with Retry-After too (docs/operations.md), never a 404
    or a hang; the job is read again once Redis is back."""
    harness.stop_workers()
    harness.start_worker()
    try:
        finished = harness.submit(file_content=f"# {uuid.uuid4()}\nimport os\n")
        assert harness.poll_job(finished)["status"] == "done"
    finally:
        harness.stop_workers()
    harness.stop_redis()
    try:
        resp = harness.http("GET", f"/job/{finished}")
        assert_problem(resp, 503, "redis_unavailable")
        assert resp[1].get("Retry-After"), resp[1]
    finally:
        harness.start_redis()
    assert readable_again(harness, finished)["status"] == "done"


def test_gateway_never_restarted(harness, gateway):
    assert gateway.alive()
    assert gateway.returncode is None
    assert gateway.healthy()
