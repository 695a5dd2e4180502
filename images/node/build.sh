#!/usr/bin/env bash
# Builds the node image of scripts/cluster.sh from this host's Debian packages (no registry, no download): the files of
# the installed packages below (containerd and docker.io: either can be the node's runtime) and their dependency
# closure (dpkg -L), the pinned Node runtime (node_modules/node/bin/node), the local pause/testbox images (docker
# save, imported into the node's containerd at start) and images/node/entrypoint.sh. The nodelet bundle is NOT in the
# image: cluster.sh mounts it into each node (/opt/nodelet/nodelet.mjs), so a new bundle needs no new image.
# The image is tagged by the hash of its inputs, localhost/nodelet/node:<hash12> (or $NODE_IMAGE), and the build is
# skipped when an image with that io.nodelet.image.hash label exists: built once per machine, and concurrent users of
# different inputs never retag each other's image (FORCE=1 rebuilds). Prints the image ref.
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE_BIN=node_modules/node/bin/node
IMAGES=(localhost/nodelet/pause:3.9 localhost/nodelet/testbox:1.0)
PACKAGES=(base-files base-passwd netbase bash dash coreutils util-linux mount procps iproute2 iptables conntrack
  containerd runc docker.io containernetworking-plugins grep sed findutils gzip tar libc-bin ca-certificates libstdc++6)
log() { echo "[node-image] $*" >&2; }

[ -x "$NODE_BIN" ] || { log "no Node runtime at $NODE_BIN (npm ci)"; exit 1; }
# One build at a time on this machine: a second caller waits, then finds the image built.
exec 8>/tmp/nodelet-node-image.lock
flock 8
# The local images by their own input hashes (scripts/images/build.sh labels them), else by id.
ids=""
for i in "${IMAGES[@]}"; do ids+="$(docker image inspect --format '{{ index .Config.Labels "io.nodelet.image.hash" }}/{{.Id}}' "$i" | sed 's|^\([0-9a-f]\{64\}\)/.*|\1|') "; done
hash=$( { sha256sum images/node/build.sh images/node/entrypoint.sh "$NODE_BIN"; echo "$ids"; dpkg-query -W "${PACKAGES[@]}" 2>/dev/null; } | sha256sum | cut -c1-64)
REF=${NODE_IMAGE:-localhost/nodelet/node:${hash:0:12}}
if [ "${FORCE:-0}" != 1 ] && [ "$(docker image inspect --format '{{ index .Config.Labels "io.nodelet.image.hash" }}' "$REF" 2>/dev/null || true)" = "$hash" ]; then
  log "$REF is up to date"
  echo "$REF"
  exit 0
fi

work=$(mktemp -d /tmp/nodelet-node-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"
# Merged /usr like the host (bin -> usr/bin, …), so package paths land where the host has them.
for l in bin sbin lib lib64; do
  if [ -L "/$l" ]; then ln -s "$(readlink "/$l")" "$root/$l"; mkdir -p "$root/$(readlink "/$l" | sed 's|^/||')"; fi
done
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
  --no-enhances --installed "${PACKAGES[@]}" 2>/dev/null | grep -v '^ ' | grep -v '^<' | sort -u)
: >"$work/files"
for p in $closure; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || continue
  dpkg -L "$p" 2>/dev/null | while read -r f; do
    if [ -L "$f" ] || [ -f "$f" ]; then echo "$f"; fi
  done >>"$work/files"
done
sort -u "$work/files" | sed 's|^/||' >"$work/files.sorted"
tar -C / --no-recursion -cf - -T "$work/files.sorted" 2>/dev/null | tar -C "$root" --keep-directory-symlink -xf -
log "copied $(wc -l <"$work/files.sorted") files of $(echo "$closure" | wc -w) packages"

mkdir -p "$root"/{etc/cni/net.d,opt/nodelet/images,var/lib/containerd,var/lib/docker,var/log,var/lib/nodelet,var/lib/cni,run,tmp,root,proc,sys,dev}
chmod 1777 "$root/tmp"
cp "$NODE_BIN" "$root/opt/nodelet/node"
cp images/node/entrypoint.sh "$root/opt/nodelet/entrypoint.sh"
chmod 0755 "$root/opt/nodelet/entrypoint.sh" "$root/opt/nodelet/node"
for i in "${IMAGES[@]}"; do
  n=$(echo "$i" | tr '/:' '__')
  docker save "$i" >"$root/opt/nodelet/images/$n.tar"
done
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
# Node's iptables: use the same backend as the host (the kernel is shared).
if [ -e /etc/alternatives/iptables ]; then
  mkdir -p "$root/etc/alternatives"
  for t in iptables iptables-restore iptables-save ip6tables ip6tables-restore ip6tables-save; do
    [ -e "/etc/alternatives/$t" ] && ln -sf "$(readlink "/etc/alternatives/$t")" "$root/etc/alternatives/$t"
    [ -e "$root/usr/sbin/$t" ] || ln -sf "/etc/alternatives/$t" "$root/usr/sbin/$t"
  done
fi
tar -C "$root" --numeric-owner -cf "$work/rootfs.tar" .
docker import --change "LABEL io.nodelet.image.hash=$hash" --change 'ENTRYPOINT ["/opt/nodelet/entrypoint.sh"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$work/rootfs.tar" "$REF" >/dev/null
log "built $REF ($(docker image inspect --format '{{.Size}}' "$REF") bytes)"
echo "$REF"
