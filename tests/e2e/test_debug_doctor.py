"""Debug Doctor end to end: a heavy worker parses the log, reproduces the
failure in the bubblewrap sandbox, asks the (fake) model for the root cause
and a fix, applies the fix to a copy and runs it again; a fix that does not
work is sent back once (CODEINSIGHT_DEBUG_FIX_ATTEMPTS=2). Real programs run:
python3, node and cc with AddressSanitizer, each only inside the sandbox.

    /usr/bin/python3 -m pytest -q tests/e2e/test_debug_doctor.py
"""

from __future__ import annotations

import difflib
import hashlib
import http.client
import json
import os
import re
import secrets

import pytest

from fakemodel import abort_charge, anthropic_env, module_fake, request_text, user_text
from harness import GROUP_HEAVY, STREAM_HEAVY, assert_sigterm_leaves_job_pending, wait_until
from test_exports import RDJSON_VALIDATOR, SARIF_VALIDATOR, assert_valid

ANTHROPIC_KEY = "sk-ant-e2e-debug-" + secrets.token_urlsafe(24)
JOB_TIMEOUT = 90


@pytest.fixture(scope="module")
def fake_server(harness, _module_isolation):
    with module_fake(harness, "fake-llm-debug", [ANTHROPIC_KEY]) as f:
        yield f


provider_env = anthropic_env


@pytest.fixture(scope="module")
def dgw(harness, fake_server):
    return harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                  **provider_env(fake_server)}, default=True)


@pytest.fixture
def heavy(harness, dgw, fake_server, clean_state):
    """A heavy worker with the model, started after the state was cleaned."""
    env = {**provider_env(fake_server), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
           "CODEINSIGHT_LLM_TIMEOUT_MS": "10000", "CODEINSIGHT_BREAKER_THRESHOLD": "1000",
           "CODEINSIGHT_READ_BLOCK_MS": "200", "CODEINSIGHT_WORKER_CONCURRENCY": "4",
           "CODEINSIGHT_SANDBOX_TIMEOUT_MS": "20000"}
    w = harness.start_worker("heavy", env)
    started = w.events("worker_started")
    assert started and started[0].get("sandbox") == "ready", started
    return w


def marker() -> str:
    return "dbg" + secrets.token_hex(6)


def unified(path: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


def debug_answer(fix: str | None, root: str = "Division by an empty list's length.") -> str:
    return json.dumps({"root_cause": root,
                       "explanation": "len(xs) is 0 for an empty list.\nGuard the division.",
                       "fix": fix, "verification_steps": ["run the program again"],
                       "confidence": 0.9})


def run_debug(harness, path, content, error_log, run, timeout=JOB_TIMEOUT, **extra) -> dict:
    body = {"file_path": path, "file_content": content, "request_type": "debug", "run": run}
    if error_log is not None:
        body["error_log"] = error_log
    body.update(extra)
    job_id = harness.submit(**body)
    job = harness.poll_job(job_id, timeout=timeout)
    assert job["status"] == "done", job
    assert job["pool"] == "heavy", job
    return job


def job_steps(harness, job_id: str, name: str) -> list[dict]:
    """The data of a finished job's events called name, in order (its
    history from GET /job/:id/events; the stream closes after "done")."""
    c = http.client.HTTPConnection("127.0.0.1", harness.gateway.port, timeout=30)
    try:
        c.request("GET", f"/job/{job_id}/events",
                  headers={"Authorization": f"Bearer {harness.default_key}",
                           "Accept": "text/event-stream"})
        r = c.getresponse()
        assert r.status == 200, r.status
        text = r.read().decode()
    finally:
        c.close()
    out = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line
                      and not line.startswith(":"))
        if fields.get("event") == name:
            out.append(json.loads(fields["data"]))
    return out


def debug_requests(fake, m):
    return [r for r in fake.requests(m) if "<log>" in user_text(r["body"])
            or "reproduction" in user_text(r["body"]).lower()]


# ------------------------------------------------------------- Python -------

PY_TEMPLATE = """# {m}
def mean(xs):
    return sum(xs) / len(xs)


print(mean([]))
"""

PY_LOG = """Traceback (most recent call last):
  File "/home/dev/proj/stats.py", line 6, in <module>
    print(mean([]))
  File "/home/dev/proj/stats.py", line 3, in mean
    return sum(xs) / len(xs)
ZeroDivisionError: division by zero
"""


