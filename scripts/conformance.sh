#!/usr/bin/env bash
# Runs the upstream [NodeConformance] specs (e2e.test from ../shared/k8s, Kubernetes v1.33.3) against ONE node of a
# real control plane, and writes the results (junit XML, logs, a summary) to an output directory; then
# `node scripts/conformance/report.mjs DIR...` renders docs/conformance.md from one or more such directories.
#
#   bash scripts/conformance.sh [--target nodelet|upstream] [--out DIR] [--shards 8] [--focus REGEX] [--timeout 30m]
#                               [--groups 0,4,6]   (only these shard groups, see "groups" below: a bounded run)
#   npm run conformance -- --focus 'EmptyDir'
#
# What it does:
#   1. builds the test images locally (scripts/conformance/images.sh; no registry) and points the suite at them with
#      KUBE_TEST_REPO_LIST=scripts/conformance/repo-list.yaml;
#   2. starts a PRIVATE control plane (../shared/k8s/up.sh in $CONF_DIR/k8s on ports $CONF_PORT_BASE..+4), so the
#      suite's pods can only land on the node under test (a shared cluster has other nodes; CONFORMANCE_KUBECONFIG=…
#      uses an existing cluster instead — then make sure the node under test is the only schedulable one);
#   3. starts the node under test, kubelet role only (no proxy: it would program the host's iptables): nodelet
#      (--target nodelet, $NODELET_ENTRY or dist/nodelet.mjs) on the host's Docker engine, or with CONF_RUNTIME=containerd
#      on a private containerd from scripts/ensure-containerd.sh, or the upstream kubelet (--target upstream:
#      ../shared/k8s kubelet, always on a private containerd);
#   4. runs e2e.test in parallel shards with disjoint focus regexes (the suite does not parallelize itself), each with
#      --ginkgo.timeout so a bounded run still writes its junit report;
#   5. stops everything it started (by PID) and removes the node, its containers (or private containerd), the pod
#      volume mounts below its root dir, its cgroup tree, its bridge's FORWARD chain and, when no other kubelet runs,
#      the upstream kubelet's KUBE-FIREWALL / KUBE-KUBELET-CANARY chains — on failure too (EXIT trap).
# On a loaded machine give the shards room (--timeout 45m or more: a cut-off shard loses its remaining specs); the
# slowest groups are [sig-node] Pods (back-off specs, ~30 min) and Container Runtime (the registry pulls, 15 min each).
# Environment: CONF_DIR (default /tmp/nodelet-conformance), CONF_PORT_BASE (20530: API server; +1..+4 etcd, etcd peer,
# controller-manager, scheduler; +5 kubelet API; +6 kubelet healthz), CONF_NODE (nl5-conf), CONF_PREFIX (nl5: names the
# upstream target's containerd bridge <prefix>ctr0), CONF_POD_SUBNET (10.213.145.0/24: that bridge's pod subnet),
# CONF_CGROUP_ROOT (/<prefix>-<target>: the node's cgroupRoot, so its kubepods tree is its own and removed afterwards),
# CONF_RUNTIME (nodelet's runtime: docker, the default, or containerd; the upstream kubelet always uses containerd),
# CONF_SKIP_IMAGES=1 (do not build the images: use those the Docker engine has).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
target=nodelet shards=8 focus='' timeout=30m out='' only=''
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --focus) focus=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --groups) only=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
CONF_DIR=${CONF_DIR:-/tmp/nodelet-conformance}
BASE=${CONF_PORT_BASE:-20530}
NODE=${CONF_NODE:-nl5-conf}
PREFIX=${CONF_PREFIX:-nl5}
POD_SUBNET=${CONF_POD_SUBNET:-10.213.145.0/24}
CGROUP_ROOT=${CONF_CGROUP_ROOT:-/$PREFIX-$target}
RUNTIME=${CONF_RUNTIME:-docker}
[ "$target" = upstream ] && RUNTIME=containerd
SHARED=${K8S_SHARED_DIR:-$(cd .. && pwd)/shared/k8s}
BIN=$CONF_DIR/bin
out=${out:-$REPO/.tmp/conformance/$target-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$CONF_DIR" "$BIN" "$out"
log() { printf '[conformance] %s\n' "$*" | tee -a "$out/run.log"; }
pids=()
cleanup() {
  # never stop half-way: with errexit/pipefail a grep that finds nothing would end the cleanup (and leave the rest)
  set +e +o pipefail
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 2
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  # reap them: a zombie kubelet would still count as "another kubelet runs" below
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # nodelet leaves pods running when it stops (as the kubelet): remove the containers of the node under test
  if [ "$target" = nodelet ] && [ "$RUNTIME" = docker ]; then
    ids=$(docker ps -aq --filter "label=io.nodelet.node=$NODE" 2>/dev/null || true)
    [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
  fi
  if [ -n "${KC:-}" ]; then "$BIN/kubectl" --kubeconfig "$KC" delete node "$NODE" --wait=false >/dev/null 2>&1 || true; fi
  if [ "${private_cp:-0}" = 1 ]; then
    # stop our private control plane by the PIDs up.sh recorded (never up.sh --down: the service CIDR sink is shared)
    for f in scheduler controller-manager apiserver etcd; do
      [ -f "$CONF_DIR/k8s/run/$f.pid" ] || continue
      p=$(cat "$CONF_DIR/k8s/run/$f.pid"); kill "$p" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$p" 2>/dev/null || true; rm -f "$CONF_DIR/k8s/run/$f.pid"
    done
  fi
  if [ "$RUNTIME" = containerd ]; then
    NODELET_CONTAINERD_BRIDGE=${PREFIX}ctr0 bash scripts/ensure-containerd.sh --stop "$CONF_DIR/containerd" >/dev/null 2>&1 || true
    ip link del "${PREFIX}ctr0" 2>/dev/null || true
    iptables -D FORWARD -i "${PREFIX}ctr0" -j "$PREFIX-conf-fwd" 2>/dev/null || true
    iptables -F "$PREFIX-conf-fwd" 2>/dev/null || true
    iptables -X "$PREFIX-conf-fwd" 2>/dev/null || true
  fi
  # pod volume mounts below the node's root dir (tmpfs of secrets and projected volumes; the upstream kubelet also
  # makes the root dir itself a mount), deepest first; busy until the containers are gone
  for _ in 1 2 3 4 5; do
    mounts=$(awk -v r="$CONF_DIR/node-$target" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
    [ -z "$mounts" ] && break
    for m in $mounts; do umount "$m" 2>/dev/null || true; done
    sleep 1
  done
  if [ "$target" = upstream ]; then
    # the kubelet's iptables canary and localhost firewall chains: removed only when no other kubelet runs here
    if ! ps -eo stat=,comm= | awk '$2 == "kubelet" && $1 !~ /^Z/ { found = 1 } END { exit !found }'; then
      for ipt in iptables ip6tables; do
        for table in filter nat mangle; do
          for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY; do
            "$ipt" -t "$table" -S 2>/dev/null | grep -E -- "^-A [A-Z]+ .*-j $chain( |\$)" | grep -v "^-A $chain " | while read -r rule; do
              eval "\"$ipt\" -t $table -D ${rule#-A }" 2>/dev/null || true
            done || true
            "$ipt" -t "$table" -F "$chain" 2>/dev/null || true
            "$ipt" -t "$table" -X "$chain" 2>/dev/null || true
          done
        done
      done
    fi
  fi
  # the node's cgroup tree (its containers are gone by now, their cgroups may empty a moment later), deepest first;
  # a process still in it is one of the node's containers: killed
  for _ in $(seq 10); do
    left=0
    for c in /sys/fs/cgroup/*/; do
      [ -d "$c${CGROUP_ROOT#/}" ] || continue
      find "$c${CGROUP_ROOT#/}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u | while read -r p; do kill -9 "$p" 2>/dev/null || true; done
      find "$c${CGROUP_ROOT#/}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
      if [ -d "$c${CGROUP_ROOT#/}" ]; then left=1; fi
    done
    if [ "$left" = 0 ]; then break; fi
    sleep 1
  done
  if ls -d /sys/fs/cgroup/*/"${CGROUP_ROOT#/}" >/dev/null 2>&1; then echo "[conformance] cgroup $CGROUP_ROOT left behind" >>"$out/run.log"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

K8S_BIN_DIR=$BIN bash "$SHARED/extract.sh" e2e.test agnhost kubectl >/dev/null
[ "$target" = upstream ] && K8S_BIN_DIR=$BIN bash "$SHARED/extract.sh" kubelet >/dev/null
# CONF_SKIP_IMAGES=1: use the images as they are (a run to compare with one that started before images.sh changed)
[ "${CONF_SKIP_IMAGES:-0}" = 1 ] || K8S_BIN_DIR=$BIN bash scripts/conformance/images.sh | tee -a "$out/run.log"

if [ -n "${CONFORMANCE_KUBECONFIG:-}" ]; then
  KC=$CONFORMANCE_KUBECONFIG
  NODE_KC=${CONFORMANCE_NODE_KUBECONFIG:?set CONFORMANCE_NODE_KUBECONFIG to the node identity kubeconfig}
else
  private_cp=1
  K8S_PORT=$BASE ETCD_PORT=$((BASE + 1)) ETCD_PEER_PORT=$((BASE + 2)) KCM_PORT=$((BASE + 3)) SCHED_PORT=$((BASE + 4)) \
    K8S_NODES=$NODE bash "$SHARED/up.sh" "$CONF_DIR/k8s" | tee -a "$out/run.log"
  KC=$CONF_DIR/k8s/admin.kubeconfig
  NODE_KC=$CONF_DIR/k8s/node-$NODE.kubeconfig
fi
K="$BIN/kubectl --kubeconfig $KC"
NODE_IP=$(ip -4 -o addr show docker0 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)
NODE_IP=${NODE_IP:-127.0.0.1}
$K delete node "$NODE" --wait=false >/dev/null 2>&1 || true

root=$CONF_DIR/node-$target
rm -rf "$root" && mkdir -p "$root"
if [ "$RUNTIME" = containerd ]; then
  # a private containerd with its own CNI bridge; the test images copied in from the Docker engine
  sock=$(NODELET_CONTAINERD_BRIDGE=${PREFIX}ctr0 NODELET_CONTAINERD_SUBNET=$POD_SUBNET bash scripts/ensure-containerd.sh "$CONF_DIR/containerd" 2>>"$out/run.log" | tail -1)
  # pod to pod on the bridge: Docker's FORWARD policy is DROP and br_netfilter sends bridged packets through it (what
  # kube-proxy's KUBE-FORWARD or a CNI firewall plugin allows in a cluster); a chain of ours, removed afterwards
  iptables -N "$PREFIX-conf-fwd" 2>/dev/null || iptables -F "$PREFIX-conf-fwd"
  iptables -A "$PREFIX-conf-fwd" -o "${PREFIX}ctr0" -j ACCEPT
  iptables -C FORWARD -i "${PREFIX}ctr0" -j "$PREFIX-conf-fwd" 2>/dev/null || iptables -I FORWARD -i "${PREFIX}ctr0" -j "$PREFIX-conf-fwd"
  for img in $(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^localhost/(e2e|k8s)/'); do
    docker save "$img" | ctr --address "$sock" -n k8s.io images import - >/dev/null
  done
fi
if [ "$target" = nodelet ]; then
  entry=${NODELET_ENTRY:-$REPO/dist/nodelet.mjs}
  [ -f "$entry" ] || node scripts/build.mjs
  rt=()
  [ "$RUNTIME" = containerd ] && rt=(--container-runtime-endpoint="unix://$sock")
  node "$entry" "${rt[@]}" --kubeconfig="$NODE_KC" --roles=kubelet --hostname-override="$NODE" --node-ip="$NODE_IP" \
    --root-dir="$root" --port=$((BASE + 5)) --healthz-port=$((BASE + 6)) --fail-swap-on=false \
    --client-ca-file="${CONFORMANCE_CLIENT_CA:-$CONF_DIR/k8s/pki/ca.crt}" \
    --cluster-dns=10.96.0.10 --cluster-domain=cluster.local --cgroup-root="$CGROUP_ROOT" >"$out/node.log" 2>&1 &
  pids+=($!)
else
  cat >"$root/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
port: $((BASE + 5))
healthzPort: $((BASE + 6))
failSwapOn: false
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
podLogsDir: $root/pod-logs
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
authentication: {anonymous: {enabled: false}, webhook: {enabled: true}, x509: {clientCAFile: $CONF_DIR/k8s/pki/ca.crt}}
authorization: {mode: Webhook}
EOF
  # the kubelet wants its cgroupRoot to exist in every hierarchy (cpuset: with the parent's cpus and mems)
  for c in /sys/fs/cgroup/*/; do
    [ -w "$c" ] && [ -e "$c/cgroup.procs" ] || continue
    mkdir -p "$c${CGROUP_ROOT#/}"
    if [ -e "$c/cpuset.cpus" ]; then cat "$c/cpuset.cpus" >"$c${CGROUP_ROOT#/}/cpuset.cpus"; cat "$c/cpuset.mems" >"$c${CGROUP_ROOT#/}/cpuset.mems"; fi
  done
  "$BIN/kubelet" --kubeconfig="$NODE_KC" --config="$root/config.yaml" --hostname-override="$NODE" --node-ip="$NODE_IP" \
    --root-dir="$root" --container-runtime-endpoint="unix://$sock" >"$out/node.log" 2>&1 &
  pids+=($!)
fi
for _ in $(seq 120); do
  [ "$($K get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] && break
  sleep 1
done
$K get node "$NODE" -o wide | tee -a "$out/run.log"

# Shards: disjoint groups of the 167 specs (by their top-level container), each AND-ed with [NodeConformance].
groups=(
  '\[sig-storage\] Projected'
  '\[sig-node\] (Container Runtime|Containers) '
  '\[sig-node\] (Container Lifecycle Hook|InitContainer|Variable Expansion)'
  '\[sig-storage\] (EmptyDir|HostPath|Secrets)'
  '\[sig-node\] Probing container'
  '\[sig-node\] Pods '
  '\[sig-storage\] (Downward API|ConfigMap)|\[sig-node\] (Downward API|ConfigMap|Secrets)'
  '\[sig-node\] (Security Context|Kubelet|Sysctls|RuntimeClass|Ephemeral Containers|PrivilegedPod|KubeletManagedEtcHosts|PodOSRejection)|\[sig-network\] Networking'
)
skip='\[Serial\]|\[Disruptive\]|\[Flaky\]|\[Feature:'
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
{
  echo "target: $target ($("$BIN/kubectl" --kubeconfig "$KC" get node "$NODE" -o jsonpath='{.status.nodeInfo.kubeletVersion} on {.status.nodeInfo.containerRuntimeVersion}' 2>/dev/null))"; echo "node: $NODE ($NODE_IP)"; echo "started: $start"
  echo "e2e.test: $("$BIN/e2e.test" --version 2>/dev/null | head -1 || true)"; echo "extra focus: ${focus:-none}"; echo "timeout per shard: $timeout"
  echo "shard groups: ${only:-all}"; echo "machine load at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
} >"$out/meta.txt"
run_shard() { # index regex
  local i=$1 re=$2 f
  f="($re).*\\[NodeConformance\\]"
  [ -n "$focus" ] && f="($re).*($focus).*\\[NodeConformance\\]|($re).*\\[NodeConformance\\].*($focus)"
  mkdir -p "$out/shard-$i"
  KUBE_TEST_REPO_LIST=$REPO/scripts/conformance/repo-list.yaml "$BIN/e2e.test" --kubeconfig="$KC" --provider=local \
    --ginkgo.focus="$f" --ginkgo.skip="$skip" --ginkgo.timeout="$timeout" --ginkgo.no-color \
    --report-dir="$out/shard-$i" >"$out/shard-$i/e2e.log" 2>&1 || true
}
# At most $shards shards at once; wait only for the shards (the node process is a child too).
shard_pids=()
for i in "${!groups[@]}"; do
  if [ -n "$only" ] && ! [[ ",$only," == *",$i,"* ]]; then continue; fi
  while [ "$(jobs -pr | grep -cvxF "$(printf '%s\n' "${pids[@]}")")" -ge "$shards" ]; do sleep 5; done
  run_shard "$i" "${groups[$i]}" &
  shard_pids+=($!)
done
for p in "${shard_pids[@]}"; do wait "$p" || true; done
echo "finished: $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$out/meta.txt"
log "results in $out (render: node scripts/conformance/report.mjs $out)"
