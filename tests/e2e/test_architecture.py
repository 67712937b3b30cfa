"""The architecture generator end to end (request_type "architecture", heavy
pool): the gateway checks the request (gateway/validate.c arch_check), a heavy
worker asks the (fake) model for a design and validates every section
(worker/task_answer.h arch_answer_parse), with one repair request for an
unusable answer; without a model the job fails ("needs a model"), never with a
made-up document. Answers are kept in the result and prompt caches for
CODEINSIGHT_CACHE_TTL_ARCHITECTURE (default 7 days). Free text is redacted
before it reaches the model.

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_architecture.py
"""

from __future__ import annotations

import json
import secrets
import string

import pytest

from fakemodel import anthropic_env, module_fake, FakeModel, request_text, user_text
from harness import GROUP_HEAVY, STREAM_HEAVY, assert_job_shape, assert_problem, wait_until

ANTHROPIC_KEY = "sk-ant-e2e-arch-" + secrets.token_urlsafe(24)
JOB_TIMEOUT = 30
ARCH_TTL = 604800            # CODEINSIGHT_CACHE_TTL_ARCHITECTURE's default
SECTIONS = ["summary", "diagram", "modules", "data_flow", "security", "scaling", "cost"]


# ------------------------------------------------------------------ fixtures --

@pytest.fixture(scope="module")
def fake_server(harness, _module_isolation):
    with module_fake(harness, "fake-llm-arch", [ANTHROPIC_KEY]) as f:
        yield f


provider_env = anthropic_env


@pytest.fixture(scope="module")
def agw(harness, fake_server):
    return harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                  **provider_env(fake_server)}, default=True)


def heavy_env(fake: FakeModel) -> dict:
    return {**provider_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "CODEINSIGHT_LLM_TIMEOUT_MS": "10000", "CODEINSIGHT_LLM_MAX_ATTEMPTS": "2",
            "CODEINSIGHT_BREAKER_THRESHOLD": "1000", "CODEINSIGHT_READ_BLOCK_MS": "200"}


@pytest.fixture
def heavy(harness, agw, fake_server, clean_state):
    """A heavy worker with the model, started after the state was cleaned."""
    return harness.start_worker("heavy", heavy_env(fake_server))


# ------------------------------------------------------------------- helpers --

def marker() -> str:
    return "arch" + secrets.token_hex(6)


def arch_body(m: str, **extra) -> dict:
    body = {"request_type": "architecture",
            "user_request": f"A URL shortener with click analytics ({m}).",
            "stack": "Go + React", "scale": "10k requests/s at peak", "db": "PostgreSQL",
            "file_tree": "cmd/api/main.go\ninternal/links/store.go\nweb/src/App.tsx"}
    body.update(extra)
    return body


def submit(harness, body: dict) -> str:
    status, hdrs, data = harness.http("POST", "/review", body)
    assert status == 202, (status, data)
    assert hdrs.get("Location") == f"/job/{data['job_id']}", hdrs
    return data["job_id"]


def run_arch(harness, body: dict, want: str = "done") -> dict:
    job = harness.poll_job(submit(harness, body), timeout=JOB_TIMEOUT)
    assert job["status"] == want, (job["error"], job.get("degraded_reason"), job)
    assert job["type"] == "architecture" and job["pool"] == "heavy", job
    assert_job_shape(job)
    return job


def pcache_keys(harness) -> list[str]:
    return [k for k in harness.redis_cli("--scan", "--pattern", "pcache:*").splitlines() if k]


def rcache_keys(harness) -> list[str]:
    return [k for k in harness.redis_cli("--scan", "--pattern", "rcache:*").splitlines() if k]


DIAGRAM_RAW = ("\n   \n"
               "  +---------+      +----------+      +------------+   \r\n"
               "  | web UI  | ---> | api (Go) | ---> | PostgreSQL |\t\r\n"
               "  +---------+      +----------+      +------------+\n"
               "                        |\n"
               "                        v\n"
               "                   [ click queue ]   \n\n\n")
DIAGRAM_CLEAN = ("  +---------+      +----------+      +------------+\n"
                 "  | web UI  | ---> | api (Go) | ---> | PostgreSQL |\n"
                 "  +---------+      +----------+      +------------+\n"
                 "                        |\n"
                 "                        v\n"
                 "                   [ click queue ]")


