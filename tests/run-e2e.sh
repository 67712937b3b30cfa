#!/usr/bin/env bash
# End-to-end tests: pytest starts private Redis and PostgreSQL on free loopback
# ports in a temporary directory, runs the real binaries against them, and
# always tears everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's interpreter, where `make deps` installed pytest.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
exec "$PY" -m pytest -p no:cacheprovider -q tests/e2e "$@"