def test_python_zero_division_reproduced_fixed_verified(harness, heavy, fake, clean_state):
    m = marker()
    src = PY_TEMPLATE.format(m=m)
    fixed = src.replace("return sum(xs) / len(xs)", "return sum(xs) / len(xs) if xs else 0.0")
    fake.script([{"match": m, "text": debug_answer(unified("stats.py", src, fixed)), "times": 5}])
    job = run_debug(harness, "stats.py", src, PY_LOG, {"runner": "python"})

    assert job["failure"] == {"kind": "python", "type": "ZeroDivisionError",
                              "message": "division by zero"}, job["failure"]
    assert job["root_frame"]["file"] == "stats.py" and job["root_frame"]["line"] == 3
    assert job["root_frame"]["function"] == "mean"
    assert job["root_cause"] == "Division by an empty list's length."
    assert job["fix"].startswith("--- a/stats.py")
    v = job["verification"]
    assert v["reproduced"] is True and v["verified"] is True, v
    assert v["rounds"] == 1 and v["reason"] is None
    runs = v["runs"]
    assert [r["purpose"] for r in runs] == ["reproduce", "verify"], runs
    assert runs[0]["exit"] == 1 and "ZeroDivisionError" in runs[0]["stderr_tail"]
    assert runs[1]["exit"] == 0 and runs[1]["stdout_tail"] == "0.0\n", runs[1]
    assert runs[0]["argv"][0] == "python3" and runs[0]["argv"][-1] == "stats.py"
    assert job["degraded"] is False and job["usage"]["input_tokens"] > 0
    # The model saw the log, the frames and what the sandbox printed.
    reqs = fake.requests(m)
    assert len(reqs) == 1, len(reqs)
    text = user_text(reqs[0]["body"])
    assert "ZeroDivisionError" in text and "stats.py:3 in mean" in text
    assert "$ python3" in text and "(exit 1)" in text
    # The exports carry the diagnosis as one more result, on the root frame,
    # with the fix: what a CI shows next to the lint findings.
    status, _, sarif = harness.http("GET", f"/job/{job['job_id']}?format=sarif")
    assert status == 200, sarif
    assert_valid(SARIF_VALIDATOR, sarif)
    diag = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "debug-doctor/root-cause"]
    assert len(diag) == 1, sarif["runs"][0]["results"]
    assert diag[0]["message"]["text"] == ("Division by an empty list's length. "
                                          "(the fix was verified in the sandbox)")
    where = diag[0]["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "stats.py" and where["region"]["startLine"] == 3
    assert diag[0]["properties"]["finding_id"] == "fix"
    new = diag[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"]
    assert "if xs else 0.0" in new, diag[0]["fixes"]
    status, _, rd = harness.http("GET", f"/job/{job['job_id']}?format=rdjson")
    assert status == 200, rd
    assert_valid(RDJSON_VALIDATOR, rd)
    d = [x for x in rd["diagnostics"] if x["code"]["value"] == "debug-doctor/root-cause"]
    assert len(d) == 1 and d[0]["location"]["range"]["start"]["line"] == 3, rd
    assert "if xs else 0.0" in d[0]["suggestions"][0]["text"], d[0]
    # PostgreSQL keeps the task's members: once the hot copy is gone, GET /job
    # answers the same document from the system of record.
    assert harness.redis_int("DEL", f"job:{job['job_id']}") == 1
    status, cold = harness.get_job(job["job_id"])
    assert status == 200, cold
    for k in ("root_cause", "explanation", "fix", "verification", "failure", "frames",
              "root_frame", "confidence", "verification_steps"):
        assert cold[k] == job[k], k


def test_python_imports_the_neighbour_files(harness, heavy, fake, clean_state):
    """The entry imports a submitted neighbour (a module and a package): the run
    reproduces the real failure, not a ModuleNotFoundError, and the fix to the
    neighbour is verified."""
    m = marker()
    main = f"# {m}\nfrom util import div\nfrom pkg.helper import one\nprint(div(one(), 0))\n"
    util = "def div(a, b):\n    return a / b\n"
    fixed = "def div(a, b):\n    return a / b if b else 0.0\n"
    fake.script([{"match": m, "text": debug_answer(unified("util.py", util, fixed)), "times": 5}])
    job = run_debug(harness, "main.py", main, None, {"runner": "python"},
                    files=[{"path": "util.py", "content": util},
                           {"path": "pkg/__init__.py", "content": ""},
                           {"path": "pkg/helper.py", "content": "def one():\n    return 1\n"}])
    assert job["failure"]["type"] == "ZeroDivisionError", job["failure"]
    v = job["verification"]
    assert v["reproduced"] is True and v["verified"] is True, v
    assert v["runs"][-1]["stdout_tail"] == "0.0\n", v["runs"]


def test_paths_spelt_with_dots_name_one_file(harness, heavy, fake, clean_state):
    """"./main.py" and "lib//util.py" are main.py and lib/util.py: the model's
    fix to "lib/util.py" is verified against the submitted neighbour, and
    POST /apply-fix applies it there."""
    m = marker()
    main = f"# {m}\nfrom lib.util import div\nprint(div(1, 0))\n"
    util = "def div(a, b):\n    return a / b\n"
    fixed = "def div(a, b):\n    return a / b if b else 0.0\n"
    fake.script([{"match": m, "text": debug_answer(unified("lib/util.py", util, fixed)),
                  "times": 5}])
    job = run_debug(harness, "./main.py", main, None, {"runner": "python", "entry": "main.py"},
                    files=[{"path": "lib//util.py", "content": util}])
    assert job["file_path"] == "main.py", job["file_path"]
    v = job["verification"]
    assert v["reproduced"] is True and v["verified"] is True, v
    status, _, applied = harness.http("POST", "/apply-fix", {
        "job_id": job["job_id"], "finding_id": "fix", "approve": True,
        "base_sha256": hashlib.sha256(util.encode()).hexdigest()})
    assert status == 200, applied
    assert applied["file_path"] == "lib/util.py" and applied["content"] == fixed, applied


def test_paths_that_cannot_share_a_tree_are_refused_at_submission(harness, dgw):
    """What the sandbox could not lay out is a 400 at once, not a failed job."""
    head = {"request_type": "debug", "file_path": "app.py", "file_content": "x = 1\n",
            "error_log": "E"}
    for extra, field in (
            ({"files": [{"path": "./app.py", "content": ""}]}, "files[0].path"),
            ({"files": [{"path": "app.py/b.py", "content": ""}]}, "files[0].path"),
            ({"files": [{"path": "d/b.py", "content": ""}, {"path": "d", "content": ""}]},
             "files[1].path"),
            ({"run": {"runner": "cc"}}, "run.runner")):
        status, _, data = harness.http("POST", "/review", {**head, **extra})
        assert status == 400, (extra, data)
        assert data["code"] == "invalid_field_value" and data["field"] == field, (extra, data)


def script_two_failing_fixes(fake, m: str, path: str, src: str, old: str, new1: str,
                             new2: str) -> tuple[str, str]:
    """Scripts the model's two rounds: fixes (old replaced by new1, then by
    new2) that apply cleanly and do not help. Returns the two fixed texts."""
    bad1 = src.replace(old, new1)
    bad2 = src.replace(old, new2)
    assert bad1 != src and bad2 != src
    fake.script([{"match": m, "text": debug_answer(unified(path, src, bad1)), "times": 1},
                 {"match": m, "text": debug_answer(unified(path, src, bad2)), "times": 1}])
    return bad1, bad2


def test_fix_that_does_not_work_gets_a_second_round(harness, heavy, fake, clean_state):
    m = marker()
    src = PY_TEMPLATE.format(m=m)
    # Both fixes apply cleanly, neither helps: still divides by zero.
    _, bad2 = script_two_failing_fixes(fake, m, "stats.py", src, "return sum(xs) / len(xs)",
                                       "return sum(xs) / (len(xs) or 0)",
                                       "return float(sum(xs)) / len(xs)")
    job = run_debug(harness, "stats.py", src, PY_LOG, {"runner": "python"})

    v = job["verification"]
    assert v["reproduced"] is True and v["verified"] is False, v
    assert v["rounds"] == 2, v
    assert [r["purpose"] for r in v["runs"]] == ["reproduce", "verify", "verify"], v["runs"]
    assert all(r["exit"] == 1 for r in v["runs"])
    assert "still fails" in v["reason"], v["reason"]
    # Each round's "verified" step carries that round's own failure.
    steps = job_steps(harness, job["job_id"], "verified")
    assert [(st["verified"], st["round"]) for st in steps] == [(False, 1), (False, 2)], steps
    assert all(st.get("reason", "").startswith("with the fix applied the program still fails")
               for st in steps), steps
    assert job["fix"] == unified("stats.py", src, bad2)     # the latest proposal
    # The second request carried the failed fix and its failure.
    reqs = fake.requests(m)
    assert len(reqs) == 2, len(reqs)
    second = user_text(reqs[1]["body"])
    assert "(len(xs) or 0)" in second and "still fails" in second


def test_run_arguments_reach_the_model_redacted_in_every_round(harness, heavy, fake, clean_state):
    # The run's argv is part of the failure note sent back on round 2; only
    # the output tails were redacted there, so the token in run.args reached
    # the model (round 1's reproduction was redacted whole).
    m = marker()
    token = "ghp_" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                            "0123456789") for _ in range(36))
    harness.remember(token)
    src = PY_TEMPLATE.format(m=m)
    script_two_failing_fixes(fake, m, "stats.py", src, "return sum(xs) / len(xs)",
                             "return sum(xs) / (len(xs) or 0)", "return float(sum(xs)) / len(xs)")
    job = run_debug(harness, "stats.py", src, PY_LOG,
                    {"runner": "python", "args": ["--token", token]})

    v = job["verification"]
    assert v["rounds"] == 2 and v["verified"] is False, v
    assert "--token" in v["runs"][1]["argv"], v["runs"][1]
    reqs = fake.requests(m)
    assert len(reqs) == 2, len(reqs)
    first, second = (user_text(r["body"]) for r in reqs)
    assert "--token [REDACTED:" in first and "ghp_" not in first
    failure = second.split("<previous_failure>", 1)[1].split("</previous_failure>", 1)[0]
    assert "still fails" in failure and "--token [REDACTED:" in failure, failure[:300]
    assert "ghp_" not in second and token not in json.dumps(reqs)
    # The stored reason is that note, cut: redacted too.
    assert "ghp_" not in v["reason"] and "still fails" in v["reason"], v["reason"]
    # So are the arguments the stored runs show, in every run.
    for run in v["runs"]:
        assert token not in json.dumps(run), run["argv"]
        assert any(a.startswith("[REDACTED:") for a in run["argv"]), run["argv"]


