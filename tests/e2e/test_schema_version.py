"""The schema version a build needs, checked where the gateway and the
workers reach PostgreSQL, in both directions of a rolling deploy.

A database older than the build (its migrations not run): the gateway's
/readyz is 503 not_ready with checks.postgres "schema_outdated" and the
one-line reason, so that the load balancer keeps the replicas of the older
build; a worker takes no job. Both log postgres_schema_outdated and look
again, and are ready, taking jobs, once codeinsight-migrate has run: no
restart. A database newer than the build (the migrations of the next
release run first, replicas of this one still serve) is accepted.

Each test has a database of its own in the session's PostgreSQL, migrated
from a copy of schema/migrations; Redis is the session's."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness import REPO_ROOT, SCHEMA_DIR, assert_problem, wait_until

MIGRATE_TIMEOUT_S = 60
FILES = sorted(SCHEMA_DIR.glob("[0-9][0-9][0-9]_*.sql"))
NEEDED = int(FILES[-1].name.split("_", 1)[0])


@pytest.fixture
def own_db(harness):
    """(name, url) of an empty database, dropped at the end, after the
    gateways and workers of the test (the next test's jobs are not theirs)."""
    for db in harness.scratch_database("schema_"):
        try:
            yield db
        finally:
            harness.stop_procs()
            harness.reset_state()


def migrate(harness, url: str, schema_dir: Path) -> None:
    env = harness.child_env({"DATABASE_URL": url, "CODEINSIGHT_SCHEMA_DIR": str(schema_dir)})
    r = subprocess.run([str(harness.binary("codeinsight-migrate"))], env=env, cwd=str(REPO_ROOT),
                       capture_output=True, text=True, timeout=MIGRATE_TIMEOUT_S)
    assert r.returncode == 0, r.stdout + r.stderr


def older(tmp_path: Path) -> Path:
    """schema/migrations without its last migration."""
    d = tmp_path / "older"
    d.mkdir()
    for f in FILES[:-1]:
        shutil.copy(f, d / f.name)
    return d


def newer(tmp_path: Path) -> Path:
    """schema/migrations with one more migration, the next release's."""
    d = tmp_path / "newer"
    shutil.copytree(SCHEMA_DIR, d)
    (d / f"{NEEDED + 1:03d}_next_release.sql").write_text(
        "ALTER TABLE jobs ADD COLUMN next_release int;\n")
    return d


def outdated_reason(have: int) -> str:
    return (f"schema version {have} is older than the {NEEDED} this build needs: "
            "run codeinsight-migrate")


def copy_default_user(harness, dbname: str) -> None:
    """The session's default user, into dbname: jobs are stored with their
    owner."""
    row = harness.psql(f"SELECT row_to_json(u) FROM users u "
                       f"WHERE user_id = '{harness.default_user_id}'")
    harness.psql("INSERT INTO users SELECT * FROM json_populate_record(NULL::users, "
                 f"$j${row}$j$)", db=dbname)


def test_gateway_not_ready_on_an_older_schema_until_migrated(harness, own_db, tmp_path):
    name, url = own_db
    migrate(harness, url, older(tmp_path))
    gw = harness.start_gateway({"DATABASE_URL": url}, default=False)

    resp = gw.http("GET", "/readyz")
    body = assert_problem(resp, 503, "not_ready")
    assert body["checks"] == {"redis": "ok", "postgres": "schema_outdated"}, body
    assert body["detail"] == outdated_reason(NEEDED - 1), body
    line = gw.wait_for_log("postgres_schema_outdated")
    assert line["level"] == "error" and line["detail"] == outdated_reason(NEEDED - 1), line

    migrate(harness, url, SCHEMA_DIR)
    status, _, body = wait_until(lambda: (r := gw.http("GET", "/readyz"))[0] == 200 and r,
                                 timeout=15, desc="/readyz 200 once migrated")
    assert body == {"status": "ready", "checks": {"redis": "ok", "postgres": "ok"}}, body


def test_gateway_ready_on_a_newer_schema(harness, own_db, tmp_path):
    name, url = own_db
    migrate(harness, url, newer(tmp_path))
    gw = harness.start_gateway({"DATABASE_URL": url}, default=False)
    status, _, body = gw.http("GET", "/readyz")
    assert status == 200, body
    assert body == {"status": "ready", "checks": {"redis": "ok", "postgres": "ok"}}, body
    assert gw.events("postgres_schema_outdated") == []


def test_gateway_on_a_database_never_migrated(harness, own_db):
    name, url = own_db
    gw = harness.start_gateway({"DATABASE_URL": url}, default=False)
    body = assert_problem(gw.http("GET", "/readyz"), 503, "not_ready")
    assert body["checks"]["postgres"] == "schema_outdated", body
    assert body["detail"].startswith("cannot read the schema version ("), body
    assert "schema_migrations" in body["detail"], body
    assert body["detail"].endswith("): run codeinsight-migrate"), body


def worker_on(harness, own_db, schema_dir: Path):
    """A worker on own_db migrated from schema_dir, and a gateway on the
    session's database (the jobs' owner's) to submit to."""
    name, url = own_db
    migrate(harness, url, schema_dir)
    copy_default_user(harness, name)
    harness.start_gateway()
    return harness.start_worker(env_overrides={"DATABASE_URL": url})


def test_worker_takes_no_job_on_an_older_schema_until_migrated(harness, own_db, tmp_path):
    name, url = own_db
    w = worker_on(harness, own_db, older(tmp_path))
    line = w.wait_for_log("postgres_schema_outdated")
    assert line["level"] == "error" and line["detail"] == outdated_reason(NEEDED - 1), line

    job_id = harness.submit()
    # A look at the schema after the job was queued: still refused, and
    # the job was not taken.
    seen = len(w.events("postgres_schema_outdated"))
    wait_until(lambda: len(w.events("postgres_schema_outdated")) > seen, timeout=15,
               desc="the worker looks at the schema again")
    status, job = harness.get_job(job_id)
    assert status == 200 and job["status"] == "queued", job

    migrate(harness, url, SCHEMA_DIR)
    job = harness.poll_job(job_id)
    assert job["status"] == "done", job
    assert harness.psql(f"SELECT status FROM jobs WHERE job_id = '{job_id}'", db=name) == "done"


def test_worker_takes_jobs_on_a_newer_schema(harness, own_db, tmp_path):
    w = worker_on(harness, own_db, newer(tmp_path))
    job = harness.poll_job(harness.submit())
    assert job["status"] == "done", job
    assert w.events("postgres_schema_outdated") == []
