"""POST /apply-fix and GET /audit end to end (docs/apply-fix.md): a job's
finding ids on every read path, the reviewed file's hash, applying a fix
with approval (the patched text and its hash back), the refusals (400
approval_required, 404 job/finding, 409 job_not_done and base_mismatch, 422
fix_not_available and patch_does_not_apply) and the audit trail, in
PostgreSQL and over HTTP, visible to its owner only.

The fake model vendor (tests/fake_llm/fake_llm.py) answers the findings;
each test starts its own worker, so a job submitted without one stays
queued.

    bash tests/run-e2e.sh tests/e2e/test_apply_fix.py
"""

from __future__ import annotations

import difflib
import hashlib
import json
import secrets

import pytest

from fakemodel import anthropic_env, answer, module_fake, user_text
from harness import UUID7_RE, wait_until

ANTHROPIC_KEY = "sk-ant-e2e-fix-" + secrets.token_urlsafe(24)
JOB_TIMEOUT = 60


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def unified(path: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


@pytest.fixture(scope="module")
def fake_server(harness, _module_isolation):
    with module_fake(harness, "fake-llm-fix", [ANTHROPIC_KEY]) as f:
        yield f


@pytest.fixture(scope="module")
def fgw(harness, fake_server):
    return harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                  **anthropic_env(fake_server)}, default=True)


def worker_env(fake) -> dict:
    return {**anthropic_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "CODEINSIGHT_LLM_TIMEOUT_MS": "10000", "CODEINSIGHT_BREAKER_THRESHOLD": "1000",
            "CODEINSIGHT_READ_BLOCK_MS": "200"}


@pytest.fixture
def fast(harness, fgw, fake, clean_state):
    return harness.start_worker("fast", worker_env(fake))


@pytest.fixture
def heavy(harness, fgw, fake, clean_state):
    return harness.start_worker("heavy", worker_env(fake))


SRC = ('"""Totals (%s)."""\n'
       "\n"
       "\n"
       "def total(values):\n"
       '    """Sum the values."""\n'
       "    result = 0\n"
       "    for value in values[1:]:\n"
       "        result += value\n"
       "    return result\n")


def reviewed(harness, fake, **kw) -> tuple[dict, str, str, str]:
    """A done review whose model finding on line 7 carries a fix, next to one
    without: (job, source, fixed source, the fix's finding id). kw: gateway=,
    auth= for the submission and the polls."""
    m = "fix" + secrets.token_hex(8)
    src = SRC % m
    fixed = src.replace("values[1:]", "values")
    findings = [
        {"line": 7, "end_line": 8, "severity": "major", "category": "correctness",
         "message": "The loop skips the first value.", "fix": unified("app.py", src, fixed),
         "confidence": 0.9},
        {"line": 9, "severity": "minor", "category": "documentation",
         "message": "Say what an empty list gives.", "confidence": 0.5},
    ]
    fake.script([{"match": m, "text": answer(findings, "An off-by-one.")}])
    job_id = harness.submit(file_path="app.py", file_content=src, **kw)
    job = harness.poll_job(job_id, timeout=JOB_TIMEOUT, **kw)
    assert job["status"] == "done", job
    with_fix = [f for f in job["findings"] if f.get("source") == "model" and "fix" in f]
    assert len(with_fix) == 1, job["findings"]
    return job, src, fixed, with_fix[0]["id"]


def apply_fix(harness, job_id, finding_id, base, approve=True, auth=None, headers=None,
              **extra):
    """POST /apply-fix; approve=None leaves it out, extra members are added."""
    body = {"job_id": job_id, "finding_id": finding_id, "base_sha256": base, **extra}
    if approve is not None:
        body["approve"] = approve
    kw = {} if auth is None else {"auth": auth}
    return harness.http("POST", "/apply-fix", body, headers, **kw)


def audit_rows(harness, job_id) -> list[dict]:
    out = harness.psql(
        "SELECT COALESCE(json_agg(row_to_json(a) ORDER BY a.audit_id), '[]') FROM fix_audit a "
        f"WHERE job_id = '{job_id}'")
    return json.loads(out)