def test_password_option_in_run_arguments_is_redacted(harness, heavy, fake, clean_state):
    # run.args as a developer reproduces a failing script that takes its
    # database password as an option: "--db-password VALUE". The prompt's
    # reproduction is "$ python3 ... stats.py --db-password VALUE", redacted
    # whole, but an option and its value are two words with no operator
    # between them, so no rule sees the password and the model reads it.
    m = marker()
    while True:     # 20 random letters and digits that spell no word the redactor skips
        password = "Pw7" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ"
                                                  "abcdefghijkmnopqrstuvwxyz23456789")
                                   for _ in range(17))
        if not any(w in password.lower() for w in ("key", "auth", "token", "pwd", "none", "null",
                                                   "true", "false", "secret", "pass")):
            break
    harness.remember(password)
    src = PY_TEMPLATE.format(m=m)
    fixed = src.replace("return sum(xs) / len(xs)", "return sum(xs) / len(xs) if xs else 0.0")
    fake.script([{"match": m, "text": debug_answer(unified("stats.py", src, fixed)), "times": 5}])
    job = run_debug(harness, "stats.py", src, PY_LOG,
                    {"runner": "python", "args": ["--db-password", password]})

    assert job["verification"]["reproduced"] is True, job["verification"]
    reqs = fake.requests(m)
    assert len(reqs) == 1, len(reqs)
    text = user_text(reqs[0]["body"])
    assert "--db-password" in text, text[:2000]
    assert password not in json.dumps(reqs), \
        "the password given as run.args reached the model: " + \
        text[text.index("--db-password") - 80:text.index("--db-password") + 60]


