"""codeinsight-migrate on a database of its own (created for this module in
the session's PostgreSQL, dropped after it): every migration applied from
an empty database, once; a run with nothing new applies nothing; and what
it must refuse, it refuses without changing anything: a migration edited
after it was applied, one that fails half-way (its transaction rolled
back), two files sharing a version.

The release step of every deployment runs this program (deploy/), so its
refusals are what stands between a bad schema change and production."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import REPO_ROOT, SCHEMA_DIR, wait_until

MIGRATE_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def db(harness):
    """(name, url) of an empty database the module's tests share, in order."""
    yield from harness.scratch_database("mig_")


@pytest.fixture
def own_db(harness):
    """An empty database for one test."""
    yield from harness.scratch_database("mig_")


def migrate(harness, url: str, schema_dir: Path,
            env_extra: dict | None = None) -> tuple[int, list[dict]]:
    """Runs codeinsight-migrate; its exit status and its JSON log lines."""
    env = harness.child_env({"DATABASE_URL": url, "CODEINSIGHT_SCHEMA_DIR": str(schema_dir),
                             **(env_extra or {})})
    r = subprocess.run([str(harness.binary("codeinsight-migrate"))], env=env, cwd=str(REPO_ROOT),
                       capture_output=True, text=True, timeout=MIGRATE_TIMEOUT_S)
    lines = [json.loads(x) for x in (r.stdout + r.stderr).splitlines() if x.startswith("{")]
    return r.returncode, lines


def event(lines: list[dict], name: str) -> dict:
    found = [x for x in lines if x.get("event") == name]
    assert len(found) == 1, (name, lines)
    return found[0]


def versions(harness, dbname: str) -> list[int]:
    out = harness.psql("SELECT version FROM schema_migrations ORDER BY version", db=dbname)
    return [int(v) for v in out.split()]


def has_table(harness, dbname: str, table: str) -> bool:
    return harness.psql(f"SELECT to_regclass('{table}') IS NOT NULL", db=dbname) == "t"


def schema_copy(tmp_path: Path) -> Path:
    d = tmp_path / "migrations"
    shutil.copytree(SCHEMA_DIR, d)
    return d


def test_from_empty_then_nothing_new(harness, db):
    name, url = db
    files = sorted(p.name for p in SCHEMA_DIR.glob("[0-9][0-9][0-9]_*.sql"))
    rc, lines = migrate(harness, url, SCHEMA_DIR)
    assert rc == 0, lines
    assert event(lines, "migrate_done")["applied"] == len(files), lines
    applied = [x["name"] for x in lines if x.get("event") == "migration_applied"]
    assert applied == files, lines
    assert versions(harness, name) == [int(f[:3]) for f in files]
    # The schema works: the jobs table takes the statuses the code writes.
    assert harness.psql(db=name, sql="SELECT count(*) FROM jobs") == "0"

    rc, lines = migrate(harness, url, SCHEMA_DIR)
    assert rc == 0 and event(lines, "migrate_done")["applied"] == 0, lines


def test_an_edited_migration_is_refused(harness, db, tmp_path):
    name, url = db
    before = versions(harness, name)
    d = schema_copy(tmp_path)
    last = sorted(d.glob("[0-9][0-9][0-9]_*.sql"))[-1]
    last.write_text(last.read_text() + "\n-- an afterthought\n")
    (d / "999_new.sql").write_text("CREATE TABLE e2e_after_edit (x int);\n")
    rc, lines = migrate(harness, url, d)
    assert rc == 1, lines
    failed = event(lines, "migrate_failed")
    assert f"{last.name} was changed after it was applied; add a new migration instead" in \
        json.dumps(failed), failed
    # Nothing after it ran.
    assert versions(harness, name) == before
    assert not has_table(harness, name, "e2e_after_edit")


def test_a_failing_migration_is_rolled_back(harness, db, tmp_path):
    name, url = db
    before = versions(harness, name)
    d = schema_copy(tmp_path)
    (d / "998_broken.sql").write_text("CREATE TABLE e2e_half (x int);\nSELECT 1 / 0;\n")
    rc, lines = migrate(harness, url, d)
    assert rc == 1, lines
    failed = json.dumps(event(lines, "migrate_failed"))
    assert "998_broken.sql" in failed and "division by zero" in failed, failed
    assert versions(harness, name) == before and not has_table(harness, name, "e2e_half")

    # Fixed, it applies, once.
    (d / "998_broken.sql").write_text("CREATE TABLE e2e_half (x int);\n")
    rc, lines = migrate(harness, url, d)
    assert rc == 0 and event(lines, "migrate_done")["applied"] == 1, lines
    assert versions(harness, name) == before + [998]
    assert has_table(harness, name, "e2e_half")


def test_two_files_with_one_version_are_refused(harness, db, tmp_path):
    name, url = db
    before = versions(harness, name)
    d = schema_copy(tmp_path)
    (d / "997_a.sql").write_text("CREATE TABLE e2e_a (x int);\n")
    (d / "997_b.sql").write_text("CREATE TABLE e2e_b (x int);\n")
    rc, lines = migrate(harness, url, d)
    # The files are the operator's to fix: a configuration error (2).
    assert rc == 2, lines
    detail = json.dumps(event(lines, "migrate_config_invalid"))
    assert "two migrations share version 997" in detail, detail
    assert versions(harness, name) == before


