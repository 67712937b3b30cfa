"""Tenant isolation (docs/admission.md, "Isolation"): another user's job is
404 job_not_found exactly like an unknown one, from the Redis hot copy and
from PostgreSQL alike; GET /jobs lists only the caller's jobs, newest first,
paginated with limit/next_cursor without duplicates or gaps, filtered by
status and type (however many newer jobs the filter skips); a bad limit or
cursor is 400 invalid_field_value. A shared result-cache hit
(CODEINSIGHT_RESULT_CACHE_SHARED=1) is a finished job of the caller's own,
a copy of the result with none of its owner's identifiers
(docs/admission.md, "Result cache")."""

import secrets

import pytest

from harness import (GROUP_FAST, STREAM_FAST, UUID7_RE, assert_job_shape, assert_problem,
                     wait_until)

TYPES = ["review", "debug", "review", "architecture", "review", "debug", "review"]
# What each heavy type needs besides a file.
TYPE_FIELDS = {"debug": {"error_log": "ZeroDivisionError: division by zero\n"},
               "architecture": {"user_request": "a job queue"}}


@pytest.fixture(scope="module", autouse=True)
def _gw(gateway):
    return gateway


def comparable(problem, job_id):
    """A 404 body without what legitimately differs (request id, the id)."""
    out = {k: v for k, v in problem.items() if k != "request_id"}
    out["detail"] = out["detail"].replace(job_id, "<id>")
    return out


def assert_looks_unknown(harness, job_id, auth):
    unknown = job_id[:24] + secrets.token_hex(6)       # same shape and time, another id
    r_other = harness.http("GET", f"/job/{job_id}", auth=auth)
    r_unknown = harness.http("GET", f"/job/{unknown}", auth=auth)
    b_other = assert_problem(r_other, 404, "job_not_found")
    b_unknown = assert_problem(r_unknown, 404, "job_not_found")
    assert comparable(b_other, job_id) == comparable(b_unknown, unknown), (b_other, b_unknown)
    assert set(r_other[1].get_all("Content-Type")) == set(r_unknown[1].get_all("Content-Type"))


