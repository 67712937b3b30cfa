"""Diff-aware review end to end (docs/pipeline.md "Reviewing a diff"):
POST /review with `diff` and `filter`; the model sees the hunk and a few
lines around it; findings outside the filter are dropped and counted, on
both read paths of GET /job (Redis hot copy and PostgreSQL); bad diffs and
filters are refused before anything is queued.

    bash tests/run-e2e.sh tests/e2e/test_diff_review.py -x
"""

from __future__ import annotations

import difflib
import secrets

import pytest

from fakemodel import module_fake, answer, anthropic_env, user_text
from harness import STREAM_FAST, assert_problem

ANTHROPIC_KEY = "sk-ant-e2e-diff-" + secrets.token_urlsafe(24)
JOB_TIMEOUT = 30
FAR_LINE = "// far away from the change: never in the prompt"


@pytest.fixture(scope="module")
def fake_server(harness, _module_isolation):
    with module_fake(harness, "fake-llm-diff", (ANTHROPIC_KEY,)) as f:
        yield f


@pytest.fixture(scope="module")
def dgw(harness, fake_server):
    return harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                  **anthropic_env(fake_server)}, default=True)


def start_worker(harness, fake):
    harness.start_worker("fast", {**anthropic_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
                                  "CODEINSIGHT_LLM_TIMEOUT_MS": "5000",
                                  "CODEINSIGHT_READ_BLOCK_MS": "200"})


def source(m: str) -> tuple[str, str]:
    """(old, new) of a 60-line Go file; the change replaces line 30 by two."""
    new = [FAR_LINE] + [f"var v{i} = {i} // {m}" if i == 2 else f"var v{i} = {i}"
                        for i in range(2, 61)]
    new[29] = "var v30 = compute(30)"
    new[30] = "var v31 = compute(31)"
    old = new[:29] + ["var v30 = 30"] + new[31:]
    return "\n".join(old) + "\n", "\n".join(new) + "\n"


