#!/usr/bin/env bash
# Installs, with apt-get, only the Debian packages that are missing; silent
# and fast when everything is present. Used by `make deps` (and so by
# `make run` and `make test`).
set -euo pipefail

packages=(
  # toolchain and libraries
  gcc make pkg-config xxd
  libmicrohttpd-dev libcurl4-openssl-dev libhiredis-dev libpq-dev
  libmongoc-dev libbson-dev libcjson-dev libssl-dev libsodium-dev libuv1-dev
  libcmocka-dev libseccomp-dev
  # the Debug Doctor sandbox and what it runs
  bubblewrap
  # services started privately by `make run` and the tests
  redis-server redis-tools postgresql
  # linters the worker runs
  pylint flake8 shellcheck cppcheck
  # test tools
  python3 python3-pytest python3-jwt python3-cryptography python3-yaml curl procps
  # JSON-schema validation of the SARIF and rdjson exports (rfc3987: the
  # uri / uri-reference format checks, which otherwise pass silently)
  python3-jsonschema python3-rfc3987
  # load generator of `make bench`
  wrk
  # promtool (checks the /metrics exposition in the tests); the service it
  # ships is not started by the tests
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
install_eslint() {
  # ESLint and its default config, pinned by deploy/eslint/package-lock.json.
  local dir
  dir="$(cd "$(dirname "$0")/../eslint" && pwd)"
  [ -x "$dir/node_modules/.bin/eslint" ] && return 0
  echo "deps: installing eslint (npm ci in deploy/eslint)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

if [ ${#missing[@]} -eq 0 ]; then
  install_eslint
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

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_eslint
