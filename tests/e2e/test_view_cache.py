"""The gateway's finished-job view cache (gateway/view_cache.c,
CODEINSIGHT_VIEW_CACHE_MB): a done job's view is rendered once and later
GET /job/:id polls are answered from memory, after the gate (identity and
bucket are still checked in Redis on every request); a job not finished is
never kept; someone else's job is still 404; the cache can be turned off.

The harness turns the cache off for every other module (their tests read
PostgreSQL's view after deleting a job's hot copy); these gateways turn it on.

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_view_cache.py
"""

from __future__ import annotations

import pytest

from harness import assert_problem, job_entry_of

SCALE = {"CODEINSIGHT_RATE_LIMIT_SCALE": "10000"}


@pytest.fixture(scope="module")
def cached_gw(harness, _module_isolation):
    return harness.start_gateway({**SCALE, "CODEINSIGHT_VIEW_CACHE_MB": "8"}, default=True)


def finished_job(harness) -> dict:
    jid = harness.submit(file_path="cache/app.go", file_content="package app\n")
    harness.start_worker("fast")
    job = harness.poll_job(jid, timeout=30)
    harness.stop_workers()
    assert job["status"] == "done", job
    return job


def forget_everywhere(harness, jid: str) -> None:
    """The job leaves Redis (its hash, or its stream entry while queued) and
    PostgreSQL: only a gateway's memory has it."""
    stream, eid = job_entry_of(jid)
    assert harness.redis_int("DEL", f"job:{jid}") + harness.redis_int("XDEL", stream, eid) == 1
    harness.psql(f"DELETE FROM jobs WHERE job_id = '{jid}'")


def test_finished_job_answered_from_memory(harness, cached_gw, clean_state):
    job = finished_job(harness)
    jid = job["job_id"]
    status, _, first = harness.http("GET", f"/job/{jid}")      # renders and keeps it
    assert status == 200 and first == job
    forget_everywhere(harness, jid)
    status, headers, again = harness.http("GET", f"/job/{jid}")
    assert status == 200, again
    assert again == job
    assert headers.get("RateLimit-Remaining") is not None, "the gate still ran"

    # The owner is checked: another user gets the same 404 as for no job.
    _, _, other = harness.new_user(plan="pro")
    assert_problem(harness.http("GET", f"/job/{jid}", auth=other), 404, "job_not_found")
    # No credentials: refused before the cache is looked at.
    assert_problem(harness.http("GET", f"/job/{jid}", auth=None), 401, "missing_credentials")


def test_unfinished_job_is_not_kept(harness, cached_gw, clean_state):
    jid = harness.submit(file_path="cache/queued.go", file_content="package q\n")
    status, _, view = harness.http("GET", f"/job/{jid}")
    assert status == 200 and view["status"] == "queued"
    forget_everywhere(harness, jid)
    assert_problem(harness.http("GET", f"/job/{jid}"), 404, "job_not_found")


def test_off_reads_every_time(harness, clean_state):
    gw = harness.start_gateway({**SCALE, "CODEINSIGHT_VIEW_CACHE_MB": "0"})
    job = finished_job(harness)
    jid = job["job_id"]
    assert harness.http("GET", f"/job/{jid}", gateway=gw)[0] == 200
    forget_everywhere(harness, jid)
    assert_problem(harness.http("GET", f"/job/{jid}", gateway=gw), 404, "job_not_found")


def test_a_cached_view_keeps_its_entity_tag(harness, cached_gw, clean_state):
    """The tag a poller got with the rendered view is the one the cached
    copy answers with: If-None-Match gets 304 from memory, with no body."""
    job = finished_job(harness)
    jid = job["job_id"]
    status, headers, _ = harness.http("GET", f"/job/{jid}")     # renders and keeps it
    tag = headers.get("ETag")
    assert status == 200 and tag, headers
    forget_everywhere(harness, jid)
    status, headers, body = harness.http("GET", f"/job/{jid}", headers={"If-None-Match": tag})
    assert (status, headers.get("ETag"), body) == (304, tag, ""), (status, headers, body)
    status, headers, again = harness.http("GET", f"/job/{jid}")
    assert (status, headers.get("ETag"), again) == (200, tag, job)
    # The owner is checked before the tag: another user's 404 stays a 404.
    _, _, other = harness.new_user(plan="pro")
    assert_problem(harness.http("GET", f"/job/{jid}", headers={"If-None-Match": tag},
                                auth=other), 404, "job_not_found")
