"""A bad configuration stops the gateway and the workers before they serve.

Every variable of the configuration table (read from
`codeinsight-gateway --config-table`, so a new row is covered at once) is
given values of the wrong shape for its kind, one at a time, in each process
that reads it (gateway, worker, codeinsight-migrate, codeinsight-admin): the process must exit with status 2 (never a signal, never
keep running on a default), print only JSON lines, name the variable in an
error line (`variable`, or the start of `detail` for the checks made past
the table: REDIS_URL's parts, proxies, stress hosts, prices, prompts), never
echo a secret value, and never log that it started.

tests/unit/test_config.c walks the same table against the loader alone.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import subprocess

import pytest

from harness import REPO_ROOT, free_port

EXIT_TIMEOUT_S = 5

# Checks made past the loader, by the module that reads the value.
MODULE_BAD = {
    "REDIS_URL": ["http://127.0.0.1:6379/0", "redis://", "redis://h:notaport/0",
                  "redis://h:99999/0", "redis://h:6379/x"],
    "DATABASE_URL": ["db.example.com:5432"],
    "CODEINSIGHT_TRUSTED_PROXIES": ["garbage", "10.0.0.0/99"],
    "CODEINSIGHT_STRESS_ALLOWED_HOSTS": ["a b", "10.0.0.0/99", "host:80"],
    "CODEINSIGHT_LLM_PRICES": ["garbage", "m=a,b", "m=-1,2", "m=1"],
    "CODEINSIGHT_PROMPTS_DIR": ["/nonexistent/prompts"],
    "CODEINSIGHT_SCHEMA_DIR": ["/nonexistent/migrations", "/"],
    "CODEINSIGHT_MONGO_URL": ["mongodb://", "mongodb://u:secretpw@/x", "mongodb://h:notaport/"],
    "CODEINSIGHT_MONGO_DB": ["my.db", "a/b", "x" * 64],
}

# What each process runs as: a value wrongly taken shows as a gateway or
# worker that keeps running, a migration that runs (exit 0: the test
# database is migrated already) or an admin command that answers.
ARGV = {
    "gateway": ["codeinsight-gateway"],
    "worker": ["codeinsight-worker", "--pool", "heavy"],
    "migrate": ["codeinsight-migrate"],
    "admin": ["codeinsight-admin", "key-list", "nobody@example.com"],
}


def config_rows(harness) -> list[dict]:
    out = subprocess.run([str(harness.binary("codeinsight-gateway")), "--config-table"],
                         check=True, capture_output=True, text=True, timeout=10).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \| (.*) \|$",
                     line)
        if m:
            name, used, default, bounds, desc = (g.strip() for g in m.groups())
            rows.append({"name": name, "procs": {p.strip() for p in used.split(",")},
                         "default": default, "bounds": bounds,
                         "secret": "Secret:" in desc})
    assert len(rows) > 50, out[:2000]
    return rows


def bad_values(row: dict) -> list[str]:
    b = row["bounds"]
    vals: list[str] = []
    m = re.fullmatch(r"(-?\d+)\.\.(-?\d+)", b)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        vals += ["abc", "1.5", " 5", "+5", str(lo - 1), str(hi + 1), "99999999999999999999"]
    elif b == "IPv4 address":
        vals += ["localhost", "999.1.1.1", "::1"]
    elif b == "http(s) URL":
        vals += ["example.com", "ftp://example.com/", "http://"]
    elif b == "URL":
        vals += ["127.0.0.1:1"]
    elif b == "PostgreSQL URI":
        vals += ["127.0.0.1:5432", "postgresql://h/db?bogus=1"]
    elif "," in b:
        vals += ["bogus"]
    elif b.startswith(">= "):
        vals += ["tooShort7"]
    elif re.fullmatch(r"\d+\.\.\d+ bytes", b):
        vals += ["tooShort7", "x" * (int(b.split("..")[1].split()[0]) + 1)]
    vals += MODULE_BAD.get(row["name"], [])
    if row["default"] != "(empty)":
        vals.append("")
    return vals


def run_once(harness, proc: str, name: str, value: str) -> dict:
    env = harness.child_env({name: value, "CODEINSIGHT_LOG_LEVEL": "info"}
                            if name != "CODEINSIGHT_LOG_LEVEL" else {name: value})
    # A free port, so that a value wrongly taken shows as a gateway that runs.
    env["PORT"] = value if name == "PORT" else str(free_port())
    env.setdefault("CODEINSIGHT_KEY_PEPPER", "p" * 40)
    env.setdefault("CODEINSIGHT_JWT_SECRET", "j" * 40)
    argv = [str(harness.binary(ARGV[proc][0])), *ARGV[proc][1:]]
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=str(REPO_ROOT))
    try:
        out, err = p.communicate(timeout=EXIT_TIMEOUT_S)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        rc = None
    return {"proc": proc, "name": name, "value": value, "rc": rc,
            "out": out.decode(errors="replace"), "err": err.decode(errors="replace")}


def problems(r: dict, secret: bool) -> list[str]:
    what = f"{r['proc']} {r['name']}={r['value']!r}"
    if r["rc"] is None:
        return [f"{what}: still running after {EXIT_TIMEOUT_S}s (the value was taken)"]
    found = []
    if r["rc"] != 2:
        found.append(f"{what}: exit status {r['rc']}, not 2")
    lines, named = [], False
    for line in r["out"].splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            found.append(f"{what}: not a JSON line: {line[:200]!r}")
    for doc in lines:
        if str(doc.get("event", "")).endswith(("_started", "_stopped")):
            found.append(f"{what}: logged {doc['event']}")
        if doc.get("level") == "error" and (doc.get("variable") == r["name"] or str(
                doc.get("detail", "")).startswith(r["name"])):
            named = True
    if not named:
        found.append(f"{what}: no error line names it: {r['out'][-600:]!r}")
    if secret and len(r["value"]) >= 4 and r["value"] in r["out"] + r["err"]:
        found.append(f"{what}: the secret value was echoed")
    return found


@pytest.mark.parametrize("proc", list(ARGV))
def test_every_variable_refuses_bad_values(harness, proc):
    rows = [r for r in config_rows(harness) if proc in r["procs"]]
    cases = [(row, v) for row in rows for v in bad_values(row)]
    assert len(cases) > (100 if proc in ("gateway", "worker") else 5), len(cases)
    failures: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futs = [(row, pool.submit(run_once, harness, proc, row["name"], v))
                for row, v in cases]
        for row, fut in futs:
            failures += problems(fut.result(), row["secret"])
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures[:60])


def test_cross_checks(harness):
    """Values fine alone, wrong together: refused by the worker, the one
    process that calls a model (the gateway does not read these)."""
    r = run_once(harness, "worker", "CODEINSIGHT_LLM_PROVIDER", "openai")
    assert r["rc"] == 2, r
    assert "CODEINSIGHT_LLM_BASE_URL" in r["out"], r["out"][-600:]
