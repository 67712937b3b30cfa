"""deploy/local/deps.sh installs without starting or enabling the system's
services: `make run` and the tests start private Redis and PostgreSQL, and
the README promises the system's are never touched.

apt-get, dpkg-query and systemctl are stand-ins on PATH that record what
they are asked; the install runs as it would, with DEPS_POLICY_RC_D
pointing the policy-rc.d it writes into a temporary directory.

Run from the repo root:  /usr/bin/python3 -m pytest -q tests/deploy
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPS = ROOT / "deploy" / "local" / "deps.sh"

# dpkg-query: every package is installed but those in $MISSING.
DPKG_QUERY = """#!/bin/sh
for a; do pkg=$a; done
for m in $MISSING; do [ "$m" = "$pkg" ] && exit 1; done
printf 'install ok installed'
"""
# apt-get: records each call, and during "install" what policy-rc.d says.
APT_GET = """#!/bin/sh
echo "apt-get $*" >> "$LOG"
if [ "$1" = install ] || [ "$2" = install ] || [ "$3" = install ]; then
  if [ -x "$DEPS_POLICY_RC_D" ]; then
    "$DEPS_POLICY_RC_D" redis-server start; echo "policy-rc.d says $?" >> "$LOG"
  else
    echo "no policy-rc.d" >> "$LOG"
  fi
fi
"""
SYSTEMCTL = """#!/bin/sh
echo "systemctl $*" >> "$LOG"
"""


def run_deps(tmp_path: Path, missing: str, policy_exists: bool = False) -> tuple[str, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("dpkg-query", DPKG_QUERY), ("apt-get", APT_GET),
                       ("systemctl", SYSTEMCTL)):
        p = bin_dir / name
        p.write_text(text)
        p.chmod(0o755)
    log = tmp_path / "log"
    log.touch()
    policy = tmp_path / "policy-rc.d"
    if policy_exists:
        policy.write_text("#!/bin/sh\nexit 0\n")
        policy.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", LOG=str(log),
               MISSING=missing, DEPS_POLICY_RC_D=str(policy))
    r = subprocess.run(["bash", str(DEPS)], env=env, cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return log.read_text(), policy


def test_install_refuses_service_starts_and_disables_what_it_enabled(tmp_path):
    log, policy = run_deps(tmp_path, "redis-server wrk")
    assert "apt-get install" in log or " install " in log, log
    assert "policy-rc.d says 101" in log, log          # every start refused
    assert not policy.exists(), "the temporary policy-rc.d was left behind"
    assert "systemctl disable -q redis-server" in log, log
    # Only what this install brought in: postgresql was there already.
    assert "postgresql" not in log.split("apt-get install", 1)[1].split("\n", 1)[0], log
    assert "disable -q postgresql" not in log and "disable -q prometheus" not in log, log


def test_a_policy_the_machine_has_is_left_alone(tmp_path):
    log, policy = run_deps(tmp_path, "wrk", policy_exists=True)
    assert "policy-rc.d says 0" in log, log
    assert policy.read_text() == "#!/bin/sh\nexit 0\n"
    assert "systemctl" not in log, log                # wrk ships no service


def test_nothing_missing_installs_nothing(tmp_path):
    log, _ = run_deps(tmp_path, "")
    assert "apt-get" not in log, log