def raw_answer(m: str, drop: tuple[str, ...] = ()) -> dict:
    """A design as a model might write it: padded strings, empty entries,
    members nobody asked for; `drop` leaves sections out."""
    a = {
        "summary": f"  A Go API with a PostgreSQL store and an async click pipeline ({m}).  ",
        "diagram": DIAGRAM_RAW,
        "modules": [
            {"name": " api ", "responsibility": "Creates and resolves short links.",
             "owner": "team-a"},
            {"name": "clicks", "responsibility": "  Counts clicks off the request path. "},
            {"name": "web", "responsibility": "React UI for links and charts."},
        ],
        "data_flow": ["browser -> api: POST /links", "", "api -> queue: click events  "],
        "security": ["Rate-limit link creation per user.", "   "],
        "scaling": ["Cache hot links in Redis.", "Partition clicks by day."],
        "cost": ["One small PostgreSQL instance; Redis for the cache."],
        "confidence": 0.7,
        "notes": "ignored",
    }
    for k in drop:
        del a[k]
    return a


def normalised(m: str) -> dict:
    """raw_answer(m) after arch_answer_parse."""
    return {
        "summary": f"A Go API with a PostgreSQL store and an async click pipeline ({m}).",
        "diagram": DIAGRAM_CLEAN,
        "modules": [
            {"name": "api", "responsibility": "Creates and resolves short links."},
            {"name": "clicks", "responsibility": "Counts clicks off the request path."},
            {"name": "web", "responsibility": "React UI for links and charts."},
        ],
        "data_flow": ["browser -> api: POST /links", "api -> queue: click events"],
        "security": ["Rate-limit link creation per user."],
        "scaling": ["Cache hot links in Redis.", "Partition clicks by day."],
        "cost": ["One small PostgreSQL instance; Redis for the cache."],
    }


def fenced(obj: dict) -> str:
    """The answer inside one ```json fence (allowed; no prose around it)."""
    return "```json\n" + json.dumps(obj, indent=2) + "\n```\n"


# --------------------------------------------------------- 1. a valid design --

def test_valid_design_every_section(harness, heavy, fake, clean_state):
    m = marker()
    fake.script([{"match": m, "text": fenced(raw_answer(m)),
                  "usage": {"input_tokens": 1500, "output_tokens": 420}}])
    body = arch_body(m)
    job = run_arch(harness, body)

    arch = job["architecture"]
    assert arch == normalised(m), json.dumps(arch, indent=1)
    assert list(arch) == SECTIONS, "sections not in the documented order"
    assert [list(x) for x in arch["modules"]] == [["name", "responsibility"]] * 3
    assert len(arch["diagram"].splitlines()) == 6
    assert job["summary"] == normalised(m)["summary"], job["summary"]
    assert job["error"] is None and job["degraded"] is False and job["cached"] is False, job
    assert job["findings"] == [] and job["file_path"] is None, job
    u = job["usage"]
    assert (u["input_tokens"], u["output_tokens"]) == (1500, 420), u
    assert u["cost_usd"] == pytest.approx((1500 * 3 + 420 * 15) / 1e6, abs=1e-6), u
    assert job["provider"] == "anthropic"

    reqs = fake.requests(m)
    assert len(reqs) == 1, len(reqs)
    text = user_text(reqs[0]["body"])
    assert f"<request>\n{body['user_request']}\n</request>" in text, text
    assert "<stack>Go + React</stack>" in text
    assert "<scale>10k requests/s at peak</scale>" in text
    assert "<db>PostgreSQL</db>" in text
    assert f"<file_tree>\n{body['file_tree']}\n</file_tree>" in text, text
    # The role block describes the task: the answer is data, not instructions.
    assert "architecture" in request_text(reqs[0]["body"]).lower()

    # The same from PostgreSQL once the hot copy is gone.
    assert harness.redis_int("DEL", f"job:{job['job_id']}") == 1
    status, cold = harness.get_job(job["job_id"])
    assert status == 200 and cold["status"] == "done", cold
    assert cold["architecture"] == arch and cold["summary"] == job["summary"], cold
    assert cold["usage"]["input_tokens"] == 1500
    harness.wait_stream_drained(STREAM_HEAVY, GROUP_HEAVY)


