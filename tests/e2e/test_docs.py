"""The documentation states what the code does: the configuration table in
docs/configuration.md is the one the binaries print from their own table."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_config_table_matches_code(harness):
    out = subprocess.run([str(harness.binary("codeinsight-gateway")), "--config-table"],
                         check=True, capture_output=True, text=True, timeout=10).stdout
    doc = (ROOT / "docs" / "configuration.md").read_text()
    begin, end = "<!-- config-table:begin -->\n", "<!-- config-table:end -->"
    assert begin in doc and end in doc
    embedded = doc.split(begin, 1)[1].split(end, 1)[0]
    assert embedded == out, "docs/configuration.md is stale: paste `make config-doc` output"
    for name in ("PORT", "REDIS_URL", "DATABASE_URL", "CODEINSIGHT_BODY_MAX"):
        assert f"`{name}`" in out


def test_readme_names_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
