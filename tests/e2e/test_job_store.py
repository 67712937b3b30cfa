"""ci_job_save / ci_job_store (schema/migrations) on the session's
PostgreSQL: what a later save of a job it accepts changes in the row.

A job is saved again when another delivery of it finishes (a worker cut
off past the visibility timeout, a worker that died before acknowledging)
or when its worker retries. A later save replaces the result (status,
findings, summary...) and must also bring the job's description up to date:
the minimal form (worker/pipeline.c, PERSIST_MINIMAL, after PostgreSQL
refused the fuller ones) carries no file_path, repo_id or request_id, so a
later delivery's full document fills them in; and the language is the
worker's resolution, which a later worker may make differently (a .h header
read as cpp since fde9bf5). What the submission fixed (type, created_at,
the owner) never changes, and a minimal save does not blank what an
earlier save of the same submission recorded."""

import json
import uuid

import pytest

CREATED = "2026-11-23T00:00:00Z"


def doc(job_id, attempts, worker, minimal=False, **members):
    """A job document as worker/job_result.c builds it; the minimal form
    has no file_path, repo_id or request_id (nor notes, linters...)."""
    d = {"job_id": job_id, "type": "review", "status": "done", "attempts": attempts,
         "worker": worker, "pool": "fast", "summary": f"by {worker}", "created_at": CREATED,
         "started_at": "2026-11-23T00:00:01Z", "finished_at": "2026-11-23T00:00:02Z",
         "findings": []}
    if not minimal:
        d.update({"file_path": "src/sds.h", "repo_id": "redis/redis", "request_id": "req-1"})
    d.update(members)
    return d


def save(harness, d) -> str:
    return harness.psql("SELECT COALESCE(ci_job_save('" + json.dumps(d) + "'::jsonb), 0)")


def row(harness, job_id) -> dict:
    got = harness.psql(f"SELECT ci_job_get('{job_id}')")
    return json.loads(got)


@pytest.fixture
def job_id(harness):
    jid = str(uuid.uuid4())
    yield jid
    harness.psql(f"DELETE FROM jobs WHERE job_id = '{jid}'")


def described(view) -> tuple:
    return (view["file_path"], view["repo_id"], view["request_id"], view["language"])


def test_a_later_delivery_fills_in_what_a_minimal_save_left_out(harness, job_id):
    """Delivery 1 stored the minimal form; delivery 2's full document
    describes the job: its path, repository, request id and language."""
    assert save(harness, doc(job_id, 1, "A", minimal=True, language="c")) == "0"
    assert described(row(harness, job_id)) == (None, None, None, "c")
    assert save(harness, doc(job_id, 2, "B", language="cpp")) == "0"
    view = row(harness, job_id)
    assert view["worker"] == "B" and view["summary"] == "by B", view
    assert described(view) == ("src/sds.h", "redis/redis", "req-1", "cpp")


def test_a_minimal_save_keeps_the_description(harness, job_id):
    """A later delivery stored only the minimal form: its result replaces
    the earlier one, but the job is still the same file of the same
    repository; what the submission fixed stays as first saved."""
    assert save(harness, doc(job_id, 1, "A", language="c")) == "0"
    later = doc(job_id, 2, "B", minimal=True, language="cpp", status="failed",
                error="the result could not be stored", type="debug",
                created_at="2026-11-24T00:00:00Z")
    assert save(harness, later) == "0"
    view = row(harness, job_id)
    assert (view["status"], view["worker"], view["attempts"]) == ("failed", "B", 2), view
    assert described(view) == ("src/sds.h", "redis/redis", "req-1", "cpp")
    assert (view["type"], view["created_at"]) == ("review", "2026-11-23T00:00:00.000Z"), view