def test_second_round_fixes_it(harness, heavy, fake, clean_state):
    m = marker()
    src = PY_TEMPLATE.format(m=m)
    bad = src.replace("return sum(xs) / len(xs)", "return sum(xs) / (len(xs) or 0)")
    good = src.replace("return sum(xs) / len(xs)", "return sum(xs) / (len(xs) or 1)")
    fake.script([{"match": m, "text": debug_answer(unified("stats.py", src, bad)), "times": 1},
                 {"match": m, "text": debug_answer(unified("stats.py", src, good)), "times": 1}])
    job = run_debug(harness, "stats.py", src, PY_LOG, {"runner": "python"})
    v = job["verification"]
    assert v["verified"] is True and v["rounds"] == 2, v
    assert [r["exit"] for r in v["runs"]] == [1, 1, 0], v["runs"]


def test_fix_that_does_not_apply(harness, heavy, fake, clean_state):
    m = marker()
    src = PY_TEMPLATE.format(m=m)
    wrong = unified("stats.py", src.replace("xs", "ys"), src.replace("xs", "zs"))
    fake.script([{"match": m, "text": debug_answer(wrong), "times": 2}])
    job = run_debug(harness, "stats.py", src, PY_LOG, {"runner": "python"})
    v = job["verification"]
    assert v["verified"] is False and v["rounds"] == 2, v
    assert "does not apply" in v["reason"], v
    assert [r["purpose"] for r in v["runs"]] == ["reproduce"]


# A program that fails with a long message in Russian: the verification
# failure note and the stored reason are cut to a byte budget.
CYRILLIC = "Неверное значение "
PY_CYRILLIC_TEMPLATE = """# {m}
import sys


def check(v):
    if v < 0:
        sys.stderr.write({text!r} + "\\n")
        sys.exit(1)
    return v


print(check(-1))
"""


def utf8_ok(text: str) -> bool:
    """True when text went through JSON without a replaced or split character."""
    return "\ufffd" not in text and "?" not in text


@pytest.mark.parametrize("lead,repeat", [("", 40), ("x", 40), ("", 200)])
def test_failure_note_cut_inside_cyrillic_text_is_stored(harness, heavy, fake, clean_state,
                                                         lead, repeat):
    # With and without one ASCII byte in front, the 255-byte reason's cut
    # falls on either byte of a two-byte letter; 200 repetitions (6,800
    # bytes) also cut the 4,000-byte tail the model reads at its start. A
    # split letter made the model's vendor refuse the prompt (400), or
    # PostgreSQL the document: the job ended "the result could not be stored".
    m = marker()
    src = PY_CYRILLIC_TEMPLATE.format(m=m, text=lead + CYRILLIC * repeat)
    script_two_failing_fixes(fake, m, "check.py", src, "if v < 0:", "if v <= 0:", "if v < 1:")
    job = run_debug(harness, "check.py", src, None, {"runner": "python"})

    v = job["verification"]
    assert v["reproduced"] is True and v["verified"] is False and v["rounds"] == 2, v
    reason = v["reason"]
    assert reason.startswith("with the fix applied the program still fails"), reason
    assert "Неверное" in reason and utf8_ok(reason), reason
    assert 250 <= len(reason.encode()) <= 255, len(reason.encode())
    steps = job_steps(harness, job["job_id"], "verified")
    assert all(utf8_ok(st["reason"]) for st in steps), steps
    # The second round read the failure in whole characters too.
    second = user_text(fake.requests(m)[1]["body"])
    failure = second.split("<previous_failure>", 1)[1].split("</previous_failure>", 1)[0]
    assert "Неверное" in failure and utf8_ok(failure), failure[:300]
    # PostgreSQL holds the same reason.
    assert harness.redis_int("DEL", f"job:{job['job_id']}") == 1
    status, cold = harness.get_job(job["job_id"])
    assert status == 200 and cold["status"] == "done", cold
    assert cold["verification"]["reason"] == reason


# --------------------------------------------------------------- Node -------

JS_TEMPLATE = """// {m}
function displayName(user) {{
  return user.profile.name.trim();
}}

console.log(displayName({{ id: 7 }}));
"""


