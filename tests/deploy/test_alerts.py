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
