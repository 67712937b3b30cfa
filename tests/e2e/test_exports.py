"""GET /job/:id?format=sarif|rdjson (docs/formats.md): a finished review job
as a SARIF 2.1.0 log and as reviewdog's rdjson, each validated against the
official schema (tests/fixtures/sarif, tests/fixtures/rdjson) with
python3-jsonschema, format checks on; values checked against the job:
rule ids, levels, regions, fingerprints (stable when the code moves,
distinct across findings), and fixes whose replacements / suggestions,
applied, give exactly the fixed file. Served alike from PostgreSQL once the
Redis hot copy is gone. Errors: unknown format (400), a job not finished
(409), an architecture job (400), another user's job (404); a failed job is
a SARIF log whose invocation failed, and an empty rdjson.

The fake model (tests/fake_llm) answers the findings; the linters are real.

    bash tests/run-e2e.sh tests/e2e/test_exports.py
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import secrets
from pathlib import Path

import jsonschema
import pytest

from fakemodel import answer, module_fake
from harness import assert_problem

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((ROOT / "tests/fixtures/sarif/sarif-schema-2.1.0.json").read_text())
RDJSON_SCHEMA = json.loads((ROOT / "tests/fixtures/rdjson/DiagnosticResult.json").read_text())
ANTHROPIC_KEY = "sk-ant-e2e-" + secrets.token_urlsafe(24)
JOB_TIMEOUT = 60
INFO_URL = "https://codeinsight.example.test/docs"

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def format_checker() -> jsonschema.FormatChecker:
    """Every format jsonschema knows (the SARIF schema is draft-04 but uses
    draft-06's uri-reference), with uri / uri-reference really checked
    (python3-rfc3987) and date-time checked here (no validator package for
    it in Debian 12): a format nobody checks would pass anything."""
    checker = jsonschema.FormatChecker()
    assert {"uri", "uri-reference"} <= set(checker.checkers), \
        "uri checks are not active: install python3-rfc3987 (make deps)"
    checker.checks("date-time")(lambda s: not isinstance(s, str) or bool(RFC3339.match(s)))
    return checker


SARIF_VALIDATOR = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=format_checker())
RDJSON_VALIDATOR = jsonschema.Draft4Validator(RDJSON_SCHEMA, format_checker=format_checker())


def assert_valid(validator: jsonschema.Draft4Validator, doc) -> None:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def marker() -> str:
    return "e2e" + secrets.token_hex(8)


def source_of(m: str, pad: int = 0) -> str:
    return ("# moved\n" * pad +
            '"""Totals (%s)."""\n' % m +                 # 1
            "import os\n"                                # 2  flake8 F401
            "\n"                                         # 3
            "\n"                                         # 4
            "def total(values):\n"                       # 5
            "    unused = None\n"                        # 6  deleted by A's fix
            "    result = 0\n"                           # 7
            "    for value in values[1:]:\n"             # 8  A: multi-hunk fix
            "        result += value\n"                  # 9
            "    return result\n"                        # 10
            "\n"                                         # 11
            "\n"                                         # 12
            "def mean(values):\n"                        # 13
            '    """Average of the values."""\n'         # 14
            "    return total(values) / len(values)\n"   # 15 B: insertion fix
            "\n"                                         # 16
            "\n"                                         # 17
            "def first(values):\n"                       # 18
            '    """The first value."""\n'               # 19
            "    return values[0]\n")                    # 20 C: no fix


def fixed_a(src: str) -> str:
    return src.replace("    unused = None\n", "").replace("values[1:]", "values")


def fixed_b(src: str) -> str:
    return src.replace("    return total(values) / len(values)\n",
                       "    if not values:\n        return 0.0\n"
                       "    return total(values) / len(values)\n")


def unified(path: str, old: str, new: str, n: int) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}", n=n))


def model_findings(path: str, src: str, pad: int) -> list[dict]:
    # A: two hunks (n=0: the deletion of line 6 and the change of line 8),
    # both within 3 lines of the finding's lines (a fix changing lines
    # further away is dropped by the worker).
    fix_a = unified(path, src, fixed_a(src), 0)
    assert fix_a.count("@@ -") == 2, fix_a
    fix_b = unified(path, src, fixed_b(src), 1)
    return [
        {"line": 8 + pad, "end_line": 10 + pad, "severity": "major", "category": "correctness",
         "message": "The loop skips the first value.", "fix": fix_a, "confidence": 0.9},
        {"line": 15 + pad, "severity": "critical", "category": "correctness",
         "message": "mean() divides by zero for an empty list.", "fix": fix_b,
         "confidence": 0.8},
        {"line": 20 + pad, "severity": "info", "category": "correctness",
         "message": "first() raises IndexError for an empty list.", "confidence": 0.6},
    ]


# ------------------------------------------------------------------ fixtures --

@pytest.fixture(scope="module")
def fake_server(harness, _module_isolation):
    with module_fake(harness, "fake-llm-exports", (ANTHROPIC_KEY,)) as f:
        yield f


def llm_env(fake) -> dict:
    return {"CODEINSIGHT_LLM_PROVIDER": "anthropic", "CODEINSIGHT_LLM_BASE_URL": fake.base_url}


@pytest.fixture(scope="module")
def egw(harness, fake_server):
    return harness.start_gateway({"CODEINSIGHT_RATE_LIMIT_SCALE": "10000",
                                  "CODEINSIGHT_INFO_URL": INFO_URL, **llm_env(fake_server)},
                                 default=True)


@pytest.fixture(scope="module")
def jobs(harness, egw, fake_server):
    """Two review jobs of the same file, the second with every line two
    further down (and so the findings): {"a": (job, src), "b": (job, src)}."""
    fake_server.reset()
    m = marker()
    out = {}
    worker = harness.start_worker("fast", {**llm_env(fake_server), "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
                                           "CODEINSIGHT_LLM_TIMEOUT_MS": "5000",
                                           "CODEINSIGHT_READ_BLOCK_MS": "200"})
    try:
        for name, pad in (("a", 0), ("b", 2)):
            src = source_of(m, pad)
            fake_server.script([{"match": m, "times": 1,
                                 "text": answer(model_findings("src/app.py", src, pad))}])
            job_id = harness.submit(file_path="src/app.py", file_content=src)
            job = harness.poll_job(job_id, timeout=JOB_TIMEOUT)
            assert job["status"] == "done", job
            assert len([f for f in job["findings"] if f["source"] == "model"]) == 3, job["findings"]
            out[name] = (job, src)
    finally:
        worker.stop()
    return out


def export(harness, job_id, fmt, auth=None):
    kw = {} if auth is None else {"auth": auth}
    status, headers, body = harness.http("GET", f"/job/{job_id}?format={fmt}", **kw)
    return status, headers, body


def ctype(headers) -> str:
    return (headers.get("Content-Type") or "").split(";")[0].strip()


# --------------------------------------------------------------- applying --

def line_starts(text: str) -> list[int]:
    """Character offset of each line's start, plus one past the last newline."""
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def sarif_offset(text: str, line: int, column: int) -> int:
    return line_starts(text)[line - 1] + column - 1


def apply_sarif_fix(text: str, fix: dict) -> str:
    """The artifact after the fix's replacements (regions in the original)."""
    (change,) = fix["artifactChanges"]
    spans = []
    for r in change["replacements"]:
        d = r["deletedRegion"]
        start = sarif_offset(text, d["startLine"], d["startColumn"])
        end = sarif_offset(text, d["endLine"], d["endColumn"])
        spans.append((start, end, r.get("insertedContent", {}).get("text", "")))
    out = text
    for start, end, new in sorted(spans, reverse=True):
        out = out[:start] + new + out[end:]
    return out


def apply_rdjson(text: str, suggestions: list[dict]) -> str:
    """reviewdog's reading: without columns a range is line-wise, end line
    included, its last newline kept (an empty text removes the lines, as
    GitHub's empty suggestion does); start == end at column 1 inserts; a
    range by columns from column 1 to the column 1 of a later line (or past
    the end) replaces those whole lines with the text as it is."""
    lines = text.splitlines(keepends=True)
    edits = []
    for s in suggestions:
        st, en = s["range"]["start"], s["range"]["end"]
        if "column" in st:
            assert st["column"] == 1, s
            # Whole lines: to the next line's column 1, or to the end of
            # the last line.
            last = en["line"] - 1 if en["column"] == 1 else en["line"]
            edits.append((st["line"] - 1, last, s["text"]))
        else:
            edits.append((st["line"] - 1, en["line"], s["text"] + "\n" if s["text"] else ""))
    for a, b, new in sorted(edits, reverse=True):
        lines[a:b] = [new]
    return "".join(lines)


# ------------------------------------------------------------------- tests --

def test_schema_validation_is_not_a_rubber_stamp():
    """The validators reject what the schemas forbid, formats included."""
    good = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]}
    assert_valid(SARIF_VALIDATOR, good)
    bad_level = copy.deepcopy(good)
    bad_level["runs"][0]["results"] = [{"message": {"text": "m"}, "level": "fatal"}]
    bad_uri = copy.deepcopy(good)
    bad_uri["runs"][0]["results"] = [{"message": {"text": "m"}, "locations": [
        {"physicalLocation": {"artifactLocation": {"uri": "a b%zz"}}}]}]
    bad_time = copy.deepcopy(good)
    bad_time["runs"][0]["invocations"] = [{"executionSuccessful": True, "startTimeUtc": "yesterday"}]
    bad_region = copy.deepcopy(good)
    bad_region["runs"][0]["results"] = [{"message": {"text": "m"}, "locations": [
        {"physicalLocation": {"artifactLocation": {"uri": "a.py"}, "region": {"startLine": 0}}}]}]
    for doc in (bad_level, bad_uri, bad_time, bad_region, {"version": "2.0.0", "runs": []}):
        assert not SARIF_VALIDATOR.is_valid(doc), doc

    rd = {"source": {"name": "x"}, "diagnostics": [
        {"message": "m", "location": {"path": "a.py", "range": {"start": {"line": 1}}},
         "severity": "ERROR"}]}
    assert_valid(RDJSON_VALIDATOR, rd)
    bad_sev = copy.deepcopy(rd)
    bad_sev["diagnostics"][0]["severity"] = "FATAL"
    bad_line = copy.deepcopy(rd)
    bad_line["diagnostics"][0]["location"]["range"]["start"]["line"] = "1"
    for doc in (bad_sev, bad_line, {"diagnostics": {}}):
        assert not RDJSON_VALIDATOR.is_valid(doc), doc


