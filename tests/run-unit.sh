#!/usr/bin/env bash
# Runs every unit test binary given as arguments from the repository root and
# prints one closing line: "unit: N passed, N failed", then the tests that
# skipped themselves (cmocka's skip(): a part this machine cannot have), by
# name with the reason they printed. A skipped test is never counted as
# passed. Exits non-zero when any binary fails.
set -u
cd "$(dirname "$0")/.." || exit 1
pass=0
fail=0
failed=()
skipped=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
  echo "== $(basename "$t")"
  "$t" 2>&1 | tee "$out"
  if [ "${PIPESTATUS[0]}" -eq 0 ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    failed+=("$(basename "$t")")
  fi
  # "[  SKIPPED ] name" lines come twice (as run, and listed): the first,
  # with the reason printed just before it.
  while IFS= read -r line; do
    skipped+=("$(basename "$t"): $line")
  done < <(awk '/^skipped: /{why=substr($0, 10)} /^\[  SKIPPED \] test_/{
                  if (!seen[$4]++) print $4 " (" why ")"}' "$out")
done
echo "unit: $pass passed, $fail failed (test binaries); ${#skipped[@]} test(s) skipped in them"
for s in "${skipped[@]}"; do
  echo "  skipped: $s"
done
if [ "$fail" -gt 0 ]; then
  echo "failing unit test binaries: ${failed[*]}" >&2
  exit 1
fi
