#!/usr/bin/env bash
# End-to-end tests: pytest starts private Redis and PostgreSQL on free loopback
# ports in a temporary directory, runs the real binaries against them (and
# the fake model server for the model pipeline), and always tears everything
# down. The fake model server's own tests, the deploy-manifest checks and
# the bench's slice merging run first.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's interpreter, where `make deps` installed pytest.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# Arguments that name tests (tests/e2e/test_x.py, test_x.py::name) run only
# those; options alone (-x, -k expr) apply to the whole suite.
for a in "$@"; do
  case "$a" in tests/*) exec "$PY" -m pytest -p no:cacheprovider -q "$@" ;; esac
done
if [ $# -eq 0 ]; then
  "$PY" -m pytest -p no:cacheprovider -q tests/fake_llm
  "$PY" -m pytest -p no:cacheprovider -q tests/deploy
  "$PY" -m pytest -p no:cacheprovider -q tests/bench
fi
exec "$PY" -m pytest -p no:cacheprovider -q tests/e2e "$@"