def page_walk(harness, key, limit, query=""):
    """Every page of GET /jobs (bounded); returns the job ids in order."""
    ids, cursor, pages = [], None, 0
    for _ in range(50):
        q = f"/jobs?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        status, headers, body = harness.http("GET", q, auth=key)
        assert status == 200, (q, body)
        assert set(body) == {"jobs", "next_cursor"}, body
        assert len(body["jobs"]) <= limit, body
        pages += 1
        for j in body["jobs"]:
            assert_job_shape(j)
        ids += [j["job_id"] for j in body["jobs"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, pages
        assert UUID7_RE.match(cursor) and cursor == body["jobs"][-1]["job_id"], body
    raise AssertionError("GET /jobs pagination did not end within 50 pages")


@pytest.fixture(scope="module")
def tenants(harness, gateway):
    """Users A and B; A has 7 jobs (oldest first), B has 2."""
    _, a_id, a_key = harness.new_user(tag="tenant-a")
    _, b_id, b_key = harness.new_user(tag="tenant-b")
    a_jobs = [harness.submit(file_path=f"a/f{i}.py", file_content=f"a = {i}\n", request_type=t,
                             auth=a_key, **TYPE_FIELDS.get(t, {})) for i, t in enumerate(TYPES)]
    b_jobs = [harness.submit(file_path=f"b/f{i}.py", file_content=f"b = {i}\n", auth=b_key)
              for i in range(2)]
    return {"a_key": a_key, "b_key": b_key, "a_id": a_id, "b_id": b_id,
            "a_jobs": a_jobs, "b_jobs": b_jobs}


def test_others_job_is_not_found(harness, tenants):
    for jid in tenants["a_jobs"]:
        assert harness.get_job(jid, auth=tenants["a_key"])[0] == 200
        assert_looks_unknown(harness, jid, tenants["b_key"])
    for jid in tenants["b_jobs"]:
        assert_looks_unknown(harness, jid, tenants["a_key"])


def test_list_shows_own_jobs_newest_first(harness, tenants):
    status, _, body = harness.http("GET", "/jobs", auth=tenants["a_key"])
    assert status == 200, body
    ids = [j["job_id"] for j in body["jobs"]]
    assert ids == list(reversed(tenants["a_jobs"])), ids
    assert body["next_cursor"] is None
    assert all(j.get("user_id") in (None, tenants["a_id"]) for j in body["jobs"])
    status, _, body = harness.http("GET", "/jobs", auth=tenants["b_key"])
    assert [j["job_id"] for j in body["jobs"]] == list(reversed(tenants["b_jobs"]))
    _, _, nobody = harness.new_user(tag="tenant-empty")
    status, _, body = harness.http("GET", "/jobs", auth=nobody)
    assert status == 200 and body == {"jobs": [], "next_cursor": None}, body


def test_pagination_walks_every_job_once(harness, tenants):
    ids, pages = page_walk(harness, tenants["a_key"], 3)
    assert ids == list(reversed(tenants["a_jobs"])), ids
    assert pages == 3
    ids, pages = page_walk(harness, tenants["a_key"], 7)
    assert pages == 1 and len(ids) == 7
    ids, pages = page_walk(harness, tenants["a_key"], 1)
    assert pages == 7 and ids == list(reversed(tenants["a_jobs"]))


def test_filters(harness, tenants):
    a = tenants["a_key"]
    want = [j for j, t in zip(tenants["a_jobs"], TYPES) if t == "debug"]
    ids, _ = page_walk(harness, a, 1, "&type=debug")
    assert ids == list(reversed(want)), ids
    ids, _ = page_walk(harness, a, 2, "&type=review")
    assert ids == list(reversed([j for j, t in zip(tenants["a_jobs"], TYPES) if t == "review"]))
    ids, _ = page_walk(harness, a, 100, "&status=queued")
    assert len(ids) == 7
    ids, _ = page_walk(harness, a, 100, "&status=done")
    assert ids == []
    ids, _ = page_walk(harness, a, 100, "&status=queued&type=architecture")
    assert ids == [tenants["a_jobs"][3]]


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=-1", "limit"), ("limit=abc", "limit"),
    ("limit=", "limit"), ("limit=1.5", "limit"), ("cursor=xyz", "cursor"), ("cursor=", "cursor"),
    ("cursor=0190a8d4-5b6c-7def-8123", "cursor"), ("status=bogus", "status"), ("type=lint", "type"),
])
def test_bad_query(harness, tenants, query, field):
    resp = harness.http("GET", f"/jobs?{query}", auth=tenants["a_key"])
    if field in ("limit", "cursor"):
        assert_problem(resp, 400, "invalid_field_value")
    else:   # the spec names no code for bad filters
        assert resp[0] == 400, resp


def test_boundary_limits(harness, tenants):
    for limit in (1, 100):
        status, _, body = harness.http("GET", f"/jobs?limit={limit}", auth=tenants["a_key"])
        assert status == 200 and len(body["jobs"]) == min(limit, 7), body