def test_optional_fields_not_given(harness, heavy, fake, clean_state):
    """Only user_request: the prompt says "not given" and has no file tree."""
    m = marker()
    fake.script([{"match": m, "text": json.dumps(raw_answer(m))}])
    job = run_arch(harness, {"request_type": "architecture",
                             "user_request": f"A small blog ({m})."})
    assert job["architecture"] == normalised(m)
    text = user_text(fake.requests(m)[0]["body"])
    for tag in ("stack", "scale", "db"):
        assert f"<{tag}>not given</{tag}>" in text, text
    assert "<file_tree>" not in text, text


# ------------------------------------------------- 2. schema validation/repair --

def test_missing_section_repaired_once(harness, heavy, fake, clean_state):
    m = marker()
    fake.script([
        {"match": m, "text": json.dumps(raw_answer(m, drop=("cost",))),
         "usage": {"input_tokens": 1000, "output_tokens": 300}},
        {"match": m, "text": json.dumps(raw_answer(m)),
         "usage": {"input_tokens": 1400, "output_tokens": 310}},
    ])
    job = run_arch(harness, arch_body(m))
    assert job["architecture"] == normalised(m), job["architecture"]
    assert job["degraded"] is False, job

    reqs = fake.requests(m)
    assert len(reqs) == 2, f"want one repair request, got {len(reqs)} requests"
    first, second = user_text(reqs[0]["body"]), user_text(reqs[1]["body"])
    assert "Your previous reply could not be used" not in first
    assert second.startswith(first), "the repair request does not repeat the prompt"
    repair = second[len(first):]
    assert "Your previous reply could not be used" in repair, repair
    assert '"cost"' in repair, f"the repair note does not name the missing member: {repair}"
    # Both calls are counted.
    u = job["usage"]
    assert (u["input_tokens"], u["output_tokens"]) == (2400, 610), u


@pytest.mark.parametrize("bad,named", ids=["one-line-diagram", "module-without-name"], argvalues=[
    ({"diagram": "[web] -> [api] -> [db]"}, '"diagram"'),
    ({"modules": [{"name": "api", "responsibility": "x"}, {"responsibility": "y"}]},
     "modules[1].name"),
])
def test_invalid_section_named_in_repair(harness, heavy, fake, clean_state, bad, named):
    m = marker()
    first = {**raw_answer(m), **bad}
    fake.script([{"match": m, "text": json.dumps(first)},
                 {"match": m, "text": json.dumps(raw_answer(m))}])
    job = run_arch(harness, arch_body(m))
    assert job["architecture"] == normalised(m)
    reqs = fake.requests(m)
    assert len(reqs) == 2, len(reqs)
    repair = user_text(reqs[1]["body"])
    assert "Your previous reply could not be used" in repair and named in repair, repair


def test_invalid_twice_fails_without_a_made_up_design(harness, heavy, fake, clean_state):
    m = marker()
    fake.script([{"match": m, "text": json.dumps(raw_answer(m, drop=("cost",))), "times": 1},
                 {"match": m, "text": "I would use microservices.", "times": 1}])
    job = run_arch(harness, arch_body(m), want="failed")
    assert job["error"].startswith("needs a model"), job["error"]
    assert "invalid" in job["error"], job["error"]
    assert job.get("architecture") is None, job
    assert job["findings"] == [], job
    assert fake.count(m) == 2, "more than one repair attempt"
    assert pcache_keys(harness) == [], "an invalid answer was cached"
    harness.wait_stream_drained(STREAM_HEAVY, GROUP_HEAVY)
    assert rcache_keys(harness) == [], "a failed job was result-cached"


# ------------------------------------------------------------- 3. no model --

def test_offline_worker_fails_the_job(harness, agw, fake, clean_state):
    harness.start_worker("heavy", {"CODEINSIGHT_LLM_PROVIDER": "offline",
                                   "CODEINSIGHT_READ_BLOCK_MS": "200"})
    m = marker()
    job = run_arch(harness, arch_body(m), want="failed")
    assert job["error"].startswith("needs a model"), job["error"]
    assert "offline" in job["error"], job["error"]
    assert job.get("architecture") is None and job["findings"] == [], job
    assert fake.count() == 0
    harness.wait_stream_drained(STREAM_HEAVY, GROUP_HEAVY)
    assert pcache_keys(harness) == [] and rcache_keys(harness) == [], "something was cached"
    # The same request again is a new job, not a cached failure.
    job2 = run_arch(harness, arch_body(m), want="failed")
    assert job2["job_id"] != job["job_id"]


