#!/usr/bin/env bash
# A multi-node nodelet cluster on this machine (what kind does for the kubelet): N privileged Docker containers built
# locally from Debian packages (images/node/build.sh, built once per machine), each one node with containerd (state on
# its own volume), the CNI plugins, iptables and the nodelet bundle ($NODELET_BUNDLE, default dist/nodelet.mjs: copied
# to the cluster's state directory and mounted read-only, so a new bundle needs no new image), running the kubelet and
# proxy roles with --pod-network=host-gw, with its own IP on a Docker network of its own, joined to an existing control
# plane. The nodes start in parallel.
#
#   bash scripts/cluster.sh up N --kubeconfig-dir DIR [options]   start N nodes (idempotent: running nodes are kept)
#   bash scripts/cluster.sh down [--prefix P]                       remove the nodes, their volumes and the network
#   bash scripts/cluster.sh status [--prefix P]                     list the node containers
#   bash scripts/cluster.sh prepare                                 build the node image and probe the Docker options
#                                                                   `up` uses (once per machine; prints the image)
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
PROBE=/var/lib/nodelet-cluster/security-options

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
  local bundle=${NODELET_BUNDLE:-dist/nodelet.mjs}
  if [ ! -f "$bundle" ]; then node scripts/build.mjs >&2; fi
  [ -f "$bundle" ] || die "no nodelet bundle at $bundle (node scripts/build.mjs, or set NODELET_BUNDLE)"
  [ -n "$IMAGE" ] || IMAGE=$(bash images/node/build.sh | tail -n 1)
  # The bundle every node mounts: a copy, replaced by rename, so running nodes keep the one they started with.
  mkdir -p "$STATE"
  cp "$bundle" "$STATE/nodelet.mjs.tmp" && mv -f "$STATE/nodelet.mjs.tmp" "$STATE/nodelet.mjs"
  # Its chunks (scripts/build.mjs splits the bundle; files named by content hash), mounted next to it: the state's
  # copy only grows, so running nodes keep the ones they started with.
  CHUNKS=$(basename "$bundle" .mjs)-chunks
  mkdir -p "$STATE/$CHUNKS"
  if [ -d "$(dirname "$bundle")/$CHUNKS" ]; then cp -n "$(dirname "$bundle")/$CHUNKS"/* "$STATE/$CHUNKS/"; fi
  security_options
  mapfile -t PRIV <"$PROBE"
  docker network inspect "$NET" >/dev/null 2>&1 ||
    docker network create --driver bridge --subnet "$SUBNET" --gateway "$base.1" --label "$LABEL" \
      -o com.docker.network.bridge.name="${PREFIX:0:10}br0" "$NET" >/dev/null
  local names=() i
  if [ -n "$NAMES" ]; then IFS=, read -r -a names <<<"$NAMES"; else for i in $(seq 1 "$N"); do names+=("$PREFIX-node-$i"); done; fi
  [ "${#names[@]}" -ge "$N" ] || die "--names lists ${#names[@]} names for $N nodes"
  # What all nodes share, made once: the route keeper's and the proxy's identities, the cluster CA.
  node_kubeconfig "$PN_KC" "$STATE/pod-network.kubeconfig"
  node_kubeconfig "$PROXY_KC" "$STATE/proxy.kubeconfig"
  # The kubelet API trusts client certificates of the cluster CA (the API server's for exec/logs/port-forward).
  "$KUBECTL" --kubeconfig "$STATE/proxy.kubeconfig" config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' |
    base64 -d >"$STATE/ca.crt"
  # The nodes start in parallel; up fails when one of them failed to start.
  local pids=() failed=0 pid
  for i in $(seq 1 "$N"); do
    start_node "$i" "${names[$((i - 1))]}" "$base" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" = 0 ] || die "some nodes failed to start"
}

# Writes $PROBE (the `docker run` options of a node) unless it exists.
security_options() {
  # --privileged where the host allows it; else every capability Docker can grant here, unconfined (this machine's
  # engine cannot grant CAP_SYS_RESOURCE / CAP_MAC_OVERRIDE). Probed once per machine (under a lock: concurrent `up`s
  # wait for one probe), by halving: a set of capabilities is tried at once and split only when refused.
  mkdir -p "${PROBE%/*}"
  exec 9>"$PROBE.lock"
  flock 9
  if [ ! -f "$PROBE" ]; then
    local opts=(--privileged)
    if ! docker run --rm --privileged --entrypoint /bin/true "$IMAGE" >/dev/null 2>&1; then
      opts=(--security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined)
      local cap
      for cap in $(grantable_caps CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP \
        LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO \
        SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE \
        AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ | sort); do
        opts+=(--cap-add "$cap")
      done
      log "--privileged is refused by this engine; running the nodes with ${#opts[@]} capability/security options instead"
    fi
    printf '%s\n' "${opts[@]}" >"$PROBE.tmp" && mv -f "$PROBE.tmp" "$PROBE"
  fi
  flock -u 9
  exec 9>&-
}

# Prints the capabilities among the given ones that a container may get here, one a line: the whole set in one
# `docker run` when granted, else its halves, in parallel.
grantable_caps() { # CAP...
  local args=() cap
  for cap in "$@"; do args+=(--cap-add "$cap"); done
  if docker run --rm "${args[@]}" --entrypoint /bin/true "$IMAGE" >/dev/null 2>&1; then printf '%s\n' "$@"; return 0; fi
  [ $# -gt 1 ] || return 0
  local half=$(($# / 2))
  grantable_caps "${@:1:half}" &
  grantable_caps "${@:half+1}"
  wait
}

start_node() { # index name base
  local i=$1 name=$2 base=$3
  local ip=$base.$((10 + i)) c=$PREFIX-$name
  if [ "$(docker inspect -f '{{.State.Running}}' "$c" 2>/dev/null || true)" = true ]; then log "$c runs"; return 0; fi
  docker rm -f "$c" >/dev/null 2>&1 || true
  local kc=$KDIR/node-$name.kubeconfig
  [ -f "$kc" ] || die "no kubeconfig for node $name at $kc"
  mkdir -p "$STATE/$name"
  node_kubeconfig "$kc" "$STATE/$name/kubeconfig"
  cp -p "$STATE/pod-network.kubeconfig" "$STATE/proxy.kubeconfig" "$STATE/ca.crt" "$STATE/$name/"
  docker volume create --label "$LABEL" "$c-containerd" >/dev/null
  docker volume create --label "$LABEL" "$c-docker" >/dev/null
  docker run -d --name "$c" --hostname "$name" "${PRIV[@]}" --cgroupns=private \
    --network "$NET" --ip "$ip" --label "$LABEL" --label "io.nodelet.node-ip=$ip" \
    -v "$c-containerd:/var/lib/containerd" -v "$c-docker:/var/lib/docker" -v "$STATE/$name:/etc/nodelet:ro" -v /lib/modules:/lib/modules:ro \
    -v "$STATE/nodelet.mjs:/opt/nodelet/nodelet.mjs:ro" -v "$STATE/$CHUNKS:/opt/nodelet/$CHUNKS:ro" \
    --tmpfs /run:exec,mode=755 --tmpfs /tmp \
    -e "NODE_NAME=$name" -e "NODE_IP=$ip" -e "CLUSTER_CIDR=$CIDR" -e "POD_NETWORK=$POD_NETWORK" -e "RUNTIME=$RUNTIME" -e "NODELET_ARGS=$EXTRA" \
    "$IMAGE" >/dev/null
  log "started node $name ($c, $ip)"
}

# What `up` needs once per machine, ahead of time (e.g. in the background while other tests run): the node image
# and the probe of the options Docker grants. Prints the image.
prepare() {
  [ -n "$IMAGE" ] || IMAGE=$(bash images/node/build.sh | tail -n 1)
  security_options
  echo "$IMAGE"
}

case $CMD in
  up) up ;;
  prepare) prepare ;;
  down) down ;;
  status) status ;;
  *) die "usage: cluster.sh up N --kubeconfig-dir DIR [options] | down [--prefix P] | status [--prefix P] | prepare [--image REF]" ;;
esac