def test_isolation_holds_from_postgres(harness, tenants):
    """After a worker persisted the jobs and the hot copies are gone, the
    listing and the 404s come from PostgreSQL and still hold."""
    a, b = tenants["a_key"], tenants["b_key"]
    harness.start_worker("fast")
    reviews = [j for j, t in zip(tenants["a_jobs"], TYPES) if t == "review"]
    for jid in reviews + tenants["b_jobs"]:
        harness.poll_job(jid, auth=a if jid in reviews else b, timeout=60)
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST, timeout=20)
    harness.stop_workers()
    for jid in reviews + tenants["b_jobs"]:
        assert harness.redis_cli("DEL", f"job:{jid}") == "1"
    assert harness.psql_int("SELECT count(*) FROM jobs WHERE job_id IN (" +
                            ",".join(f"'{j}'" for j in reviews) + ")") == len(reviews)
    for jid in reviews:
        status, job = harness.get_job(jid, auth=a)
        assert status == 200 and job["status"] == "done", job
        assert_looks_unknown(harness, jid, b)
    for jid in tenants["b_jobs"]:
        assert_looks_unknown(harness, jid, a)
    # The listing merges PostgreSQL (A's done reviews) and Redis (A's queued
    # heavy jobs, never persisted).
    ids, _ = page_walk(harness, a, 2)
    assert ids == list(reversed(tenants["a_jobs"])), ids
    ids, _ = page_walk(harness, a, 2, "&status=done")
    assert ids == list(reversed(reviews)), ids
    ids, _ = page_walk(harness, a, 2, "&status=queued")
    assert ids == [j for j in reversed(tenants["a_jobs"]) if j not in reviews], ids
    ids, _ = page_walk(harness, b, 1)
    assert ids == list(reversed(tenants["b_jobs"])), ids


def test_mixed_sources_paginate_without_gaps(harness, gateway):
    """Jobs only in Redis (queued) and jobs only in PostgreSQL (hot copy
    gone) interleave in one newest-first listing."""
    _, c_id, c = harness.new_user(tag="tenant-c")
    ids = []
    worker = harness.start_worker("fast")
    for i in range(6):
        rt = "review" if i % 2 == 0 else "debug"   # debug: heavy pool, stays queued
        jid = harness.submit(file_path=f"c/f{i}.py", file_content=f"c = {i}\n", request_type=rt,
                             auth=c, **TYPE_FIELDS.get(rt, {}))
        ids.append((jid, rt))
        if rt == "review":
            harness.poll_job(jid, auth=c, timeout=60)
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST, timeout=20)
    worker.stop()
    for jid, rt in ids:
        if rt == "review":
            assert harness.redis_cli("DEL", f"job:{jid}") == "1"
    got, pages = page_walk(harness, c, 2)
    assert got == [j for j, _ in reversed(ids)], got
    assert pages == 3


JOBS_RECENT_SCAN = 200      # gateway/jobs.c: ids of the Redis index read per batch
JOBS_SCAN_MAX = 1000        # gateway/jobs.c: ids one page reads at most


