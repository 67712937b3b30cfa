"""Review jobs through the fast worker: real linter findings, persistence to
PostgreSQL, serving from PostgreSQL when the Redis hot copy is gone, and the
request id carried into the worker's log."""

import os
import shutil
import tempfile

import pytest

from harness import (GROUP_FAST, PY_CLEAN, PY_EXPECTED, PY_SAMPLE, SH_EXPECTED, SH_SAMPLE, STREAM_FAST,
                     assert_job_shape, finding_keys, parse_time)


@pytest.fixture(scope="module")
def fast_worker(harness, gateway):
    return harness.start_worker("fast")


def assert_persisted(harness, job):
    """One jobs row and exactly the job's findings in PostgreSQL."""
    jid = job["job_id"]
    rows = harness.psql_rows(f"SELECT status, type, file_path FROM jobs WHERE job_id = '{jid}'")
    assert rows == [[job["status"], job["type"], job["file_path"]]], rows
    n = harness.psql_int(f"SELECT count(*) FROM findings WHERE job_id = '{jid}'")
    assert n == len(job["findings"]), (n, len(job["findings"]))
    db = {(r[0], int(r[1]), r[2]) for r in harness.psql_rows(
        f"SELECT rule_id, line, source FROM findings WHERE job_id = '{jid}'")}
    assert db == finding_keys(job)
    idx = [int(r[0]) for r in harness.psql_rows(
        f"SELECT idx FROM findings WHERE job_id = '{jid}' ORDER BY idx")]
    assert len(set(idx)) == len(idx), idx


def linter(job, tool):
    found = [lt for lt in job["linters"] if lt["tool"] == tool]
    assert len(found) == 1, f"linter {tool!r} not reported once: {job['linters']!r}"
    return found[0]


def test_python_findings(harness, fast_worker):
    job_id = harness.submit(file_path="app.py", file_content=PY_SAMPLE, request_type="review",
                            headers={"X-Request-Id": "e2e-python-1"})
    job = harness.poll_job(job_id, timeout=60)
    assert_job_shape(job)
    assert job["status"] == "done", job
    assert job["error"] is None
    assert job["type"] == "review"
    assert job["pool"] == "fast"
    assert isinstance(job["worker"], str) and job["worker"]
    assert job["attempts"] >= 1
    assert job["started_at"] and job["finished_at"]
    assert parse_time(job["created_at"]) <= parse_time(job["started_at"]) \
        <= parse_time(job["finished_at"])
    assert job["file_path"] == "app.py"
    assert job["request_id"] == "e2e-python-1"
    got = finding_keys(job)
    missing = PY_EXPECTED - got
    assert not missing, f"missing findings {sorted(missing)}; got {sorted(got)}"
    for tool in ("flake8", "pylint"):
        lt = linter(job, tool)
        assert lt["status"] == "ok", lt
    # every finding comes from a linter that ran
    tools = {f"lint:{lt['tool']}" for lt in job["linters"]}
    assert {f["source"] for f in job["findings"]} <= tools
    assert_persisted(harness, job)
    # the stream entry is acknowledged and deleted
    harness.wait_stream_drained(STREAM_FAST, GROUP_FAST)


def test_one_rule_on_one_line_twice_is_two_findings(harness, fast_worker):
    """flake8 reports F401 for both names of `import os, sys`: two issues, both kept.
    pylint's W0611 for each name, and its C0410 beside flake8's E401 (multiple
    imports on one line), are the same issues: shown once, flake8's."""
    job_id = harness.submit(file_path="two.py", file_content='"""Doc."""\nimport os, sys\n')
    job = harness.poll_job(job_id, timeout=60)
    assert job["status"] == "done", job
    f401 = sorted(f["message"] for f in job["findings"] if f["rule_id"] == "F401")
    assert len(f401) == 2 and "'os'" in f401[0] and "'sys'" in f401[1], f401
    rules = sorted(f["rule_id"] for f in job["findings"])
    assert rules == ["E401", "F401", "F401"], job["findings"]
    assert {lt["tool"]: lt["findings"] for lt in job["linters"]} == {"flake8": 3, "pylint": 3}
    assert_persisted(harness, job)


