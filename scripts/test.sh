#!/usr/bin/env bash
# The whole test suite: host setup, typecheck, lint, build, then unit + integration + e2e tests (vitest).
# Ends with a plain `N passed, N failed` line; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/setup.sh; then
  echo "host setup failed"
  echo "0 passed, 1 failed"
  exit 1
fi
export PATH="$PWD/node_modules/.bin:$PATH"
results=.tmp/results
mkdir -p "$results"
checks="$results/checks.txt"
: >"$checks"
check() { # name cmd...
  local name=$1; shift
  echo "== $name"
  if "$@"; then echo "$name pass" >>"$checks"; else echo "$name fail" >>"$checks"; fi
}
check typecheck tsc -p tsconfig.json --noEmit
check lint eslint src test bench scripts
check build node scripts/build.mjs
# The projects run one after another: integration and e2e tests drive the one shared Docker engine and iptables,
# and a nodelet under test garbage-collects kubelet-labelled containers it does not own.
reports=()
for project in unit integration e2e; do
  echo "== vitest --project $project"
  rm -f "$results/vitest-$project.json"
  vitest run --project "$project" --reporter=default --reporter=json \
    --outputFile.json="$results/vitest-$project.json" "$@"
  reports+=("$results/vitest-$project.json")
done
node scripts/summarize-results.mjs --checks "$checks" "${reports[@]}"
