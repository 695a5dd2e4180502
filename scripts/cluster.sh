#!/usr/bin/env bash
# A multi-node nodelet cluster on this machine (what kind does for the kubelet): N privileged Docker containers built
# locally from Debian packages (images/node/build.sh), each one node with containerd (state on its own volume), the
# CNI plugins, iptables and the nodelet bundle, running the kubelet and proxy roles with --pod-network=host-gw, with
# its own IP on a Docker network of its own, joined to an existing control plane.
#
#   bash scripts/cluster.sh up N --kubeconfig-dir DIR [options]   start N nodes (idempotent: running nodes are kept)
#   bash scripts/cluster.sh down [--prefix P]                       remove the nodes, their volumes and the network
#   bash scripts/cluster.sh status [--prefix P]                     list the node containers
#
# Options of `up`:
#   --kubeconfig-dir DIR   node identities DIR/node-<name>.kubeconfig (as ../shared/k8s/up.sh writes them)
#   --names a,b,c          node names (default <prefix>-node-1..N)
#   --pod-network-kubeconfig FILE  identity of the route keeper, which must list Nodes (default DIR/kube-proxy.kubeconfig;
#                          system:node-proxier may get/list/watch nodes)
#   --proxy-kubeconfig FILE  the proxy role's identity (default DIR/kube-proxy.kubeconfig, user system:kube-proxy)
#   --server URL           API server as seen from the nodes (default: the kubeconfig's, with a loopback host replaced by
#                          the docker0 gateway address, which up.sh's serving certificate covers)
#   --cluster-cidr CIDR    the controller-manager's --cluster-cidr (default 10.244.0.0/16)
#   --prefix P             names of containers (P-<name>), volumes, network (P-net) (default nodelet)
#   --subnet CIDR          the nodes' Docker network, a /24 (default 172.30.99.0/24); node i gets .(10+i)
#   --image REF            node image (default: built by images/node/build.sh)
#   --nodelet-args "..."   extra nodelet flags for every node
#   --pod-network MODE     host-gw (default) or none (bring your own CNI config into the nodes' /etc/cni/net.d)
#   --runtime R            containerd (default: nodelet over CRI) or docker (dockerd in the node, nodelet's Docker
#                          backend running the CNI plugins itself)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[cluster] $*" >&2; }
die() { log "$*"; exit 1; }

CMD=${1:-}; shift || true
N=0
if [ "$CMD" = up ]; then N=${1:-}; shift || true; [[ "$N" =~ ^[1-9][0-9]*$ ]] || die "usage: cluster.sh up N --kubeconfig-dir DIR [options]"; fi
RUNTIME=containerd POD_NETWORK=host-gw KDIR= NAMES= PN_KC= PROXY_KC= SERVER= CIDR=10.244.0.0/16 PREFIX=nodelet SUBNET=172.30.99.0/24 IMAGE= EXTRA=
while [ $# -gt 0 ]; do
  case $1 in
    --kubeconfig-dir) KDIR=$2; shift 2 ;;
    --names) NAMES=$2; shift 2 ;;
    --pod-network-kubeconfig) PN_KC=$2; shift 2 ;;
    --proxy-kubeconfig) PROXY_KC=$2; shift 2 ;;
    --server) SERVER=$2; shift 2 ;;
    --cluster-cidr) CIDR=$2; shift 2 ;;
    --prefix) PREFIX=$2; shift 2 ;;
    --subnet) SUBNET=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --nodelet-args) EXTRA=$2; shift 2 ;;
    --pod-network) POD_NETWORK=$2; shift 2 ;;
    --runtime) RUNTIME=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
NET=$PREFIX-net
STATE=/var/lib/nodelet-cluster/$PREFIX
LABEL=io.nodelet.cluster=$PREFIX
KUBECTL=$(command -v kubectl || echo /tmp/k8s-real/bin/kubectl)

down() {
  local ids
  ids=$(docker ps -aq --filter "label=$LABEL")
  if [ -n "$ids" ]; then
    # SIGTERM first: the entrypoint stops nodelet and containerd; then remove.
    docker stop -t 20 $ids >/dev/null 2>&1 || true
    docker rm -f $ids >/dev/null
  fi
  local vols
  vols=$(docker volume ls -q --filter "label=$LABEL")
  [ -z "$vols" ] || docker volume rm -f $vols >/dev/null
  docker network rm "$NET" >/dev/null 2>&1 || true
  rm -rf "$STATE"
  log "removed cluster $PREFIX"
}

status() {
  docker ps -a --filter "label=$LABEL" --format 'table {{.Names}}\t{{.Status}}\t{{.Label "io.nodelet.node-ip"}}'
}

# Writes a self-contained kubeconfig (embedded certificates) with the server the nodes use.
node_kubeconfig() { # src dst
  local server
  "$KUBECTL" --kubeconfig "$1" config view --flatten --minify >"$2.tmp"
  server=$SERVER
  if [ -z "$server" ]; then
    server=$("$KUBECTL" --kubeconfig "$2.tmp" config view -o jsonpath='{.clusters[0].cluster.server}')
    local gw
    gw=$(ip -4 -o addr show dev docker0 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }')
    [ -n "$gw" ] || die "no docker0 address to reach the API server through; give --server"
    server=$(echo "$server" | sed -E "s#//(127\.0\.0\.1|localhost)([:/]|$)#//$gw\2#")
  fi
  local cluster
  cluster=$("$KUBECTL" --kubeconfig "$2.tmp" config view -o jsonpath='{.clusters[0].name}')
  "$KUBECTL" --kubeconfig "$2.tmp" config set-cluster "$cluster" --server="$server" >/dev/null
  mv "$2.tmp" "$2"
  chmod 0600 "$2"
}

