"""The operator role (docs/operations.md, "Operators"; migration 011): a flag
per user, granted and revoked by `codeinsight-admin user-operator EMAIL
on|off`.

    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_operators.py
"""

import subprocess


def test_admin_user_operator_arguments(harness):
    """Exit status 0 done (again: harmless), 1 no such user, 2 usage; the
    email in any case; --help names it."""
    email, user_id, _ = harness.new_user(tag="opcli")
    row = f"SELECT operator FROM users WHERE user_id = '{user_id}'"
    r = harness.admin("user-operator", email.upper(), "on", check=False)
    assert r.returncode == 0, r.stderr
    assert "CODEINSIGHT_AUTH_CACHE_TTL" in r.stderr, r.stderr
    assert harness.psql(row) == "t"
    assert harness.admin("user-operator", email, "on", check=False).returncode == 0
    assert harness.psql(row) == "t"
    assert harness.admin("user-operator", email, "off", check=False).returncode == 0
    assert harness.psql(row) == "f"

    r = harness.admin("user-operator", "nobody-" + email, "on", check=False)
    assert r.returncode == 1 and "no user with this email" in r.stderr, r.stderr
    r = harness.admin("user-operator", "not-an-email", "on", check=False)
    assert r.returncode == 1 and "not a valid email address" in r.stderr, r.stderr
    for args in ((email, "yes"), (email, "ON"), (email,), (email, "on", "x")):
        r = harness.admin("user-operator", *args, check=False)
        assert r.returncode == 2, (args, r)
        assert "usage: codeinsight-admin" in r.stderr, (args, r.stderr)
    assert harness.psql(row) == "f"

    r = subprocess.run([str(harness.binary("codeinsight-admin")), "--help"], capture_output=True,
                       text=True, timeout=10, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and "user-operator EMAIL on|off" in r.stdout, r
