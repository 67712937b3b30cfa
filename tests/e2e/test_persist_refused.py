"""PostgreSQL refusing a job's document (an error reply, not an outage): the
worker stores smaller forms of it in turn, and when even the smallest is
refused it publishes the job as failed and acknowledges the entry; the entry
never stays pending, retried forever (worker/pipeline.h).

For each test ci_job_save is wrapped by a function that refuses the
documents the test picks, with the error PostgreSQL gives a document it
cannot take (SQLSTATE 22021, as for a character cut in two), then restored.

    /usr/bin/python3 -m pytest -q tests/e2e/test_persist_refused.py
"""

from __future__ import annotations

import contextlib

import pytest

from harness import GROUP_FAST, STREAM_FAST

JOB_TIMEOUT = 60
NOT_STORED = "the result could not be stored"


@contextlib.contextmanager
def refusing(harness, when_sql: str):
    """ci_job_save refuses every document for which when_sql (over doc) holds."""
    harness.psql("ALTER FUNCTION ci_job_save(jsonb) RENAME TO ci_job_save_e2e_real")
    try:
        harness.psql(f"""CREATE FUNCTION ci_job_save(doc jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    IF {when_sql} THEN
        RAISE EXCEPTION 'refused by the e2e test' USING ERRCODE = '22021';
    END IF;
    RETURN ci_job_save_e2e_real(doc);
END;
$$""")
        yield
    finally:
        harness.psql("DROP FUNCTION IF EXISTS ci_job_save(jsonb)")
        harness.psql("ALTER FUNCTION ci_job_save_e2e_real(jsonb) RENAME TO ci_job_save")


@pytest.fixture
def worker(harness, gateway, clean_state):
    # Short backoff: each form is refused three times before the next, the
    # minimal one eight.
    return harness.start_worker("fast", {"CODEINSIGHT_READ_BLOCK_MS": "200",
                                         "CODEINSIGHT_RETRY_MAX_MS": "800"})


def review_refused(harness, where: str, file_path: str) -> tuple[str, dict]:
    """Submits a review while ci_job_save refuses the documents matching
    where; returns the job id and its last state, once its entry is gone."""
    with refusing(harness, where):
        job_id = harness.submit(file_path=file_path, file_content="import os\n")
        job = harness.poll_job(job_id, timeout=JOB_TIMEOUT)
        harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)
    assert job["status"] == "failed" and job["error"] == NOT_STORED, job
    return job_id, job


def test_failed_form_refused_too_then_minimal_form_stored(harness, worker):
    # The full and the failed form both carry file_path; the minimal one does
    # not. Before, a refused failed form was retried forever.
    job_id, job = review_refused(harness, "doc->>'file_path' = 'refused/app.py'", "refused/app.py")
    assert job["findings"] == [] and job["notes"] == [] and job["linters"] == [], job
    rows = harness.psql_rows("SELECT status, error, file_path IS NULL, notes::text, "
                             f"linters::text FROM jobs WHERE job_id = '{job_id}'")
    assert rows == [["failed", NOT_STORED, "t", "[]", "[]"]], rows
    rejected = worker.events("job_persist_rejected", job_id=job_id)
    assert [r["stored"] for r in rejected] == ["failed", "minimal"], rejected
    assert all("refused by the e2e test" in r["detail"] for r in rejected), rejected
    assert worker.events("job_persist_abandoned") == []


def test_every_form_refused_entry_acknowledged(harness, worker):
    job_id, _ = review_refused(harness, "true", "app.py")
    assert harness.psql_int(f"SELECT count(*) FROM jobs WHERE job_id = '{job_id}'") == 0
    rejected = worker.events("job_persist_rejected", job_id=job_id)
    assert [r["stored"] for r in rejected] == ["failed", "minimal"], rejected
    abandoned = worker.events("job_persist_abandoned", job_id=job_id)
    assert len(abandoned) == 1 and abandoned[0]["stored"] == "none", abandoned
    retries = worker.events("job_step_retry", job_id=job_id)
    assert len(retries) == 2 + 2 + 7, retries
    assert worker.events("job_done", job_id=job_id)[0]["status"] == "failed"
    # The worker goes on: the next job is stored as usual.
    job_id = harness.submit(file_path="app.py", file_content="import sys\n")
    assert harness.poll_job(job_id, timeout=JOB_TIMEOUT)["status"] == "done"
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)
    assert harness.psql(f"SELECT status FROM jobs WHERE job_id = '{job_id}'") == "done"