def unified(path: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


# The model's findings: on an added line, on a context line, over context and
# beyond the hunk, from context into an added line, far from the change.
FINDINGS = [
    {"line": 30, "severity": "major", "category": "correctness", "message": "added"},
    {"line": 28, "severity": "minor", "category": "style", "message": "context"},
    {"line": 33, "end_line": 36, "severity": "minor", "category": "style",
     "message": "context and beyond"},
    {"line": 29, "end_line": 30, "severity": "minor", "category": "correctness",
     "message": "into the added line"},
    # Line 50 is outside what the model was shown (the hunk +- 5 lines): the
    # finding is dropped when the answer is validated, under every filter,
    # and is not counted in filtered_out.
    {"line": 50, "severity": "major", "category": "correctness", "message": "elsewhere"},
]
UNSEEN = ["elsewhere"]
KEPT = {
    "added": ["added", "into the added line"],
    "diff_context": ["added", "context", "context and beyond", "into the added line"],
    "file": [f["message"] for f in FINDINGS if f["message"] not in UNSEEN],
    "nofilter": [f["message"] for f in FINDINGS if f["message"] not in UNSEEN],
}


def kept(job) -> list[str]:
    return sorted(f["message"] for f in job["findings"] if f.get("source") == "model")


def test_filters_on_a_known_diff(harness, dgw, fake, clean_state):
    m = "e2e" + secrets.token_hex(8)
    path = f"diff/{m}.go"
    old, new = source(m)
    diff = unified(path, old, new)
    hunks = [h for h in diff.splitlines() if h.startswith("@@")]
    assert hunks == ["@@ -27,7 +27,8 @@"], hunks
    fake.script([{"match": m, "api": "anthropic", "times": 4,
                  "text": answer(FINDINGS, "Reviewed the change.")}])
    start_worker(harness, fake)

    jobs = {}
    for flt in ("added", "diff_context", "file", "nofilter"):
        job_id = harness.submit(file_path=path, file_content=new, diff=diff, filter=flt)
        job = harness.poll_job(job_id, timeout=JOB_TIMEOUT)
        assert job["status"] == "done", job
        jobs[flt] = job
        assert kept(job) == sorted(KEPT[flt]), (flt, job["findings"])
        assert job["filter"] == flt, job
        assert job["filtered_out"] == len(FINDINGS) - len(UNSEEN) - len(KEPT[flt]), (flt, job)
        assert job["changed_ranges"] == [[30, 31]], job
        assert job["diff_ranges"] == [[27, 34]], job
        # The model saw the hunk +- 5 lines, not the whole file.
        assert job["reviewed_ranges"] == [[22, 39]], job

    # The filter is part of the result-cache key: each filter above ran its
    # own job. Without a filter a diff filters by "added": the same request
    # as the first, answered from the result cache with that job.
    assert len({j["job_id"] for j in jobs.values()}) == 4, jobs
    status, _, job = harness.http("POST", "/review", {"request_type": "review",
                                                      "file_path": path, "file_content": new,
                                                      "diff": diff})
    assert status == 200, job
    assert job["job_id"] == jobs["added"]["job_id"] and job["filter"] == "added", job

    # The prompt holds the hunk and says it is a change, not a far-away line.
    reqs = fake.requests(m)
    assert reqs, "the model was never asked"
    user = user_text(reqs[0]["body"])
    assert "A change is under review" in user, user[:400]
    assert "<diff>" in user and "+var v31 = compute(31)" in user, user[:800]
    assert "-var v30 = 30" in user, user[:800]
    assert "31\tvar v31 = compute(31)" in user, user[-800:]
    assert FAR_LINE not in user, "a line far from the change reached the prompt"
    assert "var v50 = 50" not in user, "a line far from the change reached the prompt"

    # The PostgreSQL copy answers the same once the hot copy is gone.
    for flt in ("added", "diff_context"):
        job = jobs[flt]
        assert harness.redis_int("DEL", f"job:{job['job_id']}") == 1
        status, cold = harness.get_job(job["job_id"])
        assert status == 200, cold
        for k in ("filter", "filtered_out", "changed_ranges", "diff_ranges", "reviewed_ranges"):
            assert cold.get(k) == job[k], (flt, k, cold.get(k), job[k])
        assert kept(cold) == kept(job), (flt, cold["findings"])


KEY_BODY = ["MIIEpAIBAAKCAQEAq3Zk9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7",
            "Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np4Rs7Tv1Wy3Ab6Cd0Ef5Gh8Jk2Xq9Lm2Np="]


def test_key_added_by_the_diff_is_redacted_and_its_hunk_shown(harness, dgw, fake, clean_state):
    """A key the change adds sits on '+' lines of the diff; redacted, each
    line keeps its '+', so the diff still parses: the model sees the hunk
    (with the key's lines as placeholders), not the whole file."""
    m = "e2e" + secrets.token_hex(8)
    path = f"diff/{m}.go"
    old, _ = source(m)
    lines = old.splitlines()
    key = (["var key = `-----BEGIN RSA PRIVATE KEY-----"] + KEY_BODY
           + ["-----END RSA PRIVATE KEY-----`"])
    new = "\n".join(lines[:29] + key + lines[29:]) + "\n"
    diff = unified(path, old, new)
    hunks = [h for h in diff.splitlines() if h.startswith("@@")]
    assert hunks == ["@@ -27,6 +27,10 @@"], hunks
    fake.script([{"match": m, "api": "anthropic", "text": answer([], "Reviewed the key.")}])
    start_worker(harness, fake)

    job = harness.poll_job(harness.submit(file_path=path, file_content=new, diff=diff),
                           timeout=JOB_TIMEOUT)
    assert job["status"] == "done", job
    # The hunk (new lines 27-36) +- 5 lines, not the whole 63-line file.
    assert job["reviewed_ranges"] == [[22, 41]], job
    user = user_text(fake.requests(m)[0]["body"])
    assert "A change is under review" in user, user[:400]
    assert ("+var key = `[REDACTED:private_key]\n" + "+[REDACTED:private_key]\n" * 2
            + "+[REDACTED:private_key]`\n var v30 = 30\n") in user, user[:1600]
    for piece in KEY_BODY + ["BEGIN RSA", "END RSA"]:
        assert piece[:16] not in user, piece
    assert FAR_LINE not in user, "a line far from the change reached the prompt"


def test_without_diff_no_filter_members(harness, dgw, fake, clean_state):
    m = "e2e" + secrets.token_hex(8)
    _, new = source(m)
    fake.script([{"match": m, "api": "anthropic", "text": answer(FINDINGS, "Whole file.")}])
    start_worker(harness, fake)
    job = harness.poll_job(harness.submit(file_path=f"diff/{m}.go", file_content=new),
                           timeout=JOB_TIMEOUT)
    assert job["status"] == "done", job
    assert kept(job) == sorted(f["message"] for f in FINDINGS), job["findings"]
    for k in ("filter", "filtered_out", "changed_ranges", "diff_ranges"):
        assert k not in job, (k, job)


def test_crlf_diff_with_a_stripped_blank_context_line(harness, dgw, fake, clean_state):
    """An editor that strips trailing whitespace turns a CRLF diff's blank
    context line " \\r\\n" into "\\r\\n"; GNU patch and git read it as the
    blank context line it was, and so does the gateway (it refused the
    diff as invalid_diff before)."""
    m = "e2e" + secrets.token_hex(8)
    path = f"diff/{m}.go"
    old = [f"var v{i} = {i} // {m}" if i in (1, 2) else ("" if i % 4 == 0 else f"var v{i} = {i}")
           for i in range(1, 41)]
    new = list(old)
    new[21] = "var v22 = compute(22)"
    crlf_old, crlf_new = "\r\n".join(old) + "\r\n", "\r\n".join(new) + "\r\n"
    diff = "".join(difflib.unified_diff(crlf_old.splitlines(keepends=True),
                                        crlf_new.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}",
                                        lineterm="\r\n"))
    assert " \r\n" in diff, diff
    stripped = diff.replace("\n \r\n", "\n\r\n")
    fake.script([{"match": m, "api": "anthropic",
                  "text": answer([{"line": 22, "severity": "minor", "category": "style",
                                   "message": "added"}], "Reviewed the change.")}])
    start_worker(harness, fake)
    job = harness.poll_job(harness.submit(file_path=path, file_content=crlf_new, diff=stripped),
                           timeout=JOB_TIMEOUT)
    assert job["status"] == "done", job
    assert job["changed_ranges"] == [[22, 22]], job
    assert kept(job) == ["added"], job["findings"]