def test_upstream_down_fails_the_job(harness, heavy, fake, clean_state):
    m = marker()
    fake.script([{"match": m, "fault": "500", "times": 10}])
    job = run_arch(harness, arch_body(m), want="failed")
    assert job["error"].startswith("needs a model"), job["error"]
    assert "model unavailable" in job["error"], job["error"]
    assert job.get("architecture") is None, job
    assert pcache_keys(harness) == []


# ------------------------------------------------------------------ 4. cache --

def test_result_cache_then_prompt_cache(harness, heavy, fake, clean_state):
    m = marker()
    fake.script([{"match": m, "text": json.dumps(raw_answer(m)), "times": 5,
                  "usage": {"input_tokens": 800, "output_tokens": 200}}])
    body = arch_body(m)
    first = run_arch(harness, body)
    assert first["cached"] is False
    assert fake.count(m) == 1

    # The worker stores the result-cache pointer just after publishing.
    wait_until(lambda: rcache_keys(harness), 10, 0.05, desc="an rcache: entry")
    wait_until(lambda: pcache_keys(harness), 5, 0.05, desc="a pcache: entry")
    keys = pcache_keys(harness) + rcache_keys(harness)
    assert len(keys) == 2, keys
    for k in keys:
        ttl = harness.redis_int("TTL", k)
        assert 6 * 86400 < ttl <= ARCH_TTL, (k, ttl, "architecture TTL is 7 days")

    # Identical: the gateway answers 200 with the finished job.
    status, hdrs, again = harness.http("POST", "/review", body)
    assert status == 200 and hdrs.get("X-Cache") == "hit", (status, hdrs, again)
    assert again["job_id"] == first["job_id"], again
    assert again["architecture"] == first["architecture"], again
    assert fake.count(m) == 1, "a result-cache hit reached the model"

    # Without the result cache: a new job, answered by the prompt cache.
    for k in rcache_keys(harness):
        harness.redis_cli("DEL", k)
    second = run_arch(harness, body)
    assert second["job_id"] != first["job_id"]
    assert second["cached"] is True, second
    assert second["architecture"] == first["architecture"] == normalised(m)
    assert second["summary"] == first["summary"]
    u = second["usage"]
    assert (u["input_tokens"], u["output_tokens"], u["cost_usd"]) == (0, 0, 0), u
    assert fake.count(m) == 1, "a prompt-cache hit reached the model"

    # A different request is a different question.
    third = run_arch(harness, arch_body(m, scale="100 requests/s"))
    assert third["cached"] is False
    assert fake.count(m) == 2
    assert "<scale>100 requests/s</scale>" in user_text(fake.requests(m)[1]["body"])


# ------------------------------------------------------------- 5. gateway --

def test_gateway_refusals(harness, agw, clean_state):
    base = {"request_type": "architecture"}
    assert_problem(harness.http("POST", "/review", base), 400, "missing_field",
                   field="user_request")
    assert_problem(harness.http("POST", "/review", {**base, "user_request": " \n\t "}),
                   400, "missing_field", field="user_request")
    assert_problem(harness.http("POST", "/review", {**base, "user_request": 42}),
                   400, "invalid_field_type", field="user_request")
    assert_problem(harness.http("POST", "/review", {**base, "user_request": "x" * (8 * 1024 + 1)}),
                   400, "field_too_long", field="user_request")
    assert_problem(harness.http("POST", "/review", {**base, "user_request": "a blog",
                                                    "stack": "s" * 257}),
                   400, "field_too_long", field="stack")
    assert_problem(harness.http("POST", "/review", {**base, "user_request": "a blog",
                                                    "db": ["postgres"]}),
                   400, "invalid_field_type", field="db")
    assert_problem(harness.http("POST", "/review", {**base, "user_request": "a blog",
                                                    "file_tree": "f" * (32 * 1024 + 1)}),
                   400, "field_too_long", field="file_tree")
    assert harness.redis_int("XLEN", STREAM_HEAVY) == 0, "a refused request was queued"
    # No file is needed, and the accepted boundaries pass.
    jid = submit(harness, {**base, "user_request": "x" * (8 * 1024), "stack": "s" * 256})
    assert jid