def test_the_clients_language_wins_over_the_extension(harness, fast_worker):
    """language names what the file is: an unknown one is kept and no linter runs
    (cppcheck is not run on COBOL because the path ends in .c); a known one
    chooses the linters whatever the extension."""
    job = harness.poll_job(harness.submit(file_path="q.c", file_content="DISPLAY 'HI'.\n",
                                          language="cobol"), timeout=60)
    assert job["status"] == "done", job
    assert job["language"] == "cobol" and job["linters"] == [], job
    assert any("language 'cobol' not recognised" in n for n in job["notes"]), job["notes"]
    job = harness.poll_job(harness.submit(file_path="run", file_content=SH_SAMPLE,
                                          language="shellscript"), timeout=60)
    assert job["status"] == "done", job
    assert job["language"] == "shell", job
    assert [lt["tool"] for lt in job["linters"]] == ["shellcheck"], job["linters"]


def test_request_id_in_worker_log(harness, fast_worker):
    job_id = harness.submit(file_path="rid.py", file_content=PY_SAMPLE,
                            headers={"X-Request-Id": "e2e-rid-in-log.42"})
    job = harness.poll_job(job_id)
    assert job["status"] == "done", job
    assert job["request_id"] == "e2e-rid-in-log.42"
    fast_worker.wait_for_log("job_done", job_id=job_id, timeout=10)
    lines = [r for r in fast_worker.logs() if r.get("job_id") == job_id]
    events = {r.get("event") for r in lines}
    assert {"job_started", "job_done"} <= events, lines
    for r in lines:
        assert r.get("request_id") == "e2e-rid-in-log.42", r


def test_shell_findings(harness, fast_worker):
    job_id = harness.submit(file_path="scripts/deploy.sh", file_content=SH_SAMPLE)
    job = harness.poll_job(job_id)
    assert_job_shape(job)
    assert job["status"] == "done", job
    assert job["pool"] == "fast"
    got = finding_keys(job)
    missing = SH_EXPECTED - got
    assert not missing, f"missing findings {sorted(missing)}; got {sorted(got)}"
    assert linter(job, "shellcheck")["status"] == "ok"
    assert all(f["source"] == "lint:shellcheck" for f in job["findings"]), job["findings"]
    assert_persisted(harness, job)


def test_a_linter_past_the_findings_cap_says_so(harness, fast_worker):
    """A run keeps at most LINTERS_FINDINGS_MAX (500) findings of a linter
    (worker/linters.h); the job's notes say the rest were dropped, so a
    user does not take the 500 for all (before: no note)."""
    script = "#!/bin/sh\n" + "".join(f"echo $v{i}\n" for i in range(600))
    job = harness.poll_job(harness.submit(file_path="scripts/many.sh", file_content=script))
    assert job["status"] == "done", job
    assert linter(job, "shellcheck")["findings"] == 500, job["linters"]
    assert "shellcheck stopped at 500 findings; any later ones were dropped" in job["notes"], \
        job["notes"]


def test_clean_python_has_no_findings(harness, fast_worker):
    job_id = harness.submit(file_path="clean.py", file_content=PY_CLEAN)
    job = harness.poll_job(job_id)
    assert_job_shape(job)
    assert job["status"] == "done", job
    assert job["findings"] == [], job["findings"]
    assert_persisted(harness, job)


def test_explicit_language(harness, fast_worker):
    # No extension: the language field decides.
    job_id = harness.submit(file_path="bin/tool", file_content=PY_SAMPLE, language="python")
    job = harness.poll_job(job_id)
    assert job["status"] == "done", job
    assert job["language"] == "python"
    assert {("F401", 1, "lint:flake8"), ("C0114", 1, "lint:pylint")} <= finding_keys(job)


def test_unknown_language(harness, fast_worker):
    job_id = harness.submit(file_path="notes/readme.xyz", file_content="hello world\n")
    job = harness.poll_job(job_id)
    assert_job_shape(job)
    assert job["status"] == "done", job
    assert job["findings"] == []
    assert job["notes"], "an unknown language should leave a note"
    assert job["error"] is None
    assert_persisted(harness, job)


