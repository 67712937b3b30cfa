"""ci_stats (GET /stats, migration 010) on the session's PostgreSQL: it reads
indexes, not tables. An operator may read /stats at their read rate (and
anyone else is refused only after a token was taken; test_operators.py), so
the jobs are counted by an index-only scan of (type, status) and this
month's charges summed from an index on month, once; and the month's sums
are this month's only. Over HTTP, by an operator, the route gives the same
document with the queue added.

The plan is the function's own, as auto_explain logs it (nested statements,
to the client as a NOTICE), with sequential scans priced out: the tables
here are small, and what is checked is that an index can answer each part,
not what the planner prefers for a few rows."""

import json
import os
import subprocess
import uuid

from harness import assert_problem

MONTH = "2099-01"       # no other test charges it


def stats_plan(harness) -> dict:
    """ci_stats(MONTH)'s plan (auto_explain, JSON)."""
    sql = ("LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; "
           "SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = notice; "
           "SET auto_explain.log_format = json; SET client_min_messages = notice; "
           f"SET enable_seqscan = off; SELECT ci_stats('{MONTH}');")
    env = dict(os.environ, PGPASSWORD=harness.pg_password, PGCONNECT_TIMEOUT="5")
    r = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h",
                        "127.0.0.1", "-p", str(harness.pg_port), "-U", "codeinsight", "-d",
                        "codeinsight", "-c", sql],
                       env=env, capture_output=True, text=True, timeout=30, check=True)
    plans = []
    for chunk in r.stderr.split("NOTICE:")[1:]:
        body = chunk[chunk.index("plan:") + len("plan:"):]
        plans.append(json.loads(body))
    inner = [p for p in plans if "FROM jobs" in p["Query Text"]]
    assert len(inner) == 1, r.stderr
    return inner[0]["Plan"]


def scans(node, table) -> list[dict]:
    """The plan's scans of table (a bitmap heap scan with its index scan)."""
    found = [node] if node.get("Relation Name") == table else []
    for child in node.get("Plans", []):
        found += scans(child, table)
    return found


def index_of(scan) -> tuple:
    """(index name, condition) a scan reads, through a bitmap's child too."""
    if scan["Node Type"] == "Bitmap Heap Scan":
        scan = scan["Plans"][0]
    return scan.get("Index Name"), scan.get("Index Cond", "")


def test_stats_reads_indexes_not_tables(harness):
    """The jobs by an index-only scan (the visibility map set, as autovacuum
    keeps it); the month's charges by the month's index, once."""
    harness.psql("VACUUM ANALYZE jobs")
    harness.psql("VACUUM ANALYZE token_charges")
    plan = stats_plan(harness)
    jobs = scans(plan, "jobs")
    assert [(s["Node Type"], s.get("Index Name")) for s in jobs] == \
        [("Index Only Scan", "jobs_type_status_idx")], jobs
    charges = scans(plan, "token_charges")
    assert len(charges) == 1, charges
    name, cond = index_of(charges[0])
    assert name == "token_charges_month_idx" and "month" in cond, charges


def test_stats_sums_this_months_charges_only(harness):
    user = str(uuid.uuid4())
    harness.psql(f"INSERT INTO users (user_id, email) VALUES ('{user}', 'stats-{user}@x.example')")
    try:
        for month, tokens, cost in ((MONTH, 1200, "0.012345"), (MONTH, 30, "0.5"),
                                    ("2099-02", 7000, "9")):
            harness.psql("INSERT INTO token_charges (job_id, user_id, month, tokens, cost_usd) "
                         f"VALUES (gen_random_uuid(), '{user}', '{month}', {tokens}, {cost})")
        got = json.loads(harness.psql(f"SELECT ci_stats('{MONTH}')"))
        assert (got["month"], got["tokens_this_month"]) == (MONTH, 1230), got
        assert got["cost_usd_this_month"] == 0.512345, got
        empty = json.loads(harness.psql("SELECT ci_stats('2098-12')"))
        assert (empty["tokens_this_month"], empty["cost_usd_this_month"]) == (0, 0), empty
    finally:
        harness.psql(f"DELETE FROM users WHERE user_id = '{user}'")


def test_the_route_is_ci_stats_for_operators_only(harness, gateway):
    """GET /stats by an operator is ci_stats of this month plus the queue;
    the default user, no operator, is refused (403 operator_only)."""
    assert_problem(harness.http("GET", "/stats"), 403, "operator_only")
    status, _, body = harness.http("GET", "/stats", auth=harness.operator_key())
    assert status == 200, body
    assert set(body.pop("queue")) == {"review_jobs", "review_jobs:heavy"}, body
    assert body == json.loads(harness.psql(f"SELECT ci_stats('{body['month']}')")), body