def test_sarif(harness, jobs):
    job, src = jobs["a"]
    status, headers, log = export(harness, job["job_id"], "sarif")
    assert status == 200, log
    assert ctype(headers) == "application/sarif+json", headers
    assert_valid(SARIF_VALIDATOR, log)

    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "Code Insight" and driver["informationUri"] == INFO_URL, driver
    assert run["invocations"][0]["executionSuccessful"] is True
    results = run["results"]
    assert len(results) == len(job["findings"]), (results, job["findings"])

    rule_ids = [r["id"] for r in driver["rules"]]
    assert sorted(rule_ids) == sorted({f["rule_id"] for f in job["findings"]}), rule_ids
    levels = {"critical": "error", "major": "error", "minor": "warning", "info": "note"}
    for f, r in zip(job["findings"], results):
        assert r["ruleId"] == f["rule_id"] and rule_ids[r["ruleIndex"]] == f["rule_id"], (f, r)
        assert r["level"] == levels[f["severity"]], (f, r)
        assert r["message"]["text"] == f["message"], (f, r)
        assert r["properties"]["source"] == f["source"], (f, r)
        phys = r["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"] == {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"}, phys
        region = phys["region"]
        assert region["startLine"] == f["line"], (f, region)
        assert region.get("startColumn") == f.get("column"), (f, region)
        want_end = f.get("end_line") if f.get("end_line", 0) > f["line"] else None
        assert region.get("endLine") == want_end, (f, region)
        assert ("fixes" in r) == ("fix" in f), (f, r)

    by_line = {(r["properties"]["source"], r["locations"][0]["physicalLocation"]["region"]["startLine"]): r
               for r in results}
    f401 = by_line[("lint:flake8", 2)]
    assert f401["ruleId"] == "F401" and f401["level"] == "warning", f401
    a, b, c = by_line[("model", 8)], by_line[("model", 15)], by_line[("model", 20)]
    assert a["ruleId"] == "model:correctness" and a["level"] == "error", a
    assert a["locations"][0]["physicalLocation"]["region"]["endLine"] == 10, a
    assert c["level"] == "note" and "fixes" not in c, c

    # A: two hunks, a deletion and a replacement; B: a pure insertion.
    repl_a = a["fixes"][0]["artifactChanges"][0]["replacements"]
    assert len(repl_a) == 2, repl_a
    assert repl_a[0]["deletedRegion"] == {"startLine": 6, "startColumn": 1, "endLine": 7,
                                          "endColumn": 1}, repl_a
    assert "insertedContent" not in repl_a[0], repl_a
    assert repl_a[1]["deletedRegion"]["startLine"] == 8, repl_a
    assert repl_a[1]["insertedContent"]["text"] == "    for value in values:\n", repl_a
    (ins,) = b["fixes"][0]["artifactChanges"][0]["replacements"]
    assert ins["deletedRegion"] == {"startLine": 15, "startColumn": 1, "endLine": 15,
                                    "endColumn": 1}, ins
    assert ins["insertedContent"]["text"] == "    if not values:\n        return 0.0\n", ins
    # Applied, the replacements give exactly what the diff gives.
    assert apply_sarif_fix(src, a["fixes"][0]) == fixed_a(src)
    assert apply_sarif_fix(src, b["fixes"][0]) == fixed_b(src)

    # Fingerprints: one per finding, all different.
    fps = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    assert all(re.fullmatch(r"[0-9a-f]{16}:\d+", fp) for fp in fps), fps
    assert len(set(fps)) == len(fps), fps


def test_fingerprints_survive_moving(harness, jobs):
    """The same findings two lines further down keep their fingerprints."""
    logs = {}
    for name in ("a", "b"):
        status, _, log = export(harness, jobs[name][0]["job_id"], "sarif")
        assert status == 200, log
        logs[name] = {(r["ruleId"], r["message"]["text"]): r for r in log["runs"][0]["results"]}
    model_keys = [k for k, r in logs["a"].items() if r["properties"]["source"] == "model"]
    assert len(model_keys) == 3, model_keys
    common = set(logs["a"]) & set(logs["b"])
    assert set(model_keys) <= common and ("F401", "'os' imported but unused") in common, common
    for k in common:
        ra, rb = logs["a"][k], logs["b"][k]
        la = ra["locations"][0]["physicalLocation"]["region"]["startLine"]
        lb = rb["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert lb == la + 2, (k, la, lb)
        assert ra["partialFingerprints"] == rb["partialFingerprints"], (k, ra, rb)


def test_rdjson(harness, jobs):
    job, src = jobs["a"]
    status, headers, doc = export(harness, job["job_id"], "rdjson")
    assert status == 200, doc
    assert ctype(headers) == "application/json", headers
    assert_valid(RDJSON_VALIDATOR, doc)
    assert doc["source"] == {"name": "Code Insight", "url": INFO_URL}, doc["source"]
    diags = doc["diagnostics"]
    assert len(diags) == len(job["findings"])
    sev = {"critical": "ERROR", "major": "ERROR", "minor": "WARNING", "info": "INFO"}
    for f, d in zip(job["findings"], diags):
        assert d["message"] == f["message"] and d["severity"] == sev[f["severity"]], (f, d)
        assert d["location"]["path"] == "src/app.py", d
        assert d["location"]["range"]["start"]["line"] == f["line"], (f, d)
        assert d["code"]["value"] == f["rule_id"] and d["source"]["name"] == f["source"], (f, d)
        assert ("suggestions" in d) == ("fix" in f), (f, d)
    by_line = {(d["source"]["name"], d["location"]["range"]["start"]["line"]): d for d in diags}
    a, b = by_line[("model", 8)], by_line[("model", 15)]
    assert a["location"]["range"]["end"] == {"line": 10}, a
    assert a["suggestions"] == [
        {"range": {"start": {"line": 6}, "end": {"line": 6}}, "text": ""},
        {"range": {"start": {"line": 8}, "end": {"line": 8}}, "text": "    for value in values:"},
    ], a["suggestions"]
    assert b["suggestions"] == [
        {"range": {"start": {"line": 15, "column": 1}, "end": {"line": 15, "column": 1}},
         "text": "    if not values:\n        return 0.0\n"}], b["suggestions"]
    assert apply_rdjson(src, a["suggestions"]) == fixed_a(src)
    assert apply_rdjson(src, b["suggestions"]) == fixed_b(src)


def test_same_from_postgres(harness, jobs):
    """Once the hot copy is gone the exports come from PostgreSQL, alike."""
    job, _ = jobs["b"]
    jid = job["job_id"]
    hot = {fmt: export(harness, jid, fmt)[2] for fmt in ("sarif", "rdjson")}
    assert harness.redis_int("DEL", f"job:{jid}") == 1
    for fmt, validator in (("sarif", SARIF_VALIDATOR), ("rdjson", RDJSON_VALIDATOR)):
        status, headers, cold = export(harness, jid, fmt)
        assert status == 200, cold
        assert_valid(validator, cold)
        if fmt == "sarif":
            def comparable(log):
                rs = copy.deepcopy(log["runs"][0]["results"])
                for r in rs:
                    r["properties"].pop("confidence", None)     # real in PostgreSQL
                return rs, log["runs"][0]["tool"]["driver"]["rules"]
            assert comparable(cold) == comparable(hot[fmt])
            assert ctype(headers) == "application/sarif+json"
        else:
            assert cold == hot[fmt]


def test_format_errors(harness, egw, jobs):
    job, _ = jobs["a"]
    jid = job["job_id"]
    for query in ("format=xml", "format=SARIF", "format=", "format"):
        p = assert_problem(harness.http("GET", f"/job/{jid}?{query}"), 400,
                           "invalid_field_value", field="format")
        assert "sarif" in p["detail"], p
    # json, explicitly or by default: the view itself.
    s1, h1, plain = harness.http("GET", f"/job/{jid}")
    s2, h2, as_json = harness.http("GET", f"/job/{jid}?format=json")
    assert s1 == s2 == 200 and plain == as_json and ctype(h2) == "application/json"
    # Another user's job is no job, whatever the format.
    _, _, other_key = harness.new_user()
    for fmt in ("sarif", "rdjson"):
        assert_problem(export(harness, jid, fmt, auth=other_key), 404, "job_not_found")


def test_unfinished_and_architecture_jobs(harness, egw, jobs):
    """No worker runs here: the jobs stay queued."""
    harness.stop_workers()
    jid = harness.submit(file_path="q.py", file_content=f"x = 1  # {marker()}\n")
    for fmt in ("sarif", "rdjson"):
        resp = export(harness, jid, fmt)
        p = assert_problem(resp, 409, "job_not_done")
        assert p["status"] == 409 and p["job_status"] == "queued", p
        assert resp[1].get("Retry-After") == "1", resp[1]
        assert "queued" in p["detail"], p
    arch = harness.submit(file_path="a.md", file_content="# design\n",
                          request_type="architecture", user_request=f"a queue {marker()}")
    assert_problem(export(harness, arch, "sarif"), 400, "invalid_field_value", field="format")
    # json stays available for both.
    assert harness.http("GET", f"/job/{jid}?format=json")[0] == 200


def test_failed_job(harness, jobs):
    """A failed job (made so by hand: reviews degrade rather than fail) is a
    SARIF log with an unsuccessful invocation and the error, and an empty
    rdjson; from Redis and from PostgreSQL."""
    job, _ = jobs["b"]
    jid = job["job_id"]
    error = "worker gave up after 3 attempts"
    harness.psql(f"UPDATE jobs SET status = 'failed', error = '{error}' WHERE job_id = '{jid}'")
    for where in ("postgres", "redis"):
        if where == "redis":
            harness.redis_cli("HSET", f"job:{jid}", "type", "review", "status", "failed",
                              "error", error, "user_id", job["user_id"],
                              "file_path", "src/app.py")
        status, headers, log = export(harness, jid, "sarif")
        assert status == 200, (where, log)
        assert_valid(SARIF_VALIDATOR, log)
        inv = log["runs"][0]["invocations"][0]
        assert inv["executionSuccessful"] is False, (where, inv)
        assert {"level": "error", "message": {"text": error}} in inv["toolExecutionNotifications"], inv
        assert log["runs"][0]["results"] == [], (where, log)
        status, _, doc = export(harness, jid, "rdjson")
        assert status == 200, (where, doc)
        assert_valid(RDJSON_VALIDATOR, doc)
        assert doc["diagnostics"] == [], (where, doc)
