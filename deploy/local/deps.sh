#!/usr/bin/env bash
# Installs, with apt-get, only the Debian packages that are missing; silent
# and fast when everything is present. Used by `make deps` (and so by
# `make run` and `make test`).
set -euo pipefail

packages=(
  # toolchain and libraries
  gcc make pkg-config xxd python3 python3-yaml
  libmicrohttpd-dev libcurl4-openssl-dev libhiredis-dev libpq-dev
  libmongoc-dev libbson-dev libcjson-dev libssl-dev libsodium-dev libuv1-dev
  libcmocka-dev libseccomp-dev libjemalloc-dev
  # the Debug Doctor sandbox and what it runs
  bubblewrap
  # services started privately by `make run` and the tests
  redis-server redis-tools postgresql
  # linters the worker runs
  pylint flake8 shellcheck cppcheck
  # test tools
  python3-pytest python3-jwt python3-cryptography curl procps git
  # JSON-schema validation of the SARIF and rdjson exports (rfc3987: the
  # uri / uri-reference format checks, which otherwise pass silently)
  python3-jsonschema python3-rfc3987
  # load generator of `make bench`
  wrk
  # promtool (checks the /metrics exposition in the tests); the service it
  # ships is neither started nor enabled (below)
  prometheus
)

# Node.js for ESLint: whatever node the machine has (>= 18.18) will do.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# npm tools, each directory pinned by its package-lock.json: ESLint and its
# default config (run by the worker), and the test tools (the OpenAPI linter).
npm_dirs=(deploy/eslint tests/tools)
install_npm_tools() {
  local root d
  root="$(cd "$(dirname "$0")/../.." && pwd)"
  for d in "${npm_dirs[@]}"; do
    # An installed tree newer than its lock file is current.
    [ -d "$root/$d/node_modules" ] && [ "$root/$d/node_modules" -nt "$root/$d/package-lock.json" ] && continue
    echo "deps: installing npm tools in $d (npm ci)"
    (cd "$root/$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules)
  done
}

if [ ${#missing[@]} -eq 0 ]; then
  install_npm_tools
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "deps: missing packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
  fi
else
  SUDO=
fi

# Packages that ship a system service; `make run` and the tests start their
# own private instances, so the system's must not start now nor at boot.
services=(redis-server postgresql prometheus)

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Debian's policy-rc.d (invoke-rc.d and deb-systemd-invoke ask it) refuses
# every service start during the install: exit 101. One the machine already
# has is left in place.
policy=${DEPS_POLICY_RC_D:-/usr/sbin/policy-rc.d}   # tests point it elsewhere
if [ ! -e "$policy" ]; then
  $SUDO sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 0755 $policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# ... and what the install enabled for boot is disabled again (only the
# packages installed now: a service the machine had stays as it was).
if command -v systemctl >/dev/null 2>&1; then
  for p in "${missing[@]}"; do
    for s in "${services[@]}"; do
      if [ "$p" = "$s" ]; then
        $SUDO systemctl disable -q "$s" >/dev/null 2>&1 || true
      fi
    done
  done
fi
install_npm_tools