def test_node_type_error(harness, heavy, fake, clean_state):
    m = marker()
    src = JS_TEMPLATE.format(m=m)
    fixed = src.replace("return user.profile.name.trim();",
                        "return user.profile ? user.profile.name.trim() : '';")
    fake.script([{"match": m, "times": 3, "text": debug_answer(
        unified("web/user.js", src, fixed), root="user.profile is undefined")}])
    # No log: the reproduction tells where it fails.
    job = run_debug(harness, "web/user.js", src, None, {"runner": "node"})
    assert job["failure"]["kind"] == "node" and job["failure"]["type"] == "TypeError", job["failure"]
    assert job["root_frame"]["file"] == "web/user.js" and job["root_frame"]["line"] == 3
    v = job["verification"]
    assert v["reproduced"] and v["verified"], v
    assert "TypeError" in v["runs"][0]["stderr_tail"]
    assert v["runs"][1]["exit"] == 0 and v["runs"][1]["stdout_tail"] == "\n"


# ------------------------------------------------------- C with ASan --------

C_TEMPLATE = """/* {m} */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{{
    int *a = malloc(4 * sizeof *a);
    for (int i = 0; i <= 4; i++)
        a[i] = i * i;
    printf("%d\\n", a[3]);
    free(a);
    return 0;
}}
"""


def test_c_out_of_bounds_caught_by_asan(harness, heavy, fake, clean_state):
    m = marker()
    src = C_TEMPLATE.format(m=m)
    fixed = src.replace("i <= 4", "i < 4")
    fake.script([{"match": m, "times": 3, "text": debug_answer(
        unified("src/squares.c", src, fixed), root="Off-by-one: writes a[4] past the end")}])
    job = run_debug(harness, "src/squares.c", src, None, {"runner": "cc"})
    v = job["verification"]
    assert v["reproduced"] is True, v
    first = v["runs"][0]
    assert "AddressSanitizer: heap-buffer-overflow" in first["stderr_tail"], first
    assert first["exit"] != 0
    assert job["failure"]["kind"] == "asan" and job["failure"]["type"] == "heap-buffer-overflow"
    assert job["root_frame"]["file"] == "src/squares.c" and job["root_frame"]["line"] == 9
    assert v["verified"] is True, v
    assert v["runs"][1]["exit"] == 0 and v["runs"][1]["stdout_tail"] == "9\n"


# ----------------------------------------------------- without a model ------

def test_offline_gives_root_frame_error_and_lint(harness, dgw, fake, clean_state):
    w = harness.start_worker("heavy", {"CODEINSIGHT_LLM_PROVIDER": "offline",
                                       "CODEINSIGHT_READ_BLOCK_MS": "200"})
    src = PY_TEMPLATE.format(m="offline") + "import os\n"
    job = run_debug(harness, "stats.py", src, PY_LOG, {"runner": "python"})
    assert job["degraded"] is True and job["degraded_reason"].startswith("offline")
    assert job["root_cause"] == "ZeroDivisionError: division by zero at stats.py:3 in mean"
    assert job["fix"] is None and job["explanation"] is None
    v = job["verification"]
    assert v["reproduced"] is True and v["verified"] is False
    assert v["reason"].startswith("no fix to verify") and "offline" in v["reason"], v
    assert [r["purpose"] for r in v["runs"]] == ["reproduce"]
    # The linters ran on the file (unused import on the last line).
    assert {x["tool"] for x in job["linters"] if x["status"] == "ok"} >= {"flake8", "pylint"}
    assert job["findings"] and all(f["source"] != "model" for f in job["findings"])
    w.stop()


def test_no_run_means_no_reproduction(harness, heavy, fake, clean_state):
    m = marker()
    src = PY_TEMPLATE.format(m=m)
    fixed = src.replace("return sum(xs) / len(xs)", "return sum(xs) / len(xs) if xs else 0.0")
    fake.script([{"match": m, "text": debug_answer(unified("stats.py", src, fixed)), "times": 2}])
    job_id = harness.submit(file_path="stats.py", file_content=src, request_type="debug",
                            error_log=PY_LOG)
    job = harness.poll_job(job_id, timeout=JOB_TIMEOUT)
    assert job["status"] == "done", job
    v = job["verification"]
    assert v == {"reproduced": False, "verified": False, "reason": v["reason"], "rounds": 1,
                 "runs": []}, v
    assert "no run was given" in v["reason"]
    assert job["fix"] and job["root_frame"]["line"] == 3
    harness.wait_stream_drained(STREAM_HEAVY, GROUP_HEAVY)


def shown_lines_source() -> str:
    """80 lines: main() on lines 9-10 calls mean(), whose line 60 fails; the
    call of main() is line 79; the rest are "vN = N" lines."""
    lines = [f"v{i} = {i}" for i in range(1, 81)]
    lines[8:10] = ["def main():", "    print(mean([]))"]
    lines[58:60] = ["def mean(xs):", "    return sum(xs) / len(xs)"]
    lines[78] = "main()"
    return "\n".join(lines) + "\n"


SHOWN_LOG = """Traceback (most recent call last):
  File "/srv/{m}/app.py", line 79, in <module>
    main()
  File "/srv/{m}/app.py", line 10, in main
    print(mean([]))
  File "/srv/{m}/app.py", line 60, in mean
    return sum(xs) / len(xs)
ZeroDivisionError: division by zero
"""