def test_refused_before_queueing(harness, dgw, clean_state):
    m = "e2e" + secrets.token_hex(8)
    path = f"diff/{m}.go"
    old, new = source(m)
    diff = unified(path, old, new)
    base = {"request_type": "review", "file_path": path, "file_content": new}
    cases = [
        # malformed: the hunk header promises more lines than follow
        ({"diff": diff.replace("@@ -27,7 +27,8 @@", "@@ -27,9 +27,10 @@")}, 422,
         "invalid_diff", "diff", "diff line 13: the diff ends inside the hunk at line 3"),
        ({"diff": "this is not a diff\n"}, 422, "invalid_diff", "diff",
         "no file header or hunk found"),
        # well formed, but its new side is not file_content
        ({"diff": diff, "file_content": new.replace("var v28 = 28", "var v28 = 0")}, 422,
         "diff_mismatch", "diff", "diff line 5 differs from file_content line 28"),
        ({"diff": unified("other.go", "a\n", "b\n") + unified("more.go", "c\n", "d\n")}, 422,
         "diff_mismatch", "diff", "none is for file_path"),
        ({"filter": "added"}, 400, "invalid_field_value", "filter", "needs a diff"),
        ({"diff": diff, "filter": "changed_lines"}, 400, "invalid_field_value", "filter",
         "added, diff_context, file or nofilter"),
        ({"diff": diff, "filter": 3}, 400, "invalid_field_type", "filter", "string"),
        ({"diff": "+" * (512 * 1024 + 1)}, 400, "field_too_long", "diff", "524288"),
    ]
    for extra, status, code, field, detail in cases:
        body = {**base, **extra}
        p = assert_problem(harness.http("POST", "/review", body), status, code, field=field)
        assert detail in p["detail"], (code, p["detail"])
    assert harness.redis_int("XLEN", STREAM_FAST) == 0, "a refused request was queued"
    # A debug request takes a diff as context but no filter.
    p = assert_problem(harness.http("POST", "/review", {**base, "request_type": "debug",
                                                        "error_log": "panic", "diff": diff,
                                                        "filter": "added"}),
                       400, "invalid_field_value", field="filter")
    assert "review requests only" in p["detail"], p
    assert harness.redis_int("XLEN", "review_jobs:heavy") == 0, "a refused request was queued"
