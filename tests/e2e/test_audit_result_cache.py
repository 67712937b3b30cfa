"""Audit reproductions: what the gateway's result cache (rcache:, admit.lua and
gateway/admit.c result_digest) is keyed by, and what a hit shows.

Each test states the expected (documented) behaviour; a failure is the
defect.

    TMPDIR=/tmp/x /usr/bin/python3 -m pytest -p no:cacheprovider -q \
        tests/e2e/test_audit_result_cache.py
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from fakemodel import module_fake
from harness import wait_until

ANTHROPIC_KEY = "sk-ant-e2e-" + secrets.token_urlsafe(24)
SCALE = {"CODEINSIGHT_RATE_LIMIT_SCALE": "10000"}
QUICK = {"CODEINSIGHT_READ_BLOCK_MS": "200", "CODEINSIGHT_LLM_TIMEOUT_MS": "5000",
         "CODEINSIGHT_BREAKER_THRESHOLD": "1000"}


@pytest.fixture(scope="module")
def fake_server(harness, _module_isolation):
    with module_fake(harness, "audit-fake", [ANTHROPIC_KEY]) as f:
        yield f


def marker() -> str:
    return "audit" + secrets.token_hex(8)


def go_src(m: str) -> str:
    return f"package svc\n\n// {m}\nfunc Value(xs []int) int {{\n\treturn xs[0] + len(xs)\n}}\n"


def review_body(path: str, content: str, **fields) -> dict:
    return {"file_path": path, "file_content": content, "request_type": "review", **fields}


def rcache_keys(harness) -> list[str]:
    return [k for k in harness.redis_cli("--scan", "--pattern", "rcache:*").splitlines() if k]


def first_job(harness, body, auth=None) -> dict:
    kw = {} if auth is None else {"auth": auth}
    status, _, r = harness.http("POST", "/review", body, **kw)
    assert status == 202, r
    job = harness.poll_job(r["job_id"], timeout=60, **kw)
    assert job["status"] == "done", job
    wait_until(lambda: rcache_keys(harness), 10, 0.05, desc="an rcache: entry")
    return job


def test_cancelled_job_keeps_the_cost_of_its_answered_call(harness, fake, clean_state):
    """docs/pipeline.md: a running job cancelled is "charged what its model
    calls spent: the usage of those that answered (..., a repaired answer's
    first call)". The tokens are charged, but the job's usage and cost_usd
    (and so GET /usage's cost_usd) say 0: pipeline_cancel charges
    task_spent while have_model stays 0, so job_parts() reports no usage
    and no cost for the call that answered and was billed."""
    env = {"CODEINSIGHT_LLM_PROVIDER": "anthropic", "CODEINSIGHT_LLM_BASE_URL": fake.base_url}
    harness.start_gateway({**SCALE, **env}, default=True)
    _, _, key = harness.new_user("pro", tag="cancel-cost")
    m = marker()
    fake.script([{"match": m, "text": "not json at all",
                  "usage": {"input_tokens": 9000, "output_tokens": 700}},
                 {"match": m, "fault": "timeout"}])
    harness.start_worker("fast", {**QUICK, **env, "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
                                  "CODEINSIGHT_LLM_TIMEOUT_MS": "120000",
                                  "CODEINSIGHT_LLM_MAX_ATTEMPTS": "1"})
    jid = harness.submit("svc/value.go", go_src(m), auth=key)
    wait_until(lambda: fake.count(m) == 2 and fake.stats()["in_flight"] >= 1, 20, 0.05,
               desc="the repair call is held")
    status, _, body = harness.http("DELETE", f"/job/{jid}", auth=key)
    assert status == 202, body
    job = harness.poll_job(jid, until=("cancelled", "done", "failed"), timeout=20, auth=key)
    assert job["status"] == "cancelled", job
    tokens, cost, inp = harness.psql_rows(
        f"SELECT tokens, cost_usd, input_tokens FROM token_charges WHERE job_id = '{jid}'")[0]
    assert int(tokens) > 9700, tokens                    # the answered call is charged
    st, _, usage = harness.http("GET", "/usage", auth=key)
    # Expected: the answered call's 9,000 in / 700 out at 3 / 15 USD per Mtok.
    assert (float(cost), int(inp), usage["cost_usd"]) == (0.0375, 9000, 0.0375), \
        (tokens, cost, inp, usage, job["usage"])