def test_served_from_postgres_when_hot_copy_gone(harness, fast_worker):
    job_id = harness.submit(file_path="hot.py", file_content=PY_SAMPLE,
                            headers={"X-Request-Id": "e2e-hot-1"})
    before = harness.poll_job(job_id)
    assert before["status"] == "done", before
    assert harness.redis_cli("DEL", f"job:{job_id}") == "1"
    assert harness.redis_cli("EXISTS", f"job:{job_id}") == "0"
    status, after = harness.get_job(job_id)
    assert status == 200, after
    assert_job_shape(after)
    for k in ("created_at", "started_at", "finished_at"):
        # same instant; the textual precision may differ between the stores
        assert abs((parse_time(after[k]) - parse_time(before[k])).total_seconds()) < 1.0, \
            (k, before[k], after[k])
    strip = ("created_at", "started_at", "finished_at")
    assert {k: v for k, v in after.items() if k not in strip} == \
        {k: v for k, v in before.items() if k not in strip}
    # still served after a second look (no accidental one-shot fallback)
    status, again = harness.get_job(job_id)
    assert status == 200 and again["findings"] == before["findings"]


# A submitted file named like a linter's configuration must stay data: the
# linters run outside the sandbox, so loading it would run the user's code in
# the worker. Each file writes a marker if it is ever run, and carries a
# finding our own configuration reports (so the linter did run, with ours).
CONFIG_NAMED = [
    ("eslint.config.js", "javascript", "eslint", "no-unused-vars",
     "require('fs').writeFileSync({marker!r}, 'ran');\nmodule.exports = [];\n"
     "var unusedThing = 1;\n"),
    ("sub/eslint.config.cjs", "javascript", "eslint", "no-unused-vars",
     "require('fs').writeFileSync({marker!r}, 'ran');\nmodule.exports = [];\n"
     "var unusedThing = 1;\n"),
    ("pylintrc", "python", "pylint", "W0611",
     "import os  # [MAIN]\n# init-hook=open({marker!r}, 'w').write('ran')\n"
     "[MAIN]\ninit-hook=open({marker!r}, 'w').write('ran')\n"),
]


@pytest.mark.parametrize("path,language,tool,rule,src", CONFIG_NAMED,
                         ids=[c[0] for c in CONFIG_NAMED])
def test_config_named_files_never_run(harness, fast_worker, tmp_path, path, language, tool,
                                      rule, src):
    marker = str(tmp_path / "ran")
    job_id = harness.submit(file_path=path, file_content=src.format(marker=marker),
                            language=language)
    job = harness.poll_job(job_id, timeout=60)
    assert job["status"] == "done", job
    assert linter(job, tool)["status"] == "ok", job["linters"]
    assert not (tmp_path / "ran").exists(), f"{path} was run by {tool}"
    if tool == "eslint":
        assert any(f["rule_id"] == rule for f in job["findings"]), job["findings"]


def test_linters_run_in_a_sandbox(fast_worker):
    started = fast_worker.events("worker_started")
    assert started and started[0].get("lint_sandbox") == "ready", started
    # The launcher program beside the worker binary, not the worker again.
    assert started[0].get("launcher", "").endswith("/codeinsight-sandbox-exec"), started
    assert not fast_worker.events("lint_sandbox_unavailable")


def test_missing_linters_said_at_start(harness, fast_worker, tmp_path):
    """A linter the worker cannot find is named once when it starts, not
    only in every job's linters list."""
    assert not fast_worker.events("linters_missing"), fast_worker.events("linters_missing")
    w = harness.start_worker("fast", {"CODEINSIGHT_ESLINT_DIR": str(tmp_path / "none")})
    try:
        said = w.events("linters_missing")
        assert len(said) == 1 and said[0]["linters"] == "eslint", said
        assert said[0]["eslint_dir"] == str(tmp_path / "none"), said
    finally:
        w.stop()
    # Unsandboxed runs look in the worker's PATH.
    w = harness.start_worker("fast", {"CODEINSIGHT_LINT_SANDBOX": "0", "PATH": str(tmp_path)})
    try:
        said = w.events("linters_missing")
        assert len(said) == 1 and said[0]["linters"] == "flake8, pylint, shellcheck, cppcheck", said
    finally:
        w.stop()