def assert_problem(status, data, want_status, code, field=None):
    assert status == want_status, (status, data)
    assert data["code"] == code, data
    assert data["status"] == want_status, data
    if field is not None:
        assert data.get("field") == field, data


# ------------------------------------------------------------ finding ids --

def test_finding_ids_and_file_hash_on_every_read_path(harness, fast, fake):
    job, src, _, _ = reviewed(harness, fake)
    ids = [f["id"] for f in job["findings"]]
    assert ids == [f"f{i}" for i in range(1, len(ids) + 1)], ids
    assert job["file_sha256"] == sha(src)

    # An identical submission is answered from the result cache, ids included.
    status, hdrs, hit = harness.http("POST", "/review", {"request_type": "review",
                                                         "file_path": "app.py",
                                                         "file_content": src})
    assert status == 200 and hdrs.get("X-Cache") == "hit", (status, hit)
    assert hit["findings"] == job["findings"]

    # The record of truth gives the same ids to the same findings.
    harness.redis_cli("DEL", f"job:{job['job_id']}")
    status, pg = harness.get_job(job["job_id"])
    assert status == 200, pg
    assert pg["findings"] == job["findings"]
    assert pg["file_sha256"] == sha(src)


# ----------------------------------------------------------------- success --

def test_apply_returns_patched_file_and_audits_it(harness, fast, fake):
    job, src, fixed, fid = reviewed(harness, fake)
    status, hdrs, data = apply_fix(harness, job["job_id"], fid, sha(src),
                                   headers={"X-Request-Id": "e2e-apply-1"})
    assert status == 200, data
    assert data["content"] == fixed
    assert data["sha256"] == sha(fixed)
    assert data["base_sha256"] == sha(src)
    assert (data["job_id"], data["finding_id"], data["file_path"]) == \
        (job["job_id"], fid, "app.py")
    assert UUID7_RE.match(data["audit_id"]), data
    assert data["applied_at"].endswith("Z"), data

    rows = audit_rows(harness, job["job_id"])
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["audit_id"] == data["audit_id"]
    assert row["user_id"] == harness.default_user_id
    assert row["key_id"] == harness.key_ids.get(harness.default_key), row
    assert (row["finding_id"], row["file_path"], row["outcome"]) == (fid, "app.py", "applied")
    assert row["base_sha256"] == row["before_sha256"] == sha(src)
    assert row["after_sha256"] == sha(fixed)
    assert row["client_addr"] == "127.0.0.1"
    assert row["request_id"] == "e2e-apply-1" == hdrs.get("X-Request-Id")

    status, _, page = harness.http("GET", "/audit")
    assert status == 200, page
    assert page["entries"][0]["audit_id"] == data["audit_id"]
    entry = page["entries"][0]
    assert entry["outcome"] == "applied" and entry["after_sha256"] == sha(fixed)
    assert entry["job_id"] == job["job_id"] and entry["finding_id"] == fid
    assert entry["created_at"] == data["applied_at"]

    # Applying again is allowed (the service writes nothing) and audited again.
    status, _, again = apply_fix(harness, job["job_id"], fid, sha(src))
    assert status == 200 and again["content"] == fixed
    assert len(audit_rows(harness, job["job_id"])) == 2


