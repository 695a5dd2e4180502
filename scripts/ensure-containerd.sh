#!/usr/bin/env bash
# Starts (or finds) a PRIVATE containerd with its CRI plugin for tests and local runs, and prints its socket path.
# Everything lives under one directory (default /var/lib/nodelet-containerd, or $1 / $NODELET_CONTAINERD_DIR):
#   config.toml  root/  state/  containerd.sock  containerd.pid  containerd.log  cni/net.d/  cni/ipam/
# The pod network is its own CNI bridge ($NODELET_CONTAINERD_BRIDGE, default nlctr0) on its own subnet
# ($NODELET_CONTAINERD_SUBNET, default 10.213.140.0/24) without masquerading and without a default route in the
# pods, so pods reach only each other and this host. Network namespaces are kept under state/ (never /var/run/netns).
# The images localhost/nodelet/pause:3.9 and localhost/nodelet/testbox:1.0 are copied from the shared Docker engine
# (`docker save | ctr images import`) when missing or out of date; nothing is pulled from a registry.
# Idempotent: a second run finds the running instance, refreshes images and prints the socket again.
#
#   scripts/ensure-containerd.sh [DIR]          start/find; prints DIR/containerd.sock on stdout (last line)
#   scripts/ensure-containerd.sh --stop DIR     kills its tasks, stops it by PID, unmounts, removes the bridge and DIR
set -euo pipefail

STOP=0
if [ "${1:-}" = --stop ]; then STOP=1; shift; fi
DIR=${1:-${NODELET_CONTAINERD_DIR:-/var/lib/nodelet-containerd}}
BRIDGE=${NODELET_CONTAINERD_BRIDGE:-nlctr0}
SUBNET=${NODELET_CONTAINERD_SUBNET:-10.213.140.0/24}
IMAGES=(localhost/nodelet/pause:3.9 localhost/nodelet/testbox:1.0)
TIMEOUT_S=${CONTAINERD_START_TIMEOUT:-30}
SOCK=$DIR/containerd.sock
PIDFILE=$DIR/containerd.pid
MARKER=$DIR/.nodelet-containerd
log() { echo "[containerd] $*" >&2; }
ctr_() { ctr --address "$SOCK" --namespace k8s.io "$@"; }
answers() { [ -S "$SOCK" ] && ctr --address "$SOCK" version >/dev/null 2>&1; }
running_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -qx containerd "/proc/$pid/comm" 2>/dev/null; then echo "$pid"; fi
}
# PIDs of shims started by this instance (their command line names our socket).
our_shims() {
  local f p
  # One grep over all command lines (a fork per process is slow on a busy machine); keep only shim processes.
  for f in $(grep -l -a -F -- "$SOCK" /proc/[0-9]*/cmdline 2>/dev/null || true); do
    p=${f#/proc/}; p=${p%/cmdline}
    case "$(cat "/proc/$p/comm" 2>/dev/null)" in containerd-shim*) echo "$p" ;; esac
  done
}
umount_under() { # unmounts everything mounted below $1, deepest first
  local m
  awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

if [ "$STOP" = 1 ]; then
  [ -f "$MARKER" ] || { log "$DIR is not a nodelet containerd directory; not touching it"; exit 1; }
  if answers; then
    for t in $(ctr_ tasks ls -q 2>/dev/null || true); do ctr_ tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true; done
    sleep 0.2
    for t in $(ctr_ tasks ls -q 2>/dev/null || true); do ctr_ tasks delete -f "$t" >/dev/null 2>&1 || true; done
    for c in $(ctr_ containers ls -q 2>/dev/null || true); do
      ctr_ containers rm "$c" >/dev/null 2>&1 || true
      # libcni's result cache is global (other private containerds use the same network name): only our sandboxes'.
      rm -f "/var/lib/cni/results/cni-loopback-$c-lo" "/var/lib/cni/results/nlctr-$c-"* # sandboxes that never got their DEL
    done
  fi
  pid=$(running_pid)
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.25; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  fi
  for s in $(our_shims); do kill -KILL "$s" 2>/dev/null || true; done
  umount_under "$DIR"
  ip link del "$BRIDGE" 2>/dev/null || true
  # A mount the kernel still holds (lazily unmounted above) can make the first removal fail on a busy machine.
  rm -rf "$DIR" 2>/dev/null || { sleep 1; umount_under "$DIR"; rm -rf "$DIR"; } || log "could not remove all of $DIR"
  log "stopped and removed $DIR"
  exit 0
fi

command -v containerd >/dev/null || { log "containerd is not installed (apt-get install containerd)"; exit 1; }
mkdir -p "$DIR/root" "$DIR/state" "$DIR/cni/net.d" "$DIR/cni/ipam" "$DIR/opt"
touch "$MARKER"
exec 9>"$DIR/.lock"
flock 9

# Written only when changed, and by rename: containerd watches the directory and would read a half-written file.
CONF=$DIR/cni/net.d/10-nlctr.conflist
cat >"$DIR/cni/.conflist.new" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "nlctr",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "isDefaultGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": { "type": "host-local", "subnet": "$SUBNET", "dataDir": "$DIR/cni/ipam", "routes": [] }
    }
  ]
}
EOF
if cmp -s "$DIR/cni/.conflist.new" "$CONF"; then rm -f "$DIR/cni/.conflist.new"; else mv "$DIR/cni/.conflist.new" "$CONF"; fi

cat >"$DIR/config.toml" <<EOF
version = 2
root = "$DIR/root"
state = "$DIR/state"
oom_score = 0
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$DIR/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${IMAGES[0]}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
    max_conf_num = 1
EOF

if ! answers; then
  if [ -z "$(running_pid)" ]; then
    log "starting containerd for $DIR (log $DIR/containerd.log)"
    setsid containerd --config "$DIR/config.toml" 9>&- </dev/null >>"$DIR/containerd.log" 2>&1 &
    echo $! >"$PIDFILE"
  fi
  for _ in $(seq 1 $((TIMEOUT_S * 4))); do answers && break; sleep 0.25; done
  answers || { log "containerd did not answer on $SOCK within ${TIMEOUT_S}s"; tail -n 20 "$DIR/containerd.log" >&2; exit 1; }
fi

# Copy the local images from the shared Docker engine when missing or built anew (the docker image ID is kept in
# a label so an unchanged image is not imported again).
for ref in "${IMAGES[@]}"; do
  id=$(docker image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  [ -n "$id" ] || { log "image $ref is not in the Docker engine (run scripts/images/build.sh)"; exit 1; }
  have=$(ctr_ images ls "name==$ref" 2>/dev/null | awk 'NR > 1 { print $NF }' | tr ',' '\n' | sed -n 's/^io.nodelet.docker-id=//p')
  if [ "$have" != "$id" ]; then
    log "importing $ref"
    docker save "$ref" | ctr_ images import - >/dev/null
    ctr_ images label "$ref" "io.nodelet.docker-id=$id" >/dev/null
  fi
done
echo "$SOCK"