def _fake_aws_key() -> str:
    alphabet = string.ascii_uppercase + string.digits
    while True:
        k = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
        if not any(w in k for w in ("EXAMPLE", "XXX", "TODO", "FIXME", "DUMMY", "SAMPLE")):
            return k


def _fake_github_token() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        t = "ghp_" + "".join(secrets.choice(alphabet) for _ in range(36))
        if not any(w in t.lower() for w in ("example", "xxx", "todo", "fixme", "dummy",
                                            "sample", "your", "redacted", "replace")):
            return t


def test_secrets_in_free_text_never_reach_the_model(harness, heavy, fake, clean_state):
    m = marker()
    aws = _fake_aws_key()
    gh = _fake_github_token()
    harness.remember(aws)
    harness.remember(gh)
    fake.script([{"match": m, "text": json.dumps(raw_answer(m))}])
    body = arch_body(m, user_request=f"A URL shortener ({m}). Our deploy user is "
                                     f"AWS_ACCESS_KEY_ID={aws} if that helps.",
                     file_tree=f"cmd/api/main.go\n.env: GITHUB_TOKEN={gh}\nweb/src/App.tsx")
    job = run_arch(harness, body)
    assert job["architecture"] == normalised(m)
    reqs = fake.requests(m)
    assert len(reqs) == 1
    wire = json.dumps(reqs[0]["body"]) + (reqs[0].get("body_text") or "")
    for sec in (aws, gh):
        assert sec not in wire and sec[4:12] not in wire, "a pasted secret reached the model"
    text = user_text(reqs[0]["body"])
    assert "[REDACTED:aws_access_key_id]" in text, text
    assert "[REDACTED:github_token]" in text, text
    assert "Our deploy user is" in text and "cmd/api/main.go" in text, text
    assert aws not in json.dumps(job) and gh not in json.dumps(job)
    wait_until(lambda: pcache_keys(harness), 5, 0.05, desc="a pcache: entry")
    cached = "\n".join(harness.redis_cli("GET", k) for k in pcache_keys(harness))
    assert aws not in cached and gh not in cached


def test_secrets_in_stack_scale_db_never_reach_the_model(harness, heavy, fake, clean_state):
    """stack, scale and db are free text too (up to 256 bytes each): a
    connection string pasted into db carries a password."""
    m = marker()
    pw = "Pw" + secrets.token_hex(12)
    aws = _fake_aws_key()
    harness.remember(pw)
    harness.remember(aws)
    fake.script([{"match": m, "text": json.dumps(raw_answer(m))}])
    body = arch_body(m, db=f"PostgreSQL at postgres://links:{pw}@db.internal:5432/links",
                     stack=f"Go on AWS (deploy key {aws})")
    job = run_arch(harness, body)
    assert job["architecture"] == normalised(m)
    reqs = fake.requests(m)
    assert len(reqs) == 1
    wire = json.dumps(reqs[0]["body"])
    leaked = [name for name, sec in (("db password", pw), ("aws key in stack", aws))
              if sec in wire]
    assert leaked == [], f"reached the model: {leaked}"
    text = user_text(reqs[0]["body"])
    assert "[REDACTED:connection_password]" in text and "[REDACTED:aws_access_key_id]" in text


# ---------------------------------------------------------- 6. soft throttle --

LITE_BUDGET = 200_000


def test_soft_throttled_design_is_deferred(harness, heavy, fake, clean_state):
    """docs/admission.md: a job admitted at or above 90% of its user's monthly
    budget is marked throttled and its model call deferred by
    CODEINSIGHT_THROTTLE_COOLDOWN (3 h by default) unless the prompt cache
    answers. An architecture job's call is a model call like a review's: a
    cache miss parks the job (deferred_until), the model is not asked."""
    m = marker()
    fake.script([{"match": m, "text": json.dumps(raw_answer(m)), "times": 5}])
    _, user_id, key = harness.new_user("lite", tag="archthrottle")
    # 90% used: the design's estimate (about 9,700 tokens) lands between 90% and 100%.
    harness.precharge(user_id, LITE_BUDGET * 90 // 100)
    job_id = harness.submit_throttled(arch_body(m), key)
    job = harness.wait_parked(job_id, key, timeout=JOB_TIMEOUT)
    assert fake.count(m) == 0, ("a soft-throttled architecture job called the model at once",
                                job["status"], job.get("throttled"))
    assert job["status"] == "queued" and job["throttled"] is True, job
    assert job.get("deferred_until"), job
