"""The optional MongoDB job-history sink (CODEINSIGHT_MONGO_URL).

No MongoDB server can be installed on these machines, so what is checked
here is what an operator relies on without one: a sink whose MongoDB is
down never costs a job (PostgreSQL holds it, the client gets it), the
failure is logged and counted, and a bad connection string stops the worker
at start. The document mapping is unit-tested (tests/unit/test_history_doc.c)
and the round trip through a real server runs in tests/unit/test_mongo_sink.c
when CODEINSIGHT_MONGO_URL is set.
"""

import subprocess

from harness import PY_SAMPLE, REPO_ROOT, free_port, http_request

# Nothing listens on port 1 of the loopback: connecting is refused at once.
PASSWORD = "pw-never-logged"
CLOSED = f"mongodb://history:{PASSWORD}@127.0.0.1:1/?serverSelectionTimeoutMS=200"


def test_history_down_costs_no_job(harness, gateway, clean_state):
    port = free_port()
    w = harness.start_worker("fast", {"CODEINSIGHT_MONGO_URL": CLOSED,
                                      "CODEINSIGHT_METRICS_PORT": str(port)})
    started = w.events("worker_started")
    assert started and started[0]["history"] == "mongodb", started
    config = w.events("config")
    assert config[0]["CODEINSIGHT_MONGO_URL"] == "mongodb://history:***@127.0.0.1:1/" \
        "?serverSelectionTimeoutMS=200", config
    # Every outcome reads 0 before the first write, so that the first loss
    # is an increase an alert sees (deploy/prometheus/alerts.yaml).
    status, _, text = http_request("127.0.0.1", port, "GET", "/metrics")
    assert status == 200
    for outcome in ("written", "failed", "dropped"):
        assert f'codeinsight_history_writes_total{{outcome="{outcome}"}} 0\n' in text, text
    job_id = harness.submit(file_path="app.py", file_content=PY_SAMPLE)
    job = harness.poll_job(job_id, timeout=60)
    assert job["status"] == "done", job
    assert harness.psql_int(f"SELECT count(*) FROM jobs WHERE job_id = '{job_id}'") == 1
    # Four attempts, 0.5, 1 and 2 s apart, then given up, logged and counted.
    failed = w.wait_for_log("history_write_failed", timeout=30, job_id=job_id)
    assert failed["attempts"] == 4, failed
    status, _, text = http_request("127.0.0.1", port, "GET", "/metrics")
    assert status == 200
    assert 'codeinsight_history_writes_total{outcome="failed"} 1' in text, text
    assert w.alive(), w.tail()
    assert PASSWORD not in w.output()


def test_bad_connection_string_stops_the_worker(harness):
    for name, value in (("CODEINSIGHT_MONGO_URL", "mongodb://u:pw-not-shown@/x"),
                        ("CODEINSIGHT_MONGO_URL", "mongodb://h:notaport/"),
                        ("CODEINSIGHT_MONGO_DB", "my.db")):
        env = harness.child_env({name: value})
        r = subprocess.run([str(harness.binary("codeinsight-worker")), "--pool", "fast"],
                           env=env, cwd=str(REPO_ROOT), capture_output=True, text=True,
                           timeout=15)
        assert r.returncode == 2, (name, value, r.stdout[-800:])
        assert '"event":"worker_config_invalid"' in r.stdout, r.stdout[-800:]
        assert f'"detail":"{name} is not' in r.stdout, r.stdout[-800:]
        assert "pw-not-shown" not in r.stdout + r.stderr


def test_no_shared_memory_left_behind(harness, gateway):
    """libmongoc maps a shared-memory segment for its counters when the
    worker starts, whether the history is on or not, and removes its name
    only at a clean exit. The worker removes the name at once, so that a
    worker killed outright leaves nothing in /dev/shm (where a later
    process with the same pid would print a warning outside the JSON log)."""
    import signal
    from pathlib import Path
    for env in ({}, {"CODEINSIGHT_MONGO_URL": CLOSED}):
        w = harness.start_worker("fast", env)
        shm = Path(f"/dev/shm/mongoc-{w.pid}")
        assert w.events("worker_started"), w.tail()
        assert not shm.exists(), f"{shm} exists while the worker runs"
        w.kill()
        assert w.returncode == -signal.SIGKILL, w.returncode
        assert not shm.exists(), f"{shm} left behind"
        assert all(line.startswith("{") for line in w.output().splitlines()), w.output()