def test_findings_on_lines_the_prompt_never_showed(harness, heavy, fake, clean_state):
    """The prompt shows the code windows around the frames (lines 2-18, 52-68,
    71-80) in place of the excerpt (lines 40-80, centred on line 60). A
    finding on line 30 (in neither) or line 45 (in the excerpt, not shown) is
    dropped; one on line 12 (a window, outside the excerpt) keeps its fix;
    one on lines 18-20 stays without the fix that would change lines 19-20.
    Before, every line counted as shown and all four were kept, with fixes."""
    m = marker()
    src = shown_lines_source()
    answer = json.loads(debug_answer(None))
    answer["findings"] = [
        {"line": n, "end_line": end, "severity": "minor", "category": "correctness",
         "message": f"v{n} is off.", "fix": text}
        for n, end, text in [(30, 30, "v30 = 0"), (45, 45, "v45 = 0"), (12, 12, "v12 = 0"),
                             (18, 20, "v18 = 0\nv19 = 0\nv20 = 0")]]
    fake.script([{"match": m, "text": json.dumps(answer), "times": 2}])
    # The marker is in the path: the prompt shows no line of the file whole.
    job_id = harness.submit(file_path=f"{m}/app.py", file_content=src, request_type="debug",
                            error_log=SHOWN_LOG.format(m=m))
    job = harness.poll_job(job_id, timeout=JOB_TIMEOUT)
    assert job["status"] == "done", job
    user = user_text(fake.requests(m)[0]["body"])
    assert "v12 = 12" in user and "v30 = 30" not in user and "v45 = 45" not in user
    # The note tells the lines the windows show, not the excerpt's 40-80.
    note = re.search(r"^Note: only lines (.*) of 80 are shown$", user, re.M)
    assert note is not None, user
    assert sorted(note.group(1).split(", "), key=lambda r: int(r.split("-")[0])) == \
        ["2-18", "52-68", "71-80"], note.group(1)
    got = {f["line"]: f for f in job["findings"] if f["source"] == "model"}
    assert sorted(got) == [12, 18], job["findings"]
    assert "+v12 = 0\n" in got[12]["fix"], got[12]
    assert "fix" not in got[18], got[18]
    harness.wait_stream_drained(STREAM_HEAVY, GROUP_HEAVY)


def test_fix_for_a_neighbour_named_b_slash_the_main_file(harness, heavy, fake, clean_state):
    """The main file stats.py and a neighbour b/stats.py: "+++ b/stats.py"
    names the neighbour exactly, and an exact name wins over a "b/" one for
    the worker (fix_file) and for POST /apply-fix, so the exports must not
    offer the fix on stats.py, where the diagnosis (the root frame) is."""
    m = marker()
    src = PY_TEMPLATE.format(m=m)
    nb = "def mean(xs):\n    return sum(xs) / len(xs)\n"
    fixed = nb.replace("len(xs)\n", "len(xs) if xs else 0.0\n")
    fix = unified("stats.py", nb, fixed)
    assert "\n+++ b/stats.py\n" in fix, fix
    fake.script([{"match": m, "text": debug_answer(fix), "times": 2}])
    job_id = harness.submit(file_path="stats.py", file_content=src, request_type="debug",
                            error_log=PY_LOG, files=[{"path": "b/stats.py", "content": nb}])
    job = harness.poll_job(job_id, timeout=JOB_TIMEOUT)
    assert job["status"] == "done", job
    assert job["fix"] == fix and job["root_frame"]["file"] == "stats.py", job
    assert job["fix_file"] == "b/stats.py", job.get("fix_file")
    status, _, applied = harness.http("POST", "/apply-fix", {
        "job_id": job_id, "finding_id": "fix", "approve": True,
        "base_sha256": hashlib.sha256(nb.encode()).hexdigest()})
    assert status == 200, applied
    assert applied["file_path"] == "b/stats.py" and applied["content"] == fixed, applied
    status, _, sarif = harness.http("GET", f"/job/{job_id}?format=sarif")
    assert status == 200, sarif
    assert_valid(SARIF_VALIDATOR, sarif)
    diag = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "debug-doctor/root-cause"]
    assert len(diag) == 1, sarif["runs"][0]["results"]
    uri = diag[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "stats.py" and "fixes" not in diag[0], diag[0]
    status, _, rd = harness.http("GET", f"/job/{job_id}?format=rdjson")
    assert status == 200, rd
    assert_valid(RDJSON_VALIDATOR, rd)
    d = [x for x in rd["diagnostics"] if x["code"]["value"] == "debug-doctor/root-cause"]
    assert len(d) == 1 and d[0]["location"]["path"] == "stats.py", rd
    assert "suggestions" not in d[0], d[0]
    harness.wait_stream_drained(STREAM_HEAVY, GROUP_HEAVY)


def gh_token() -> str:
    return "ghp_" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                           "0123456789") for _ in range(36))


def test_diff_reaches_the_model_redacted(harness, heavy, fake, clean_state):
    """A debug request's diff is the change under suspicion: the model reads
    it in <diff>, redacted like the file."""
    m = marker()
    token = gh_token()
    src = PY_TEMPLATE.format(m=m) + f'TOKEN = "{token}"\n'
    old = src.replace("return sum(xs) / len(xs)", "return sum(xs) / max(len(xs), 1)")
    old = old.replace(f'TOKEN = "{token}"\n', "")
    fake.script([{"match": m, "text": debug_answer(None), "times": 2}])
    job_id = harness.submit(file_path="stats.py", file_content=src, request_type="debug",
                            error_log=PY_LOG, diff=unified("stats.py", old, src))
    job = harness.poll_job(job_id, timeout=JOB_TIMEOUT)
    assert job["status"] == "done", job
    reqs = fake.requests(m)
    assert len(reqs) == 1, len(reqs)
    text = user_text(reqs[0]["body"])
    assert "<diff>" in text, text
    diff = text.split("<diff>\n", 1)[1].split("</diff>", 1)[0]
    assert "-    return sum(xs) / max(len(xs), 1)\n+    return sum(xs) / len(xs)\n" in diff, diff
    assert '+TOKEN = "[REDACTED:github_token]"' in diff, diff
    assert token not in json.dumps(reqs), "the token reached the model"


