#!/usr/bin/env bash
# The whole test suite: host setup, typecheck, lint, build, then unit + integration + e2e tests (vitest), and the e2e
# tests again on a REAL Kubernetes control plane when one is available (scripts/e2e-control-plane.sh: the cluster
# named by $NODELET_E2E_KUBECONFIG, else upstream Kubernetes from ../shared/k8s started for the run and stopped after).
# Ends with a plain `N passed, N failed` line; exits non-zero when anything failed.
#
# The e2e files run in lanes side by side (NODELET_E2E_LANES, default 2: one vitest process per lane, files one after
# another within a lane; scripts/e2e-lanes.mjs splits them, test/e2e/lanes.json keeps files that share a host resource
# in one lane). The service CIDR of the test API server is routed into a sink for the whole run, so no packet to a
# service IP leaves the machine whichever files run at the same time.
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
# The suite's own sink for the test API server's service CIDR (the harness relies on a route that is already there).
SINK=nlsuite-sink0
sink_owned=0
if [ "$(id -u)" = 0 ] && [ -z "$(ip -4 route show exact 10.96.0.0/12 2>/dev/null)" ]; then
  ip link del "$SINK" 2>/dev/null || true
  if ip link add "$SINK" type veth peer name nlsuite-sink1 && ip link set "$SINK" up && ip link set nlsuite-sink1 up &&
    ip route add 10.96.0.0/12 dev "$SINK"; then sink_owned=1; else ip link del "$SINK" 2>/dev/null || true; fi
fi
# What the CNI portmap plugin and private containerds leave on the host for good (portmap's CNI-HOSTPORT-* chains,
# containerd's k8s.io cgroups), removed at the end when the run made them and nothing else uses them.
hostport_before=$(iptables -t nat -S CNI-HOSTPORT-DNAT >/dev/null 2>&1 && echo 1 || echo 0)
k8sio_before=$(ls -d /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/k8s.io 2>/dev/null | wc -l)
remove_hostport_chains() {
  iptables -t nat -S CNI-HOSTPORT-DNAT >/dev/null 2>&1 || return 0
  [ "$(iptables -t nat -S CNI-HOSTPORT-DNAT | grep -c '^-A')" = 0 ] || return 0 # port mappings still there
  local rule
  iptables -t nat -S | grep -E '^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j CNI-HOSTPORT-' | sed 's/^-A/-D/' |
    while read -r rule; do eval "iptables -t nat $rule"; done
  for c in CNI-HOSTPORT-DNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK; do iptables -t nat -F "$c" 2>/dev/null; iptables -t nat -X "$c" 2>/dev/null; done
  return 0
}
cp_pid=
cleanup() {
  [ -n "$cp_pid" ] && { wait "$cp_pid" 2>/dev/null; bash scripts/e2e-control-plane.sh down >/dev/null 2>&1; }
  [ "$sink_owned" = 1 ] && ip link del "$SINK" 2>/dev/null
  [ "$(id -u)" = 0 ] && [ "$hostport_before" = 0 ] && remove_hostport_chains
  [ "$k8sio_before" = 0 ] && find /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/k8s.io -depth -type d -exec rmdir {} + 2>/dev/null
  return 0
}
trap cleanup EXIT
if [ "$#" -eq 0 ]; then
  # Node identities: each file's `const NODE = '…'` and the quoted names of its `const NODES = […]` (multi-node files).
  nodes=$(grep -ho -e "const NODE = '[a-z0-9.-]*'" -e "const NODES = \[[^]]*\]" "${real_files[@]}" | grep -o "'[a-z0-9.-]*'" | tr -d "'" | sort -u | tr '\n' ' ')
  bash scripts/e2e-control-plane.sh up $nodes >"$results/control-plane.out" 2>&1 &
  cp_pid=$!
fi
# The node image of the multi-node e2e (test/e2e/cluster-cni.test.ts, on the real control plane) is built once per
# machine and the engine's options probed, in the background (scripts/cluster.sh locks both against a second caller).
bash scripts/cluster.sh prepare >"$results/cluster-prepare.out" 2>&1 &
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
reports+=("$results/vitest-unit.json" "$results/vitest-integration.json")
# run_e2e_lanes NAME FILE...: the files in lanes side by side, each lane's output in $results/NAME-<n>.log (printed
# when all are done) and its report in vitest-NAME-<n>.json; the command prefix in lane_env (the environment).
E2E_LANES=${NODELET_E2E_LANES:-2}
lane_env=()
run_e2e_lanes() {
  local name=$1 pass=local; shift
  [ "$name" = e2e-real ] && pass=real
  local n=0 pids=() lanes files
  mapfile -t lanes < <(node scripts/e2e-lanes.mjs "$E2E_LANES" "$pass" "$@")
  rm -f "$results/vitest-$name-"*.json "$results/$name-"*.log
  for files in "${lanes[@]}"; do
    [ -n "$files" ] || continue
    n=$((n + 1))
    # shellcheck disable=SC2086 # the lane's file list, split on spaces
    "${lane_env[@]}" vitest run --project e2e --reporter=default --reporter=json \
      --outputFile.json="$results/vitest-$name-$n.json" $files >"$results/$name-$n.log" 2>&1 &
    pids+=($!)
    reports+=("$results/vitest-$name-$n.json")
    echo "lane $n: $files"
  done
  for p in "${pids[@]}"; do wait "$p"; done
  for i in $(seq 1 "$n"); do echo "== $name, lane $i"; cat "$results/$name-$i.log"; done
}
if [ "$#" -gt 0 ]; then
  echo "== vitest --project e2e"
  run_project e2e "$@"
  reports+=("$results/vitest-e2e.json")
else
  echo "== vitest --project e2e, in $E2E_LANES lanes"
  # The first e2e pass is always on the test API server, whatever $KUBECONFIG says.
  lane_env=(env -u KUBECONFIG -u NODELET_E2E_KUBECONFIG)
  run_e2e_lanes e2e test/e2e/*.test.ts
fi

# The e2e suite on a real control plane.
# Files that could run on a real server but whose subject is node-local (the API server only carries the status they
# write, which the other files check there) run once, on the test API server, to keep the suite's time in check.
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
    lane_env=(env -u KUBECONFIG PATH="$real_path" NODELET_E2E_KUBECONFIG="$real_kc")
    run_e2e_lanes e2e-real "${real_files[@]}"
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