def test_linters_cannot_read_the_workers_files(harness, fast_worker):
    """cppcheck follows an absolute #include: outside a sandbox, a submitted
    file could make it read a file of the worker's machine (here one that
    turns an index out of bounds), and the findings would tell."""
    d = tempfile.mkdtemp(dir="/var/tmp", prefix="ci-e2e-lint-")
    try:
        os.chmod(d, 0o755)
        hdr = os.path.join(d, "idx.h")
        with open(hdr, "w") as fp:
            fp.write("#define IDX 10\n")
        os.chmod(hdr, 0o644)
        src = (f'#include "{hdr}"\nint f(void)\n{{\n    int a[2] = {{0, 0}};\n'
               f'    return a[IDX];\n}}\n')
        job = harness.poll_job(harness.submit(file_path="m.c", file_content=src), timeout=60)
    finally:
        shutil.rmtree(d)
    assert job["status"] == "done", job
    assert linter(job, "cppcheck")["status"] == "ok", job["linters"]
    rules = {f["rule_id"] for f in job["findings"]}
    assert "constVariable" in rules, job["findings"]
    assert "arrayIndexOutOfBounds" not in rules, job["findings"]


def test_lint_lines_count_newlines_only(harness, fast_worker):
    """A stray carriage return inside a line (mixed line endings) does not
    end a line for the service: lines end at "\n" (worker/context.h,
    common/diff_filter.h), so "import os" is line 2 of this 2-line file.
    Python's linters read it with universal newlines, where "\r" ends a
    line, and would put their findings one line too far: past the file."""
    src = "y = 1\rz = 2\nimport os\n"
    job = harness.poll_job(harness.submit(file_path="cr.py", file_content=src), timeout=60)
    assert job["status"] == "done", job
    assert linter(job, "flake8")["status"] == "ok", job["linters"]
    f401 = [f for f in job["findings"] if f["rule_id"] == "F401"]
    assert [f["line"] for f in f401] == [2], job["findings"]
    assert all(f["line"] <= 2 for f in job["findings"]), job["findings"]


def test_cppcheck_findings_in_an_included_header_are_not_the_files(harness, fast_worker):
    """cppcheck reports what it finds in a header the file includes with that
    header's line numbers: such a finding (sds.h's constParameter on its line
    196) is not the submitted 3-line file's, on any line (lines past the end
    are moved to the last, so the line alone would not show it). hiredis'
    sds.h is installed with the build's dependencies."""
    hdr = "/usr/include/hiredis/sds.h"
    if not os.path.exists(hdr):
        pytest.skip(f"{hdr} is not installed")
    src = f'#include "{hdr}"\nint main(void)\n{{ return 0; }}\n'
    job = harness.poll_job(harness.submit(file_path="inc.c", file_content=src), timeout=60)
    assert job["status"] == "done", job
    assert linter(job, "cppcheck")["status"] == "ok", job["linters"]
    assert all(f["line"] <= 3 for f in job["findings"]), job["findings"]
    assert not [f for f in job["findings"] if f["rule_id"] == "constParameter"], job["findings"]


def test_a_finding_past_the_last_line_is_on_the_last(harness, fast_worker):
    """shellcheck puts "expected end of single quoted string" (SC1072) on
    line 2 of this 1-line script, a line the file does not have: it is
    reported on line 1, the last (worker/lint_lines.h)."""
    job = harness.poll_job(harness.submit(file_path="eof.sh", file_content="echo 'abc\n"),
                           timeout=60)
    assert job["status"] == "done", job
    assert linter(job, "shellcheck")["status"] == "ok", job["linters"]
    rules = {f["rule_id"]: f for f in job["findings"]}
    assert "SC1072" in rules, job["findings"]
    assert rules["SC1072"]["line"] == 1 and "column" not in rules["SC1072"], rules["SC1072"]
    assert all(f["line"] == 1 for f in job["findings"]), job["findings"]


def test_a_cpp_header_is_linted_as_cpp(harness, fast_worker):
    """A ".h" file is C by its name; one whose text is C++ (a class) is
    reviewed as C++: cppcheck run as C would call the class a syntax error
    (a major finding on valid code)."""
    src = ("#pragma once\nclass Point {\npublic:\n    int x() const { return x_; }\n"
           "private:\n    int x_ = 0;\n};\n")
    job = harness.poll_job(harness.submit(file_path="geo/point.h", file_content=src),
                           timeout=60)
    assert job["status"] == "done", job
    assert job["language"] == "cpp", job
    assert linter(job, "cppcheck")["status"] == "ok", job["linters"]
    assert not [f for f in job["findings"] if f["rule_id"] == "syntaxError"], job["findings"]


def test_worker_alive_at_end(fast_worker):
    assert fast_worker.alive(), fast_worker.tail()