def test_concurrent_runs_apply_each_migration_once(harness, tmp_path):
    """Several replicas' release steps starting at once on an empty
    database (a platform that runs the migration on each instance): the
    advisory lock makes them take turns, so each file is applied by exactly
    one of them, and the others find nothing left to do."""
    name = "mig_" + secrets.token_hex(4)
    harness.psql(f"CREATE DATABASE {name}")
    base, _, _ = harness.database_url.rpartition("/")
    url = f"{base}/{name}"
    files = sorted(p.name for p in SCHEMA_DIR.glob("[0-9][0-9][0-9]_*.sql"))
    try:
        env = harness.child_env({"DATABASE_URL": url, "CODEINSIGHT_SCHEMA_DIR": str(SCHEMA_DIR)})
        procs = [subprocess.Popen([str(harness.binary("codeinsight-migrate"))], env=env,
                                  cwd=str(REPO_ROOT), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(4)]
        outs = [p.communicate(timeout=MIGRATE_TIMEOUT_S)[0] for p in procs]
        applied = []
        for p, out in zip(procs, outs):
            lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
            assert p.returncode == 0, lines
            applied += [x["name"] for x in lines if x.get("event") == "migration_applied"]
        assert sorted(applied) == files
        assert versions(harness, name) == [int(f[:3]) for f in files]
    finally:
        harness.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", check=False)


def test_a_migration_older_than_the_last_applied_is_refused(harness, own_db, tmp_path):
    """A branch merged late brings 994_x.sql after 995_y.sql was applied:
    applying it now would run it in another order than everywhere it was
    tested. Refused (as Flyway does), naming both files; nothing applied."""
    name, url = own_db
    d = schema_copy(tmp_path)
    (d / "995_ahead.sql").write_text("CREATE TABLE e2e_ahead (x int);\n")
    rc, lines = migrate(harness, url, d)
    assert rc == 0, lines
    before = versions(harness, name)
    (d / "994_late.sql").write_text("CREATE TABLE e2e_late (x int);\n")
    rc, lines = migrate(harness, url, d)
    assert rc == 1, lines
    failed = json.dumps(event(lines, "migrate_failed"))
    assert "994_late.sql" in failed and "995_ahead.sql" in failed, failed
    assert "CODEINSIGHT_MIGRATE_OUT_OF_ORDER" in failed, failed
    assert versions(harness, name) == before and not has_table(harness, name, "e2e_late")

    # Asked for (it was applied elsewhere in that order), it is applied.
    env = {"CODEINSIGHT_MIGRATE_OUT_OF_ORDER": "1"}
    rc, lines = migrate(harness, url, d, env)
    assert rc == 0 and event(lines, "migrate_done")["applied"] == 1, lines
    assert event(lines, "migration_out_of_order")["name"] == "994_late.sql", lines
    assert sorted(versions(harness, name)) == sorted(before + [994])
    assert has_table(harness, name, "e2e_late")


def hold_lock(harness, dbname: str, table: str) -> subprocess.Popen:
    """A session of psql holding ACCESS SHARE on table in an open
    transaction (a long read of live traffic); returns once PostgreSQL shows
    the lock granted. Ending the process ends the transaction."""
    env = dict(harness.child_env(), PGPASSWORD=harness.pg_password)
    p = subprocess.Popen(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(harness.pg_port),
                          "-U", "codeinsight", "-d", dbname],
                         env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, text=True)
    assert p.stdin is not None
    p.stdin.write(f"BEGIN;\nLOCK TABLE {table} IN ACCESS SHARE MODE;\n")
    p.stdin.flush()
    sql = (f"SELECT count(*) FROM pg_locks WHERE relation = to_regclass('{table}')"
           " AND mode = 'AccessShareLock' AND granted")
    wait_until(lambda: harness.psql(sql, db=dbname) == "1", timeout=15,
               desc=f"psql holds a lock on {table}")
    return p


def release(p: subprocess.Popen) -> None:
    assert p.stdin is not None
    p.stdin.close()
    p.wait(timeout=15)


def test_a_migration_waiting_for_a_lock_gives_up_and_applies_later(harness, own_db, tmp_path):
    """A migration needing ACCESS EXCLUSIVE on a table that live traffic
    holds would queue behind it, and every query of that table behind the
    migration: it waits CODEINSIGHT_MIGRATE_LOCK_TIMEOUT_MS at most, then
    fails cleanly (rolled back, not recorded) saying what to do; run again
    once the lock is gone, it applies."""
    name, url = own_db
    d = schema_copy(tmp_path)
    rc, lines = migrate(harness, url, d)
    assert rc == 0, lines
    before = versions(harness, name)
    (d / "990_alter.sql").write_text("CREATE TABLE e2e_other (x int);\n"
                                     "ALTER TABLE jobs ADD COLUMN e2e_extra int;\n")
    env = {"CODEINSIGHT_MIGRATE_LOCK_TIMEOUT_MS": "300"}
    holder = hold_lock(harness, name, "jobs")
    try:
        rc, lines = migrate(harness, url, d, env)
    finally:
        release(holder)
    assert rc == 1, lines
    failed = event(lines, "migrate_failed")
    text = json.dumps(failed)
    assert failed["code"] == "timeout", failed
    assert "990_alter.sql" in text and "CODEINSIGHT_MIGRATE_LOCK_TIMEOUT_MS" in text, text
    assert "run codeinsight-migrate again" in text, text
    assert versions(harness, name) == before
    assert not has_table(harness, name, "e2e_other")

    rc, lines = migrate(harness, url, d, env)
    assert rc == 0 and event(lines, "migrate_done")["applied"] == 1, lines
    assert versions(harness, name) == before + [990]
    assert harness.psql("SELECT count(*) FROM information_schema.columns WHERE "
                        "table_name = 'jobs' AND column_name = 'e2e_extra'", db=name) == "1"
