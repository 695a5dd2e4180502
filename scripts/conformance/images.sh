#!/usr/bin/env bash
# Builds, with no registry, the images the upstream [NodeConformance] specs run, under local names that
# scripts/conformance/repo-list.yaml (KUBE_TEST_REPO_LIST) maps the suite's registries to:
#   localhost/e2e/agnhost:2.53        the static agnhost from ../shared/k8s (ENTRYPOINT /agnhost, CMD pause) on a
#                                     Debian busybox-static root, plus Debian's curl, bash and nc (netcat-openbsd:
#                                     busybox's has no -u; /bin/sh is bash so that it is found) with their libraries,
#                                     /agnhost-2 and /localhost.crt|key
#                                     (a self-signed localhost certificate) as the real image has them
#   localhost/e2e/busybox:1.36.1-1    Debian busybox-static (1.35) with applet links, CMD sh
#   localhost/k8s/pause:3.10          nodelet's pause (images/pause) under the name the suite uses
#   localhost/e2e/nginx:1.14-4        stand-in: busybox httpd on :80 serving /usr/share/nginx/html
#   localhost/e2e/httpd:2.4.38-4, :2.4.39-4   stand-ins: busybox httpd on :80 serving /usr/local/apache2/htdocs
#   localhost/e2e/nonroot:1.4         busybox root with USER 1234
#   localhost/e2e/nonewprivs:1.3      setuid-root /usr/local/bin/nnp printing "Effective uid: N", USER 1000
# Idempotent: an image whose io.nodelet.image.hash label matches its inputs is skipped (FORCE=1 rebuilds).
# Needs docker, gcc, openssl, /bin/busybox, curl, bash, /bin/nc.openbsd (netcat-openbsd); K8S_BIN_DIR (default /tmp/k8s-real/bin) for agnhost.
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { printf '[conformance-images] %s\n' "$*"; }
HASH_LABEL=io.nodelet.image.hash
BIN_DIR=${K8S_BIN_DIR:-/tmp/k8s-real/bin}
SHARED=${K8S_SHARED_DIR:-$(cd .. && pwd)/shared/k8s}
work=$(mktemp -d /tmp/nodelet-conf-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

[ -x "$BIN_DIR/agnhost" ] || K8S_BIN_DIR="$BIN_DIR" bash "$SHARED/extract.sh" agnhost >/dev/null
bash scripts/images/build.sh >/dev/null   # localhost/nodelet/pause:3.9

hash_of() { { echo "$@"; sha256sum scripts/conformance/images.sh; } | sha256sum | cut -c1-64; }
current_hash() { docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true; }

# busybox root filesystem with applet links and the testbox users (root, app 1000, nobody 65534)
base_root() { # dir
  local root=$1 applet
  mkdir -p "$root"/{bin,etc,usr/bin,usr/local/bin,root,tmp,proc,sys,dev,var/run}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"; done
  ln -s bin "$root/sbin"
  ln -sf ../../bin/busybox "$root/usr/bin/env"
  install -m 0644 images/testbox/etc/passwd images/testbox/etc/group "$root/etc/"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  chmod 1777 "$root/tmp"
}

# copies a dynamic binary and the libraries ldd lists into root
copy_with_libs() { # root binary [dest]
  local root=$1 bin=$2 dest=${3:-$2} lib
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$bin" "$root$dest"
  for lib in $(ldd "$bin" | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

import() { # dir ref hash change...
  local dir=$1 ref=$2 hash=$3; shift 3
  local changes=(--change "LABEL $HASH_LABEL=$hash")
  for c in "$@"; do changes+=(--change "$c"); done
  tar -C "$dir" --sort=name --numeric-owner --mtime=@0 -cf "$work/rootfs.tar" .
  docker import "${changes[@]}" "$work/rootfs.tar" "$ref" >/dev/null
  rm -f "$work/rootfs.tar"
  log "built $ref"
}

build() { # ref builder-fn hash-inputs...
  local ref=$1 fn=$2; shift 2
  local hash; hash=$(hash_of "$ref" "$@")
  if [ "${FORCE:-0}" != 1 ] && [ "$(current_hash "$ref")" = "$hash" ]; then log "$ref is up to date"; return; fi
  local root=$work/$(echo "$ref" | tr '/:' '__')
  mkdir -p "$root"
  "$fn" "$root" "$ref" "$hash"
}

PATHENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

agnhost() {
  base_root "$1"
  install -m 0755 "$BIN_DIR/agnhost" "$1/agnhost"
  copy_with_libs "$1" /usr/bin/curl
  copy_with_libs "$1" /usr/bin/bash
  if [ -x /bin/nc.openbsd ]; then copy_with_libs "$1" /bin/nc.openbsd /usr/bin/nc
  else log "no /bin/nc.openbsd (apt-get install netcat-openbsd): the UDP node-pod spec will fail on busybox nc"; fi
  # /bin/sh is bash here: Debian's busybox sh runs its own applets before PATH (standalone shell), so `sh -c 'nc -u …'`
  # would never reach netcat-openbsd (the real image's sh is Alpine's, which looks nc up in PATH)
  ln -sf /usr/bin/bash "$1/bin/sh"
  # the entrypoint specs run /agnhost-2; netexec --tls-cert-file /localhost.crt (the https lifecycle hook specs)
  ln -s agnhost "$1/agnhost-2"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
    -keyout "$1/localhost.key" -out "$1/localhost.crt" 2>/dev/null
  chmod 0644 "$1/localhost.key"
  import "$1" "$2" "$3" "$PATHENV" 'ENTRYPOINT ["/agnhost"]' 'CMD ["pause"]'
}
busybox() { base_root "$1"; import "$1" "$2" "$3" "$PATHENV" 'CMD ["sh"]'; }
web() { # root ref hash docroot
  base_root "$1"
  mkdir -p "$1$4"
  printf '<html><body><h1>It works!</h1></body></html>\n' >"$1$4/index.html"
  import "$1" "$2" "$3" "$PATHENV" "CMD [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"$4\"]"
}
nginx() { web "$1" "$2" "$3" /usr/share/nginx/html; }
httpd() { web "$1" "$2" "$3" /usr/local/apache2/htdocs; }
nonroot() { base_root "$1"; import "$1" "$2" "$3" "$PATHENV" 'USER 1234' 'CMD ["sh"]'; }
nonewprivs() {
  base_root "$1"
  printf '#include <stdio.h>\n#include <unistd.h>\nint main(void){printf("Effective uid: %%d\\n", geteuid());return 0;}\n' >"$work/nnp.c"
  gcc -static -Os -s -o "$1/usr/local/bin/nnp" "$work/nnp.c"
  chmod 4755 "$1/usr/local/bin/nnp"
  import "$1" "$2" "$3" "$PATHENV" 'USER 1000' 'ENTRYPOINT ["/usr/local/bin/nnp"]'
}

build localhost/e2e/agnhost:2.53 agnhost "$(sha256sum "$BIN_DIR/agnhost" | cut -c1-64)"
build localhost/e2e/busybox:1.36.1-1 busybox
build localhost/e2e/nginx:1.14-4 nginx
build localhost/e2e/httpd:2.4.38-4 httpd
build localhost/e2e/httpd:2.4.39-4 httpd
build localhost/e2e/nonroot:1.4 nonroot
build localhost/e2e/nonewprivs:1.3 nonewprivs
docker tag localhost/nodelet/pause:3.9 localhost/k8s/pause:3.10
log "tagged localhost/k8s/pause:3.10"