def test_a_shared_hit_is_the_callers_to_fix(harness, fast, fake, fake_server):
    """With a shared result cache, B's identical submission is answered
    with B's own copy of A's job (docs/admission.md, "Result cache"): the
    findings with their ids and fixes, and the file kept for fixes, come
    along, so B applies the fix, audited as B's; A's job stays A's."""
    shared = harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                    "CODEINSIGHT_RESULT_CACHE_SHARED": "1",
                                    **anthropic_env(fake_server)})
    _, _, key_a = harness.new_user("pro", tag="fix-a")
    _, user_b, key_b = harness.new_user("pro", tag="fix-b")
    job, src, fixed, fid = reviewed(harness, fake, gateway=shared, auth=key_a)
    wait_until(lambda: harness.redis_cli("--scan", "--pattern", "rcache:shared:*"), 10, 0.05,
               desc="a shared rcache: entry")
    status, hdrs, hit = harness.http("POST", "/review", {"request_type": "review",
                                                         "file_path": "app.py",
                                                         "file_content": src},
                                     gateway=shared, auth=key_b)
    assert (status, hdrs.get("X-Cache")) == (200, "hit"), (status, hit)
    assert hit["job_id"] != job["job_id"] and hit["user_id"] == user_b, hit
    assert hit["findings"] == job["findings"], hit

    status, _, data = apply_fix(harness, hit["job_id"], fid, sha(src), auth=key_b)
    assert status == 200 and data["content"] == fixed, data
    [row] = audit_rows(harness, hit["job_id"])
    assert (row["user_id"], row["outcome"]) == (user_b, "applied"), row
    status, _, data = apply_fix(harness, job["job_id"], fid, sha(src), auth=key_b)
    assert_problem(status, data, 404, "job_not_found")


# ---------------------------------------------------------------- refusals --

def test_base_mismatch_is_409_and_audited(harness, fast, fake):
    job, src, _, fid = reviewed(harness, fake)
    edited = src + "# edited since the review\n"
    status, _, data = apply_fix(harness, job["job_id"], fid, sha(edited))
    assert_problem(status, data, 409, "base_mismatch", "base_sha256")
    assert data["expected_sha256"] == sha(src)
    assert "content" not in data
    rows = audit_rows(harness, job["job_id"])
    assert [(r["outcome"], r["base_sha256"], r["before_sha256"], r["after_sha256"])
            for r in rows] == [("base_mismatch", sha(edited), sha(src), None)]
    assert rows[0]["audit_id"] == data["audit_id"]


def test_approval_required(harness, fast, fake):
    job, src, _, fid = reviewed(harness, fake)
    for approve in (None, False, "true", 1):
        status, _, data = apply_fix(harness, job["job_id"], fid, sha(src), approve=approve)
        assert_problem(status, data, 400, "approval_required", "approve")
    status, _, data = apply_fix(harness, job["job_id"], fid, sha(src), aprove=True)
    assert_problem(status, data, 400, "unknown_field", "aprove")
    status, _, data = apply_fix(harness, job["job_id"], fid, sha(src).upper())
    assert_problem(status, data, 400, "invalid_field_value", "base_sha256")
    # Nothing was applied, so nothing was recorded.
    assert audit_rows(harness, job["job_id"]) == []


def test_not_found_and_no_fix(harness, fast, fake):
    job, src, _, fid = reviewed(harness, fake)
    _, _, other_key = harness.new_user(tag="fix-other")
    status, _, data = apply_fix(harness, job["job_id"], fid, sha(src), auth=other_key)
    assert_problem(status, data, 404, "job_not_found", "job_id")
    status, _, data = apply_fix(harness, "0193c0de-5b1f-7cc2-9a4e-1f2d3c4b5a69", fid, sha(src))
    assert_problem(status, data, 404, "job_not_found", "job_id")

    last = len(job["findings"])
    status, _, data = apply_fix(harness, job["job_id"], f"f{last + 1}", sha(src))
    assert_problem(status, data, 404, "finding_not_found", "finding_id")
    # "fix" names a debug job's own fix: a review has none.
    status, _, data = apply_fix(harness, job["job_id"], "fix", sha(src))
    assert_problem(status, data, 404, "finding_not_found", "finding_id")

    no_fix = [f["id"] for f in job["findings"] if "fix" not in f]
    assert no_fix, job["findings"]
    status, _, data = apply_fix(harness, job["job_id"], no_fix[0], sha(src))
    assert_problem(status, data, 422, "fix_not_available", "finding_id")
    assert audit_rows(harness, job["job_id"]) == []


