#!/usr/bin/env bash
# The whole test suite: host setup, typecheck, lint, build, then unit + integration + e2e tests (vitest), and the e2e
# tests again on a REAL Kubernetes control plane when one is available (scripts/e2e-control-plane.sh: the cluster
# named by $NODELET_E2E_KUBECONFIG, else upstream Kubernetes from ../shared/k8s started for the run and stopped after).
# Ends with a plain `N passed, N failed` line; exits non-zero when anything failed.
#
# Which e2e files run where: every e2e file runs on the test API server. On the real control plane run the files
# whose cluster comes from `startCluster()` without `forceLocal` (nodelet there runs as system:node:<name>, the proxy
# role as system:kube-proxy); files with `startCluster({ forceLocal: true })` (fault injection, the test API server's
# own tests) or without a cluster (CLI, install, standalone) exercise paths that do not depend on the API server and
# run once. The list of both is printed.
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
# Which e2e files also run on a real control plane (see below), and that control plane started in the background
# while the checks and the first projects run (it needs ~20 s; only without test filters).
declare -A once_by_choice=(
  [test/e2e/containerd-pod.test.ts]='the containerd runtime path and log rotation (node-local; pods on a real server run on Docker)'
  [test/e2e/cni-docker-daemon.test.ts]='CNI pod networking on the node (node-local)'
  [test/e2e/node-cgroups.test.ts]='the cgroup hierarchy of the node (node-local)'
  [test/e2e/node-eviction.test.ts]='eviction under memory/disk pressure (node-local, slow)'
  [test/e2e/node-shutdown.test.ts]='graceful shutdown with a systemd inhibitor lock (node-local)'
  [test/e2e/node-container-gc.test.ts]='the container garbage collector of the node (node-local)'
  [test/e2e/pod-log-dirs.test.ts]='removal of pod log directories on the node (node-local, containerd)'
  [test/e2e/node-resize-containerd.test.ts]='in-place resize on containerd (node-local; node-resize.test.ts runs on the real server)'
)
real_files=(); once_files=()
for f in test/e2e/*.test.ts; do
  if ! grep -q 'startCluster(' "$f"; then once_files+=("$f (no API server)")
  elif grep -q 'forceLocal: true' "$f"; then once_files+=("$f (forceLocal: $(grep -m1 'forceLocal: true' "$f" | sed -n 's|.*// *||p'))")
  elif [ -n "${once_by_choice[$f]:-}" ]; then once_files+=("$f (${once_by_choice[$f]})")
  else real_files+=("$f"); fi
done
cp_pid=
if [ "$#" -eq 0 ]; then
  nodes=$(grep -ho "const NODE = '[a-z0-9.-]*'" "${real_files[@]}" | cut -d"'" -f2 | sort -u | tr '\n' ' ')
  bash scripts/e2e-control-plane.sh up $nodes >"$results/control-plane.out" 2>&1 &
  cp_pid=$!
  trap 'wait $cp_pid 2>/dev/null; bash scripts/e2e-control-plane.sh down >/dev/null 2>&1' EXIT
fi
# typecheck and lint only read the tree: in parallel.
echo "== typecheck and lint"
tsc -p tsconfig.json --noEmit >"$results/typecheck.log" 2>&1 &
tsc_pid=$!
eslint src test bench scripts >"$results/lint.log" 2>&1 &
lint_pid=$!
for c in typecheck:$tsc_pid lint:$lint_pid; do
  if wait "${c#*:}"; then echo "${c%%:*} pass" >>"$checks"; else echo "${c%%:*} fail" >>"$checks"; fi
  cat "$results/${c%%:*}.log"
done
check build node scripts/build.mjs
# The unit project (pure, fakes only) runs beside the integration project; integration and e2e run one after the
# other: they drive the one shared Docker engine and iptables, and a nodelet under test garbage-collects
# kubelet-labelled containers it does not own.
reports=()
notes="$results/notes.txt"
: >"$notes"
run_project() { # project [filters...]
  local project=$1; shift
  rm -f "$results/vitest-$project.json"
  # The first e2e pass is always on the test API server, whatever $KUBECONFIG says.
  env -u KUBECONFIG -u NODELET_E2E_KUBECONFIG vitest run --project "$project" --reporter=default --reporter=json \
    --outputFile.json="$results/vitest-$project.json" "$@"
}
echo "== vitest --project unit (in the background) and --project integration"
run_project unit "$@" >"$results/unit.log" 2>&1 &
unit_pid=$!
run_project integration "$@"
wait "$unit_pid"
echo "== vitest --project unit (output)"
cat "$results/unit.log"
echo "== vitest --project e2e"
run_project e2e "$@"
reports+=("$results/vitest-unit.json" "$results/vitest-integration.json" "$results/vitest-e2e.json")

# The e2e suite on a real control plane.
# Files that could run on a real server but whose subject is node-local (the API server only carries the status they
# write, which the other files check there) run once, on the test API server, to keep the suite's time in check.
rm -f "$results/vitest-e2e-real.json"
if [ "$#" -gt 0 ]; then
  echo "e2e on a real control plane: not run (test filters given: $*)" | tee -a "$notes"
else
  echo "== e2e on a real Kubernetes control plane"
  wait "$cp_pid"; cp_rc=$?
  cp_out=$(cat "$results/control-plane.out")
  real_kc=$(sed -n 's/^KUBECONFIG=//p' <<<"$cp_out")
  why=$(sed -n 's/^UNAVAILABLE=//p' <<<"$cp_out")
  if [ -n "$real_kc" ]; then
    echo "$(sed -n 's/^INFO=//p' <<<"$cp_out")"
    echo "real control plane: $real_kc ($(kubectl --kubeconfig "$real_kc" version -o json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).serverVersion.gitVersion)}catch{console.log("version unknown")}})'))" | tee -a "$notes"
    echo "run there: ${real_files[*]}"
    echo "run on the test API server only:"; printf '  %s\n' "${once_files[@]}"
    # kubectl of the same version as the server first on PATH, when up.sh provided one.
    real_path=$PATH
    [ -x "$(dirname "$real_kc")/bin/kubectl" ] && real_path="$(dirname "$real_kc")/bin:$PATH"
    env -u KUBECONFIG PATH="$real_path" NODELET_E2E_KUBECONFIG="$real_kc" vitest run --project e2e --reporter=default --reporter=json \
      --outputFile.json="$results/vitest-e2e-real.json" "${real_files[@]}"
    reports+=("$results/vitest-e2e-real.json")
    bash scripts/e2e-control-plane.sh down
  elif [ "$cp_rc" != 0 ]; then
    echo "real control plane failed to start: $why" | tee -a "$notes"
    echo "real-control-plane fail" >>"$checks"
  else
    echo "e2e on a real control plane: NOT RUN ($why); the e2e suite ran on the test API server only" | tee -a "$notes"
  fi
fi
# Cgroup roots the e2e daemons made (test/e2e/harness: --cgroup-root=/nodelet-e2e-…), innermost first; busy ones stay.
find /sys/fs/cgroup/*/nodelet-e2e-* /sys/fs/cgroup/nodelet-e2e-* -depth -type d -exec rmdir {} + 2>/dev/null || true
node scripts/summarize-results.mjs --checks "$checks" --notes "$notes" "${reports[@]}"