def filtered_walk(harness, key, query, max_pages=20):
    """Every page of a filtered GET /jobs, following next_cursor (bounded).
    Returns (job ids in order, pages). A page may hold fewer jobs than the
    limit, none even, with a next_cursor: the filter skipped what it read."""
    ids, cursor = [], None
    for pages in range(1, max_pages + 1):
        q = f"/jobs?{query}" + (f"&cursor={cursor}" if cursor else "")
        status, _, body = harness.http("GET", q, auth=key)
        assert status == 200, (q, body)
        assert set(body) == {"jobs", "next_cursor"}, body
        ids += [j["job_id"] for j in body["jobs"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, pages
        assert UUID7_RE.match(cursor), body
    raise AssertionError(f"GET /jobs?{query} did not end within {max_pages} pages")


def submit_reviews(harness, key, n, tag):
    for i in range(n):
        harness.submit(file_path=f"{tag}/r{i}.py", file_content=f"r = {i}\n", auth=key)


def test_filter_finds_a_queued_job_behind_many_newer(harness, gateway):
    """A queued debug job exists only in Redis; more than one batch of
    newer reviews (JOBS_RECENT_SCAN) in the caller's index must not hide it
    from ?type=debug (before: the page read the 200 newest ids, found no
    debug job among them and said next_cursor null)."""
    _, _, key = harness.new_user("business", tag="scan-deep")
    debug = harness.submit(file_path="d/x.py", file_content="x = 1 / 0\n", request_type="debug",
                           auth=key, **TYPE_FIELDS["debug"])
    submit_reviews(harness, key, JOBS_RECENT_SCAN + 20, "deep")
    status, _, body = harness.http("GET", "/jobs?type=debug&limit=5", auth=key)
    assert status == 200, body
    assert [j["job_id"] for j in body["jobs"]] == [debug], body
    assert body["next_cursor"] is None, body
    ids, _ = filtered_walk(harness, key, "status=queued&type=debug&limit=1")
    assert ids == [debug], ids


def test_filter_past_the_scan_cap_continues_with_a_cursor(harness, gateway):
    """Past JOBS_SCAN_MAX ids a page stops reading and its next_cursor
    continues after the last id read (not null), so following it finds the
    job; jobs newer than that id are never skipped."""
    _, _, key = harness.new_user("business", tag="scan-cap")
    debug = harness.submit(file_path="d/y.py", file_content="y = 1 / 0\n", request_type="debug",
                           auth=key, **TYPE_FIELDS["debug"])
    submit_reviews(harness, key, JOBS_SCAN_MAX + 20, "cap")
    newest = harness.submit(file_path="d/z.py", file_content="z = 1 / 0\n",
                            request_type="debug", auth=key, **TYPE_FIELDS["debug"])
    status, _, body = harness.http("GET", "/jobs?type=debug&limit=5", auth=key)
    assert status == 200, body
    assert [j["job_id"] for j in body["jobs"]] == [newest], body
    assert body["next_cursor"] is not None, body
    ids, pages = filtered_walk(harness, key, "type=debug&limit=5")
    assert ids == [newest, debug], ids
    assert pages == 2, pages


# What a shared hit's copy takes from the owner's job: the result, nothing
# of the owner's ids, times, attempts, budget state or bill.
RESULT_MEMBERS = ("type", "status", "file_path", "language", "findings", "file_sha256",
                  "summary", "notes", "linters", "error", "degraded", "degraded_reason",
                  "provider", "model", "cached", "reviewed_ranges", "skipped_ranges")


def shared_hit_setup(harness):
    """A gateway with a shared result cache, users A and B, and A's finished
    review of a file: (gateway, the submission, (A's user id, key, job),
    (B's user id, key)). A worker is left running."""
    gw = harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                "CODEINSIGHT_RESULT_CACHE_SHARED": "1"})
    _, user_a, key_a = harness.new_user("pro", tag="tenant-a")
    _, user_b, key_b = harness.new_user("pro", tag="tenant-b")
    harness.start_worker("fast", {"CODEINSIGHT_READ_BLOCK_MS": "200"})  # offline: cached too
    src = f"package svc\n\n// {secrets.token_hex(8)}\nfunc V(xs []int) int {{ return xs[0] }}\n"
    body = {"file_path": "svc/value.go", "file_content": src, "request_type": "review"}
    jid = harness.submit(**body, repo_id="acme/secret-merger", gateway=gw, auth=key_a)
    a = harness.poll_job(jid, gateway=gw, auth=key_a)
    assert a["status"] == "done" and a["repo_id"] == "acme/secret-merger", a
    wait_until(lambda: harness.redis_cli("--scan", "--pattern", "rcache:shared:*"), 10, 0.05,
               desc="a shared rcache: entry")
    return gw, body, (user_a, key_a, a), (user_b, key_b)