def test_paths_reach_the_model_redacted(harness, heavy, fake, clean_state):
    """file_path, language and a neighbour's path are shown to the model
    redacted, as its content is; the job keeps them as sent."""
    m = marker()
    t_main, t_lang, t_file = gh_token(), "sk_live_" + secrets.token_hex(12), gh_token()
    path, neighbour = f"{t_main}/stats.py", f"conf/{t_file}.py"
    src = PY_TEMPLATE.format(m=m)
    fake.script([{"match": m, "text": debug_answer(None), "times": 2}])
    job_id = harness.submit(file_path=path, file_content=src, request_type="debug",
                            language=t_lang, error_log=PY_LOG,
                            files=[{"path": neighbour, "content": "LIMIT = 3\n"}])
    job = harness.poll_job(job_id, timeout=JOB_TIMEOUT)
    assert job["status"] == "done", job
    assert job["file_path"] == path and job["language"] == t_lang, job
    reqs = fake.requests(m)
    assert len(reqs) == 1, len(reqs)
    text = user_text(reqs[0]["body"])
    assert "File: [REDACTED:github_token]/stats.py ([REDACTED:stripe_key])" in text, \
        text[:300]
    assert "=== conf/[REDACTED:github_token].py ===\nLIMIT = 3" in text, text
    # The log's frames map to the main file by name: its windows are shown.
    assert "--- [REDACTED:github_token]/stats.py (around line 3)" in text, text
    body = json.dumps(reqs)
    assert not [t for t in (t_main, t_lang, t_file) if t in body], "a secret reached the model"


# ------------------------------------------------------- soft throttle ------

LITE_BUDGET = 200_000


