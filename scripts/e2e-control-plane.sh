#!/usr/bin/env bash
# The real Kubernetes control plane the e2e suite runs against (besides the test API server), for scripts/test.sh.
#
#   bash scripts/e2e-control-plane.sh up [NODE…]   start one (or reuse a running one); prints KEY=VALUE lines:
#                                                  KUBECONFIG=<admin kubeconfig> STARTED=0|1 DIR=<state dir> or
#                                                  UNAVAILABLE=<why>; exit 1 when it should be there but failed to start
#   bash scripts/e2e-control-plane.sh down         stop it again, only if `up` started it (by the PIDs up.sh recorded)
#
# Which one:
#   - $NODELET_E2E_KUBECONFIG set: that cluster (its admin kubeconfig), used as is, never stopped;
#   - else upstream Kubernetes from $NODELET_K8S_DIR (default ../shared/k8s next to the repository) when it has up.sh:
#     `up.sh $NODELET_E2E_K8S_STATE` (default /tmp/nodelet-e2e-k8s). A control plane already running there is reused
#     (and left running); otherwise it is started with a fresh etcd (no objects left from earlier runs), with the node
#     identities NODE… (node-<name>.kubeconfig, K8S_NODES), on the default ports (6443, 2379, 2380, 10257, 10259) or,
#     when one of them is taken (another control plane on this machine), on the first free block of
#     16443/12379/12380/16447/16449 + 10·k;
#   - else none: UNAVAILABLE says why.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
STATE=${NODELET_E2E_K8S_STATE:-/tmp/nodelet-e2e-k8s}
K8S=${NODELET_K8S_DIR:-$REPO/../shared/k8s}
cmd=${1:-}; shift || true

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [ -f "$STATE/run/$1.pid" ] && kill -0 "$(cat "$STATE/run/$1.pid")" 2>/dev/null; }

case "$cmd" in
up)
  if [ -n "${NODELET_E2E_KUBECONFIG:-}" ]; then
    if [ ! -f "$NODELET_E2E_KUBECONFIG" ]; then echo "UNAVAILABLE=NODELET_E2E_KUBECONFIG names $NODELET_E2E_KUBECONFIG, which does not exist"; exit 1; fi
    echo "KUBECONFIG=$NODELET_E2E_KUBECONFIG"; echo "STARTED=0"; echo "DIR="; exit 0
  fi
  if [ ! -f "$K8S/up.sh" ]; then
    echo "UNAVAILABLE=no real control plane: $K8S/up.sh not found and NODELET_E2E_KUBECONFIG not set"; exit 0
  fi
  mkdir -p "$STATE/run"
  nodes="${*:-node-1}"   # before `set --` below reuses the positional parameters for the ports
  if alive apiserver; then
    # Reuse: up.sh is idempotent but rewrites the kubeconfigs with K8S_PORT, so keep the port it runs on.
    port=$(sed -n 's|.*server: "https://127.0.0.1:\([0-9]*\)".*|\1|p' "$STATE/admin.kubeconfig" | head -1)
    [ -f "$STATE/run/nodelet-ports.env" ] && . "$STATE/run/nodelet-ports.env"
    export K8S_PORT=${K8S_PORT:-$port}
    started=0
  else
    for f in scheduler controller-manager apiserver etcd; do alive "$f" && kill "$(cat "$STATE/run/$f.pid")" 2>/dev/null; done
    rm -rf "$STATE/etcd"   # a fresh cluster: nothing left from an earlier run
    set -- 6443 2379 2380 10257 10259
    k=0
    while in_use "$1" || in_use "$2" || in_use "$3" || in_use "$4" || in_use "$5"; do
      set -- $((16443 + 10 * k)) $((12379 + 10 * k)) $((12380 + 10 * k)) $((16447 + 10 * k)) $((16449 + 10 * k))
      k=$((k + 1))
      if [ $k -gt 20 ]; then echo "UNAVAILABLE=no free ports for a control plane"; exit 1; fi
    done
    export K8S_PORT=$1 ETCD_PORT=$2 ETCD_PEER_PORT=$3 KCM_PORT=$4 SCHED_PORT=$5
    printf 'K8S_PORT=%s ETCD_PORT=%s ETCD_PEER_PORT=%s KCM_PORT=%s SCHED_PORT=%s\n' "$@" > "$STATE/run/nodelet-ports.env"
    started=1
  fi
  export K8S_NODES="$nodes"
  if ! out=$(bash "$K8S/up.sh" "$STATE" 2>&1); then
    echo "UNAVAILABLE=up.sh failed: $(echo "$out" | tail -5 | tr '\n' ' ')"
    [ $started = 1 ] && bash "$K8S/up.sh" --down "$STATE" >/dev/null 2>&1
    exit 1
  fi
  [ $started = 1 ] && touch "$STATE/run/nodelet-started" || rm -f "$STATE/run/nodelet-started"
  echo "KUBECONFIG=$STATE/admin.kubeconfig"; echo "STARTED=$started"; echo "DIR=$STATE"
  echo "INFO=$(echo "$out" | tail -1)"
  ;;
down)
  if [ -f "$STATE/run/nodelet-started" ] && [ -f "$K8S/up.sh" ]; then
    rm -f "$STATE/run/nodelet-started"
    # up.sh --down deletes the shared sink link k8ssink0 and so every route on it: when another control plane on
    # this machine routes its service CIDR there too, keep the link and remove only this one's route.
    svc=${K8S_SERVICE_CIDR:-10.96.0.0/16}
    if [ -n "$(ip route show dev k8ssink0 2>/dev/null | grep -v "^$svc ")" ]; then
      rm -f "$STATE/run/sink"
      ip route del "$svc" dev k8ssink0 2>/dev/null
    fi
    bash "$K8S/up.sh" --down "$STATE"
  fi
  ;;
*)
  echo "usage: $0 up [NODE…] | down" >&2; exit 2 ;;
esac