def test_shared_cache_hit_is_a_job_of_the_callers_own(harness, clean_state):
    """With CODEINSIGHT_RESULT_CACHE_SHARED=1 B's identical submission is
    answered from A's finished job with a job of B's own: a copy of the
    result under a new id, which B reads, exports and lists (before: A's
    job_id, which answered B 404, with no Content-Location). repo_id,
    request_id and user_id are not part of the result key: the copy
    carries B's (repo_id as B sent it, null here), its own times and no
    attempts, pool, worker or usage. B's next hit, and a replay of B's
    Idempotency-Key, answer the same copy; B is charged nothing; A's own
    hit is A's whole job, and A's job stays A's alone."""
    gw, body, (user_a, key_a, a), (user_b, key_b) = shared_hit_setup(harness)
    usage_before = harness.http("GET", "/usage", gateway=gw, auth=key_b)[2]

    status, hdrs, hit = harness.http("POST", "/review", body, gateway=gw, auth=key_b,
                                     headers={"Idempotency-Key": "b-first"})
    assert (status, hdrs.get("X-Cache")) == (200, "hit"), (status, hdrs, hit)
    copy = hit["job_id"]
    assert UUID7_RE.match(copy) and copy != a["job_id"], hit
    assert copy > a["job_id"], "the copy's id is of its own time"
    assert hdrs.get("Content-Location") == f"/job/{copy}", hdrs
    assert (hit["user_id"], hit["request_id"], hit["repo_id"]) == \
        (user_b, hdrs.get("X-Request-Id"), None), hit
    assert {k: hit.get(k) for k in RESULT_MEMBERS} == {k: a.get(k) for k in RESULT_MEMBERS}
    assert (hit["attempts"], hit["pool"], hit["worker"], hit["usage"], hit["throttled"]) == \
        (0, None, None, None, False), hit
    assert hit["created_at"] > a["finished_at"], (hit, a)

    # B's own job: readable, exportable, listed; A's stays A's alone.
    status, _, got = harness.http("GET", f"/job/{copy}", gateway=gw, auth=key_b)
    assert status == 200 and got == hit, (status, got, hit)
    status, _, sarif = harness.http("GET", f"/job/{copy}?format=sarif", gateway=gw, auth=key_b)
    assert status == 200 and sarif["version"] == "2.1.0", sarif
    listed = harness.http("GET", "/jobs", gateway=gw, auth=key_b)[2]["jobs"]
    assert [j["job_id"] for j in listed] == [copy], listed
    assert copy not in [j["job_id"] for j in harness.http("GET", "/jobs", gateway=gw,
                                                          auth=key_a)[2]["jobs"]]
    assert_problem(harness.http("GET", f"/job/{a['job_id']}", gateway=gw, auth=key_b), 404,
                   "job_not_found")
    assert_problem(harness.http("GET", f"/job/{copy}", gateway=gw, auth=key_a), 404,
                   "job_not_found")

    # One copy per caller and source, and nothing charged.
    for headers in ({"Idempotency-Key": "b-first"}, {}):
        status, hdrs, again = harness.http("POST", "/review", body, gateway=gw, auth=key_b,
                                           headers=headers)
        assert (status, hdrs.get("X-Cache"), again["job_id"]) == (200, "hit", copy), again
    assert harness.http("GET", "/usage", gateway=gw, auth=key_b)[2] == usage_before
    assert len(harness.http("GET", "/jobs", gateway=gw, auth=key_b)[2]["jobs"]) == 1

    status, hdrs, own = harness.http("POST", "/review", dict(body, repo_id="x/y"), gateway=gw,
                                     auth=key_a)
    assert (status, hdrs.get("X-Cache")) == (200, "hit"), (status, hdrs, own)
    assert (own["job_id"], own["user_id"], own["repo_id"], own["request_id"]) == \
        (a["job_id"], user_a, "acme/secret-merger", a["request_id"]), own
    assert hdrs.get("Content-Location") == f"/job/{a['job_id']}", hdrs
    harness.stop_workers()


def test_shared_hit_of_a_job_postgresql_lost_is_a_new_job(harness, clean_state):
    """The entry's job is still done in Redis but not in PostgreSQL (its
    row lost, or never persisted): no copy can be made, so B's submission
    is admitted as a miss, a job of B's own that runs, not an error."""
    gw, body, (_, _, a), (user_b, key_b) = shared_hit_setup(harness)
    harness.psql(f"DELETE FROM jobs WHERE job_id = '{a['job_id']}'")
    status, hdrs, queued = harness.http("POST", "/review", body, gateway=gw, auth=key_b)
    assert status == 202 and hdrs.get("X-Cache") != "hit", (status, hdrs, queued)
    b = harness.poll_job(queued["job_id"], gateway=gw, auth=key_b)
    assert (b["status"], b["user_id"], b["attempts"]) == ("done", user_b, 1), b
    harness.stop_workers()
