"""Audit reproductions for the worker's model answers (docs/pipeline.md):
each test states the behaviour expected; a failure is the defect.

    TMPDIR=... /usr/bin/python3 -m pytest -q tests/e2e/test_audit_model.py
"""

from __future__ import annotations

import json

from fakemodel import answer, finding, user_text
from test_model_pipeline import (fake_server, mgw, marker, model_findings,  # noqa: F401
                                 run_job, worker_env)


def go_file(m: str, n: int) -> str:
    return f"package svc\n\n// {m}\n" + "".join(f"var v{i} = {i}\n" for i in range(4, n + 1))


def test_fix_on_lines_the_model_never_saw(harness, mgw, fake, clean_state):
    """A cursor review shows the model lines 130-170 only (skipped_ranges
    says so). A finding on line 10, with a fix replacing that line, is about
    code the model was never shown: the fix overwrites it blindly. It should
    not be kept (nor, arguably, the finding)."""
    m = marker()
    src = go_file(m, 300)
    fake.script([{"match": m, "api": "anthropic",
                  "text": answer([finding(10, "v10 is shadowed.", "var v10 = 0 // fixed")],
                                 "One issue.")}])
    harness.start_worker("fast", worker_env(fake))
    job = run_job(harness, f"{m}/blind.go", src, cursor_context={"line": 150, "end_line": 150})
    user = user_text(fake.requests(m)[0]["body"])
    print("reviewed_ranges", job["reviewed_ranges"], "skipped_ranges", job["skipped_ranges"])
    assert "var v10 = 10" not in user            # line 10 was not shown
    got = [f for f in model_findings(job) if f["line"] == 10]
    print("finding on an unseen line:", json.dumps(got))
    assert not any("fix" in f for f in got), got
