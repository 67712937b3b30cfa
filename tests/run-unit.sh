#!/usr/bin/env bash
# Runs every unit test binary given as arguments from the repository root and
# prints one closing line: "unit: N passed, N failed". Exits non-zero when
# any binary fails.
set -u
cd "$(dirname "$0")/.." || exit 1
pass=0
fail=0
failed=()
for t in "$@"; do
  echo "== $(basename "$t")"
  if "$t"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    failed+=("$(basename "$t")")
  fi
done
echo "unit: $pass passed, $fail failed"
if [ "$fail" -gt 0 ]; then
  echo "failing unit test binaries: ${failed[*]}" >&2
  exit 1
fi