def test_job_not_done_is_409(harness, fgw, clean_state):
    # No worker runs: the job stays queued.
    src = SRC % secrets.token_hex(4)
    job_id = harness.submit(file_path="app.py", file_content=src)
    status, _, data = apply_fix(harness, job_id, "f1", sha(src))
    assert_problem(status, data, 409, "job_not_done", "job_id")
    assert "queued" in data["detail"]
    assert audit_rows(harness, job_id) == []


# A debug job's own fix is kept as the model wrote it when there is no run
# to verify it with. The model saw the file with its secret redacted; a fix
# written against that text has a line the submitted file does not have.
DEBUG_SRC = ('"""Client (%s)."""\n'
             'TOKEN = "%s"\n'
             "\n"
             "\n"
             "def auth():\n"
             '    return {"Authorization": "token " + TOKEN}\n')


def test_patch_does_not_apply_is_422_and_audited(harness, heavy, fake):
    m = "fix" + secrets.token_hex(8)
    token = "ghp_" + secrets.token_hex(18)
    harness.remember(token)
    src = DEBUG_SRC % (m, token)
    seen_line = 'TOKEN = "[REDACTED:github_token]"'
    fix = ("--- a/client.py\n+++ b/client.py\n@@ -2 +2 @@\n"
           f"-{seen_line}\n+TOKEN = os.environ[\"GH_TOKEN\"]\n")
    fake.script([{"match": m, "times": 3, "text": json.dumps({
        "root_cause": "The token is hard-coded.", "explanation": "Read it from the environment.",
        "fix": fix, "verification_steps": ["set GH_TOKEN"], "confidence": 0.8})}])
    job_id = harness.submit(file_path="client.py", file_content=src, request_type="debug",
                            error_log="RuntimeError: 401 Unauthorized")
    job = harness.poll_job(job_id, timeout=JOB_TIMEOUT)
    assert job["status"] == "done", job
    assert job["fix"] == fix and job["verification"]["verified"] is False, job
    assert job["file_sha256"] == sha(src)
    # What the model saw is what its fix was written against.
    seen = [user_text(r["body"]) for r in fake.requests(m)]
    assert seen and all(seen_line in t and token not in t for t in seen)

    status, _, data = apply_fix(harness, job_id, "fix", sha(src))
    assert_problem(status, data, 422, "patch_does_not_apply")
    assert data["file_path"] == "client.py"
    rows = audit_rows(harness, job_id)
    assert [(r["finding_id"], r["outcome"], r["before_sha256"], r["after_sha256"])
            for r in rows] == [("fix", "patch_does_not_apply", sha(src), None)]
    assert rows[0]["audit_id"] == data["audit_id"]
    # The kept original never reaches a log.
    assert [str(f) for f in harness.log_files()
            if token in f.read_text(errors="replace")] == []


# ------------------------------------------------------------------- audit --

def test_audit_is_the_callers_own_and_paginated(harness, fast, fake):
    job, src, _, fid = reviewed(harness, fake)
    ids = []
    for base in (sha(src), sha("other"), sha(src)):
        status, _, data = apply_fix(harness, job["job_id"], fid, base)
        assert status in (200, 409), data
        ids.append(data["audit_id"])

    _, _, other_key = harness.new_user(tag="audit-other")
    status, _, page = harness.http("GET", "/audit", auth=other_key)
    assert status == 200 and page == {"entries": [], "next_cursor": None}, page

    seen, cursor = [], None
    for _ in range(5):
        q = "/audit?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, _, page = harness.http("GET", q)
        assert status == 200 and len(page["entries"]) <= 2, page
        seen += [e["audit_id"] for e in page["entries"] if e["job_id"] == job["job_id"]]
        cursor = page["next_cursor"]
        if cursor is None or len(seen) == len(ids):
            break
    assert seen == ids[::-1], (seen, ids)

    for q, field in (("/audit?limit=0", "limit"), ("/audit?limit=101", "limit"),
                     ("/audit?cursor=nope", "cursor"), ("/audit?limit", "limit"),
                     ("/audit?cursor", "cursor")):
        status, _, data = harness.http("GET", q)
        assert_problem(status, data, 400, "invalid_field_value", field)
