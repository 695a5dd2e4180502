#!/bin/bash
# PID 1 of a nodelet node container (scripts/cluster.sh): starts containerd (state on the /var/lib/containerd
# volume), imports the local images, then runs nodelet and restarts it when it exits (like Restart=always), so a
# killed agent comes back and adopts its pods. SIGTERM stops nodelet, then containerd.
# Environment: NODE_NAME, NODE_IP, CLUSTER_CIDR, POD_NETWORK (host-gw or none), RUNTIME (containerd, or docker:
# dockerd on the node's containerd, nodelet's Docker backend with CNI), NODELET_ARGS (extra flags); /etc/nodelet/kubeconfig (the node's
# identity), /etc/nodelet/proxy.kubeconfig (the proxy role's) and /etc/nodelet/pod-network.kubeconfig (the route
# keeper's, may list Nodes) are mounted by cluster.sh.
set -uo pipefail
log() { echo "[node $NODE_NAME] $*"; }
SOCK=/run/containerd/containerd.sock

# Without --privileged (some hosts cannot grant every capability) the cgroup mounts are read-only: mount them anew
# (the container has its own cgroup namespace, so the fresh mounts show its own subtree) for containerd's runc.
if grep -q ' /sys/fs/cgroup/[^ ]* cgroup ro,' /proc/mounts 2>/dev/null || grep -q " /sys/fs/cgroup cgroup2 ro," /proc/mounts; then
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    umount /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
  else
    mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
    for d in /sys/fs/cgroup/*/; do
      d=${d%/}; n=${d##*/}; opt=$n
      [ -L "$d" ] && continue
      [ "$n" = systemd ] && opt=none,name=systemd
      umount "$d" && mount -t cgroup -o "$opt" cgroup "$d" || log "cannot remount cgroup $n"
    done
  fi
fi
sysctl -qw net.ipv4.ip_forward=1 || true
sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
mkdir -p /etc/containerd /run/containerd /var/lib/nodelet /etc/cni/net.d /var/log
cat >/etc/containerd/config.toml <<CONF
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "$SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/nodelet/pause:3.9"
  restrict_oom_score_adj = true
  enable_selinux = false
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
    max_conf_num = 1
CONF
containerd --config /etc/containerd/config.toml >>/var/log/containerd.log 2>&1 &
CONTAINERD=$!
for _ in $(seq 1 120); do ctr --address "$SOCK" version >/dev/null 2>&1 && break; sleep 0.25; done
ENDPOINT=unix://$SOCK
if [ "${RUNTIME:-containerd}" = docker ]; then
  # Docker on the same containerd; no bridge and no iptables of its own: pods are attached by nodelet's CNI.
  dockerd --containerd="$SOCK" --data-root=/var/lib/docker --bridge=none --iptables=false --ip-masq=false \
    >>/var/log/dockerd.log 2>&1 &
  DOCKERD=$!
  for _ in $(seq 1 120); do docker version >/dev/null 2>&1 && break; sleep 0.25; done
  for t in /opt/nodelet/images/*.tar; do docker load -i "$t" >/dev/null || log "load of $t failed"; done
  ENDPOINT=unix:///var/run/docker.sock
else
  for t in /opt/nodelet/images/*.tar; do ctr --address "$SOCK" -n k8s.io images import "$t" >/dev/null || log "import of $t failed"; done
fi
log "${RUNTIME:-containerd} up; starting nodelet"

AGENT=
stopping=0
DOCKERD=${DOCKERD:-}
on_term() {
  stopping=1
  [ -n "$AGENT" ] && kill -TERM "$AGENT" 2>/dev/null
  wait "$AGENT" 2>/dev/null
  if [ -n "$DOCKERD" ]; then kill -TERM "$DOCKERD" 2>/dev/null; wait "$DOCKERD" 2>/dev/null; fi
  kill -TERM "$CONTAINERD" 2>/dev/null
  wait "$CONTAINERD" 2>/dev/null
  exit 0
}
trap on_term TERM INT
PN_KC=/etc/nodelet/pod-network.kubeconfig
[ -f "$PN_KC" ] || PN_KC=/etc/nodelet/kubeconfig
PROXY_KC=/etc/nodelet/proxy.kubeconfig
[ -f "$PROXY_KC" ] || PROXY_KC=/etc/nodelet/kubeconfig
NET_ARGS=(--pod-network=host-gw --pod-network-kubeconfig="$PN_KC" --cluster-cidr="$CLUSTER_CIDR")
# POD_NETWORK=none: bring your own CNI config (containerd reports NetworkReady=false until one exists).
[ "${POD_NETWORK:-host-gw}" = none ] && NET_ARGS=(--cluster-cidr="$CLUSTER_CIDR")
# The Docker backend runs the CNI plugins itself (the node's dockerd has no bridge).
[ "${RUNTIME:-containerd}" = docker ] && NET_ARGS+=(--network-plugin=cni)
CA_ARGS=
[ -s /etc/nodelet/ca.crt ] && CA_ARGS=--client-ca-file=/etc/nodelet/ca.crt
while [ "$stopping" = 0 ]; do
  # shellcheck disable=SC2086
  /opt/nodelet/node /opt/nodelet/nodelet.mjs \
    --kubeconfig=/etc/nodelet/kubeconfig --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
    --container-runtime-endpoint="$ENDPOINT" --pod-infra-container-image=localhost/nodelet/pause:3.9 \
    --proxy-kubeconfig="$PROXY_KC" "${NET_ARGS[@]}" \
    --root-dir=/var/lib/nodelet --fail-swap-on=false --logging-format=json $CA_ARGS ${NODELET_ARGS:-} \
    >>/var/log/nodelet.log 2>&1 &
  AGENT=$!
  wait "$AGENT"
  code=$?
  [ "$stopping" = 1 ] && break
  log "nodelet exited ($code); restarting in 1s"
  sleep 1
done