up() {
  [ -n "$KDIR" ] || die "--kubeconfig-dir is required"
  case $POD_NETWORK in host-gw | none) ;; *) die "--pod-network: host-gw or none" ;; esac
  case $RUNTIME in containerd | docker) ;; *) die "--runtime: containerd or docker" ;; esac
  [ -x "$KUBECTL" ] || die "kubectl not found"
  [ -n "$PN_KC" ] || PN_KC=$KDIR/kube-proxy.kubeconfig
  [ -f "$PN_KC" ] || die "no route keeper kubeconfig at $PN_KC (--pod-network-kubeconfig)"
  [ -n "$PROXY_KC" ] || PROXY_KC=$KDIR/kube-proxy.kubeconfig
  [ -f "$PROXY_KC" ] || die "no proxy kubeconfig at $PROXY_KC (--proxy-kubeconfig)"
  [[ "$SUBNET" =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.0/24$ ]] || die "--subnet must be a /24 such as 172.30.99.0/24"
  local base=${BASH_REMATCH[1]}
  if [ -z "$IMAGE" ]; then
    if [ ! -f "${NODELET_BUNDLE:-dist/nodelet.mjs}" ]; then node scripts/build.mjs >&2; fi
    IMAGE=$(bash images/node/build.sh | tail -n 1)
  fi
  # --privileged where the host allows it; else every capability Docker can grant here, unconfined (this machine's
  # engine cannot grant CAP_SYS_RESOURCE / CAP_MAC_OVERRIDE).
  PRIV=(--privileged)
  local probe=/var/lib/nodelet-cluster/security-options
  if [ -f "$probe" ]; then
    mapfile -t PRIV <"$probe"
  elif ! docker run --rm --privileged --entrypoint /bin/true "$IMAGE" >/dev/null 2>&1; then
    PRIV=(--security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined)
    local cap
    for cap in CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE \
      NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE \
      SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL \
      SETFCAP MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ; do
      docker run --rm --cap-add "$cap" --entrypoint /bin/true "$IMAGE" >/dev/null 2>&1 && PRIV+=(--cap-add "$cap")
    done
    log "--privileged is refused by this engine; running the nodes with ${#PRIV[@]} capability/security options instead"
  fi
  mkdir -p "${probe%/*}"
  [ -f "$probe" ] || printf '%s\n' "${PRIV[@]}" >"$probe"
  docker network inspect "$NET" >/dev/null 2>&1 ||
    docker network create --driver bridge --subnet "$SUBNET" --gateway "$base.1" --label "$LABEL" \
      -o com.docker.network.bridge.name="${PREFIX:0:10}br0" "$NET" >/dev/null
  local names=() i
  if [ -n "$NAMES" ]; then IFS=, read -r -a names <<<"$NAMES"; else for i in $(seq 1 "$N"); do names+=("$PREFIX-node-$i"); done; fi
  [ "${#names[@]}" -ge "$N" ] || die "--names lists ${#names[@]} names for $N nodes"
  for i in $(seq 1 "$N"); do
    local name=${names[$((i - 1))]}
    local ip=$base.$((10 + i)) c=$PREFIX-$name
    if [ "$(docker inspect -f '{{.State.Running}}' "$c" 2>/dev/null || true)" = true ]; then log "$c runs"; continue; fi
    docker rm -f "$c" >/dev/null 2>&1 || true
    local kc=$KDIR/node-$name.kubeconfig
    [ -f "$kc" ] || die "no kubeconfig for node $name at $kc"
    mkdir -p "$STATE/$name"
    node_kubeconfig "$kc" "$STATE/$name/kubeconfig"
    node_kubeconfig "$PN_KC" "$STATE/$name/pod-network.kubeconfig"
    node_kubeconfig "$PROXY_KC" "$STATE/$name/proxy.kubeconfig"
    # The kubelet API trusts client certificates of the cluster CA (the API server's for exec/logs/port-forward).
    "$KUBECTL" --kubeconfig "$STATE/$name/kubeconfig" config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' |
      base64 -d >"$STATE/$name/ca.crt"
    docker volume create --label "$LABEL" "$c-containerd" >/dev/null
    docker volume create --label "$LABEL" "$c-docker" >/dev/null
    docker run -d --name "$c" --hostname "$name" "${PRIV[@]}" --cgroupns=private \
      --network "$NET" --ip "$ip" --label "$LABEL" --label "io.nodelet.node-ip=$ip" \
      -v "$c-containerd:/var/lib/containerd" -v "$c-docker:/var/lib/docker" -v "$STATE/$name:/etc/nodelet:ro" -v /lib/modules:/lib/modules:ro \
      --tmpfs /run:exec,mode=755 --tmpfs /tmp \
      -e "NODE_NAME=$name" -e "NODE_IP=$ip" -e "CLUSTER_CIDR=$CIDR" -e "POD_NETWORK=$POD_NETWORK" -e "RUNTIME=$RUNTIME" -e "NODELET_ARGS=$EXTRA" \
      "$IMAGE" >/dev/null
    log "started node $name ($c, $ip)"
  done
}

case $CMD in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: cluster.sh up N --kubeconfig-dir DIR [options] | down [--prefix P] | status [--prefix P]" ;;
esac
