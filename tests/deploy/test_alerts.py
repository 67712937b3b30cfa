"""deploy/prometheus/alerts.yaml: valid rules (`promtool check rules`) that
behave as their unit tests say (`promtool test rules` on alerts_test.yaml:
each alert fires on the series that should raise it, with its labels and
rendered text, and stays quiet on those that should not). That every metric
and label they read is one the programs expose is checked against the
running gateway and worker: tests/e2e/test_metrics.py.

Run from the repo root:  /usr/bin/python3 -m pytest -q tests/deploy
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yaml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yaml"


def promtool(*args: str) -> subprocess.CompletedProcess:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is not installed (make deps installs the prometheus package)")
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)


def test_rules_are_valid():
    r = promtool("check", "rules", str(RULES))
    assert r.returncode == 0, r.stdout + r.stderr


def test_rules_behave_as_tested():
    r = promtool("test", "rules", str(RULE_TESTS))
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_alert_is_tested_and_described():
    """Each alert has a severity, a summary and a description, and its unit
    tests make it fire at least once."""
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    fired = {case["alertname"] for t in tests for case in t["alert_rule_test"]
             if case.get("exp_alerts")}
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule
        assert rule["alert"] in fired, f"{rule['alert']}: no unit test makes it fire"


def test_backlog_alert_fires_when_redis_cannot_tell_the_lag(tmp_path):
    """CodeInsightBacklog reads codeinsight_stream_lag only, and the gateway
    omits that gauge whenever XINFO GROUPS reports the lag as nil
    (gateway/scrape.c stream_gauges; docs/operations.md, "Metrics"). Redis
    7 reports nil as soon as an entry after the group's last-delivered id is
    deleted, and one is on every cancellation of a queued job
    (job_cancel.lua: XACK + XDEL of the undelivered entry): from then until
    the workers have read past it, i.e. for as long as the backlog ahead of
    it lasts, there is no lag series. Checked on redis-server 7.0.15:
    XADD 100, XREADGROUP COUNT 5, XDEL 50-0 -> lag nil, still nil after
    20 more reads, XLEN 94. The stream's length and pending gauges are
    there all along (undelivered = length - pending, as acknowledged
    entries are deleted): a 300-job backlog for 15 minutes must alert."""
    case = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": 'codeinsight_stream_length{stream="review_jobs",instance="gw1"}',
                 "values": "0 332x20"},
                {"series": 'codeinsight_stream_pending{stream="review_jobs",instance="gw1"}',
                 "values": "0 32x20"},
                {"series": 'codeinsight_queue_read_ok{instance="gw1"}',
                 "values": "1x20"},
            ],
            "alert_rule_test": [{
                "eval_time": "15m",
                "alertname": "CodeInsightBacklog",
                "exp_alerts": [{"exp_labels": {"severity": "warning",
                                               "stream": "review_jobs"}}],
            }],
        }],
    }
    path = tmp_path / "backlog_without_lag_test.yaml"
    path.write_text(yaml.safe_dump(case))
    r = promtool("test", "rules", str(path))
    out = r.stdout + r.stderr
    # The expectation names no annotations (their text is the rule's to
    # choose): a failure that only differs in them is an alert that fired.
    got = out.split("got:", 1)[1] if "got:" in out else ""
    fired = r.returncode == 0 or ('alertname="CodeInsightBacklog"' in got
                                  and 'stream="review_jobs"' in got)
    assert fired, ("a 300-job backlog without a lag series (Redis reports nil lag) raises "
                   "no CodeInsightBacklog:\n" + out)
