"""Runs last (file order): no API key, password, JWT or server secret that
any test of the session used appears in any log the harness captured —
gateways, workers, admin runs, Redis and PostgreSQL."""


def test_no_secret_in_any_log(harness):
    # Every gateway and worker of the session has exited (module isolation
    # stopped them), so their logs are complete.
    assert not any(p.alive() for p in harness.procs)
    files = harness.log_files()
    names = " ".join(f.name for f in files)
    assert "gateway" in names and "admin" in names, names
    assert harness.default_key in harness.secrets and harness.jwt_secret in harness.secrets
    leaks = harness.secrets_in_logs()
    assert not leaks, "secrets in logs:\n" + "\n".join(f"{f}: {what}" for f, what in leaks)