def test_soft_throttled_diagnosis_is_deferred(harness, heavy, fake, clean_state):
    """docs/admission.md: a job admitted at or above 90% of its user's monthly
    budget is marked throttled and its model call deferred by
    CODEINSIGHT_THROTTLE_COOLDOWN (3 h) unless the prompt cache answers. A
    debug job's diagnosis is a model call like a review's: after the
    reproduction (its output is part of the prompt, so of the cache key), a
    cache miss parks the job (deferred_until), the model is not asked."""
    m = marker()
    src = PY_TEMPLATE.format(m=m)
    fixed = src.replace("return sum(xs) / len(xs)", "return sum(xs) / len(xs) if xs else 0.0")
    fake.script([{"match": m, "text": debug_answer(unified("stats.py", src, fixed)),
                  "times": 5}])
    _, user_id, key = harness.new_user("lite", tag="debugthrottle")
    # 90% used: the diagnosis' estimate (two rounds, about 11,000 tokens)
    # lands between 90% and 100%.
    harness.precharge(user_id, LITE_BUDGET * 90 // 100)
    job_id = harness.submit_throttled({
        "file_path": "stats.py", "file_content": src, "request_type": "debug",
        "error_log": PY_LOG, "run": {"runner": "python"}}, key)
    job = harness.wait_parked(job_id, key, timeout=JOB_TIMEOUT)
    assert fake.count(m) == 0, ("a soft-throttled debug job called the model at once",
                                job["status"], job.get("throttled"))
    assert job["status"] == "queued" and job["throttled"] is True, job
    assert job.get("deferred_until"), job
    heavy.wait_for_log("job_deferred", job_id=job_id)


# ------------------------------------------------------------ shutdown -------

SHUTDOWN_GRACE_S = 1

# Runs longer than any wait below, then fails like PY_TEMPLATE.
PY_SLOW = """# {m}
import time

time.sleep(120)
print(1 / 0)
"""


def processes_naming(text: str) -> list[int]:
    """Pids of the processes whose command line holds text."""
    pids = []
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    pids.append(int(d))
        except (OSError, ValueError):
            continue
    return pids


@pytest.mark.parametrize("waiting_for", ["sandbox", "model"])
def test_sigterm_cancels_the_task_and_leaves_the_job_pending(harness, dgw, fake, clean_state,
                                                             waiting_for):
    """SIGTERM while a debug job waits for its reproduction run or for the
    model, past the grace: the task is cancelled (the sandboxed program is
    killed, the model call aborted and not retried), nothing is stored or
    acknowledged, the entry stays pending for another worker, and the worker
    exits 0 - under ASan, with nothing leaked."""
    m = marker()
    w = harness.start_worker("heavy", {
        **provider_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "CODEINSIGHT_HEAVY_LLM_TIMEOUT_MS": "120000", "CODEINSIGHT_BREAKER_THRESHOLD": "1000",
        "CODEINSIGHT_READ_BLOCK_MS": "200", "CODEINSIGHT_SANDBOX_TIMEOUT_MS": "120000",
        "CODEINSIGHT_SHUTDOWN_GRACE": str(SHUTDOWN_GRACE_S)})
    path = f"{m}.py"
    if waiting_for == "sandbox":
        assert w.events("worker_started")[0].get("sandbox") == "ready", w.tail()
        job_id = harness.submit(file_path=path, file_content=PY_SLOW.format(m=m),
                                request_type="debug", error_log=PY_LOG, run={"runner": "python"})
        wait_until(lambda: processes_naming(path), timeout=JOB_TIMEOUT,
                   desc="the reproduction running in the sandbox")
    else:
        fake.script([{"match": m, "latency_ms": 120_000, "text": debug_answer(None),
                      "times": 5}])
        job_id = harness.submit(file_path=path, file_content=PY_TEMPLATE.format(m=m),
                                request_type="debug", error_log=PY_LOG)
        wait_until(lambda: fake.count(m) >= 1, timeout=JOB_TIMEOUT,
                   desc="the model asked for the diagnosis")

    assert_sigterm_leaves_job_pending(harness, w, job_id, SHUTDOWN_GRACE_S)
    if waiting_for == "sandbox":
        wait_until(lambda: not processes_naming(path), timeout=10,
                   desc="the sandboxed program killed")
    else:
        assert fake.count(m) == 1, "the cancelled model call was retried"


def test_cancel_kills_the_reproduction_run(harness, dgw, fake, clean_state):
    """DELETE /job/:id while a debug job's program runs in the sandbox (the
    heavy pool's task, not a model call): the program is killed at once, the
    job ends cancelled without asking the model, and the worker goes on."""
    m = marker()
    w = harness.start_worker("heavy", {
        **provider_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "CODEINSIGHT_READ_BLOCK_MS": "200", "CODEINSIGHT_SANDBOX_TIMEOUT_MS": "120000"})
    assert w.events("worker_started")[0].get("sandbox") == "ready", w.tail()
    path = f"{m}.py"
    job_id = harness.submit(file_path=path, file_content=PY_SLOW.format(m=m),
                            request_type="debug", error_log=PY_LOG, run={"runner": "python"})
    wait_until(lambda: processes_naming(path), timeout=JOB_TIMEOUT,
               desc="the reproduction running in the sandbox")

    status, _, body = harness.http("DELETE", f"/job/{job_id}")
    assert status == 202 and body["cancel_requested"] is True, body
    job = harness.poll_job(job_id, until=("cancelled", "done", "failed"), timeout=30)
    assert job["status"] == "cancelled" and job["pool"] == "heavy", job
    wait_until(lambda: not processes_naming(path), timeout=10, desc="the program killed")
    assert fake.count(m) == 0, "a cancelled job asked the model"
    assert w.events("job_cancelled", job_id=job_id)
    assert w.alive()


def test_cancel_between_rounds_charges_the_rounds_done(harness, dgw, fake, clean_state):
    """Cancelled while its second model round is held: the job ends
    cancelled, and it is charged the first round's tokens, which the vendor
    reported, plus the aborted second round's prompt (characters / 4, what
    the vendor may bill): cancelling is no way around a budget."""
    m = marker()
    src = PY_TEMPLATE.format(m=m)
    bad = src.replace("return sum(xs) / len(xs)", "return sum(xs) / (len(xs) or 0)")
    first_answer = debug_answer(unified("stats.py", src, bad))
    fake.script([{"match": m, "text": first_answer, "times": 1},
                 {"match": m, "fault": "timeout", "times": 1}])
    w = harness.start_worker("heavy", {
        **provider_env(fake), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "CODEINSIGHT_LLM_TIMEOUT_MS": "120000", "CODEINSIGHT_HEAVY_LLM_TIMEOUT_MS": "120000",
        "CODEINSIGHT_READ_BLOCK_MS": "200", "CODEINSIGHT_SANDBOX_TIMEOUT_MS": "20000"})
    job_id = harness.submit(file_path="stats.py", file_content=src, request_type="debug",
                            error_log=PY_LOG, run={"runner": "python"})
    wait_until(lambda: fake.count(m) >= 2, timeout=JOB_TIMEOUT, desc="the second round asked")

    status, _, body = harness.http("DELETE", f"/job/{job_id}")
    assert status == 202, body
    job = harness.poll_job(job_id, until=("cancelled", "done", "failed"), timeout=30)
    assert job["status"] == "cancelled", job
    wait_until(lambda: fake.stats()["client_gave_up"] >= 1, timeout=10, desc="round 2 aborted")
    tokens = harness.psql_int(f"SELECT tokens FROM token_charges WHERE job_id = '{job_id}'")
    first, second = (r["body"] for r in fake.requests(m))
    # Round 1 by the fake's usage (its prompt's characters // 4 and its
    # answer's); round 2 by the worker's count of the prompt it sent.
    used = max(1, len(request_text(first)) // 4) + len(first_answer) // 4
    assert tokens == used + abort_charge(second), (tokens, used)
    # Its usage and cost are round 1's, the call that answered.
    u = job["usage"]
    assert u["input_tokens"] + u["output_tokens"] == used and u["cost_usd"] > 0, (u, used)
    # Its log line counts what it reports: no findings (the linters' are
    # not the job's once it is cancelled).
    done = w.events("job_done", job_id=job_id)
    assert done[0]["status"] == "cancelled" and done[0]["findings"] == 0, done
