#!/usr/bin/env bash
# Builds the local images nodelet's tests and example manifests use, with no registry and no base image:
#   localhost/nodelet/pause:3.9     static C pause program (images/pause/pause.c), ENTRYPOINT ["/pause"]
#   localhost/nodelet/testbox:1.0   Debian busybox-static root filesystem (images/testbox), CMD ["sh"]; /bin/wget is
#                                   images/testbox/wget (busybox wget -T segfaults: built without the timeout feature)
# Each image carries the label io.nodelet.image.hash = sha256 of its inputs; an image whose label matches is skipped,
# so running this again is fast and changes nothing. Needs: docker (running), gcc + libc6-dev, /bin/busybox.
# FORCE=1 rebuilds anyway.
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { printf '[images] %s\n' "$*"; }

HASH_LABEL=io.nodelet.image.hash
PAUSE_REF=localhost/nodelet/pause:3.9
TESTBOX_REF=localhost/nodelet/testbox:1.0
BUSYBOX=/bin/busybox

work=$(mktemp -d /tmp/nodelet-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Inputs hash: this script, the image sources and the tools that shape the result.
inputs_hash() { # name files...
  local name=$1; shift
  {
    echo "$name"
    sha256sum scripts/images/build.sh "$@"
    gcc --version 2>/dev/null | head -n 1 || true
  } | sha256sum | cut -c1-64
}

current_hash() { # ref
  docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true
}

# Imports a root filesystem directory as an image (deterministic tarball: sorted, numeric owners, epoch mtimes).
import_rootfs() { # dir ref hash change...
  local dir=$1 ref=$2 hash=$3; shift 3
  local old
  old=$(docker image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  local changes=(--change "LABEL $HASH_LABEL=$hash")
  for c in "$@"; do changes+=(--change "$c"); done
  tar -C "$dir" --sort=name --numeric-owner --mtime=@0 -cf "$work/rootfs.tar" .
  docker import "${changes[@]}" "$work/rootfs.tar" "$ref" >/dev/null
  # Drop the replaced image when nothing uses it any more (errors mean it is still in use: keep it).
  local now
  now=$(docker image inspect --format '{{.Id}}' "$ref")
  if [ -n "$old" ] && [ "$old" != "$now" ]; then docker image rm "$old" >/dev/null 2>&1 || true; fi
  log "built $ref ($(docker image inspect --format '{{.Size}}' "$ref") bytes)"
}

build_pause() {
  local hash
  hash=$(inputs_hash pause images/pause/pause.c)
  if [ "${FORCE:-0}" != 1 ] && [ "$(current_hash "$PAUSE_REF")" = "$hash" ]; then
    log "$PAUSE_REF is up to date"
    return
  fi
  local root=$work/pause
  mkdir -p "$root"
  gcc -static -Os -s -Wall -Werror -o "$root/pause" images/pause/pause.c
  chmod 0755 "$root/pause"
  import_rootfs "$root" "$PAUSE_REF" "$hash" \
    'ENTRYPOINT ["/pause"]' 'USER 65535:65535' \
    'LABEL org.opencontainers.image.description="nodelet pod sandbox (pause)"'
}

build_testbox() {
  local hash
  hash=$(inputs_hash testbox images/testbox/etc/passwd images/testbox/etc/group images/testbox/index.html images/testbox/wget "$BUSYBOX")
  if [ "${FORCE:-0}" != 1 ] && [ "$(current_hash "$TESTBOX_REF")" = "$hash" ]; then
    log "$TESTBOX_REF is up to date"
    return
  fi
  local root=$work/testbox
  mkdir -p "$root"/{bin,etc,usr/bin,root,tmp,var/www,home/app,proc,sys,dev}
  cp "$BUSYBOX" "$root/bin/busybox"
  local applet
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  rm -f "$root/bin/wget"
  install -m 0755 images/testbox/wget "$root/bin/wget"
  ln -s bin "$root/sbin"
  ln -s ../../bin/busybox "$root/usr/bin/env"
  install -m 0644 images/testbox/etc/passwd images/testbox/etc/group "$root/etc/"
  install -m 0644 images/testbox/index.html "$root/var/www/index.html"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  chown 1000:1000 "$root/home/app"
  import_rootfs "$root" "$TESTBOX_REF" "$hash" \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'CMD ["sh"]' \
    'LABEL org.opencontainers.image.description="nodelet test image (busybox-static)"'
}

build_pause
build_testbox
