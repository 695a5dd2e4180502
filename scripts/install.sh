#!/usr/bin/env bash
# Installs nodelet as a systemd service: builds dist/nodelet.mjs, copies it, its chunks (dist/nodelet-chunks/) and the
# pinned Node runtime (node_modules/node/bin/node) to /opt/nodelet, creates /etc/nodelet and /var/lib/nodelet,
# installs the units, the environment file and the example config (existing /etc files are kept).
#
#   bash scripts/install.sh [--prefix=DIR] [--dry-run] [--no-build]
#
# --prefix=DIR  stage everything under DIR (DIR/opt/nodelet, DIR/etc/..., DIR/var/lib/nodelet); no systemctl calls.
# --dry-run     print what would be done, change nothing.
# --no-build    use the existing dist/nodelet.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=""
dry=0
build=1
for arg in "$@"; do
  case "$arg" in
    --prefix=*) prefix="${arg#--prefix=}" ;;
    --dry-run) dry=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument: $arg (allowed: --prefix=DIR, --dry-run, --no-build)" >&2; exit 2 ;;
  esac
done
if [ -n "$prefix" ]; then prefix="$(realpath -m "$prefix")"; fi

run() {
  if [ "$dry" -eq 1 ]; then printf '[dry-run] %s\n' "$*"; else "$@"; fi
}
# Installs a file unless the target exists (configuration the operator may have edited).
install_keep() {
  local mode="$1" src="$2" dst="$3"
  if [ -e "$dst" ]; then echo "[install] keeping existing $dst"; else run install -m "$mode" "$src" "$dst"; fi
}

opt="$prefix/opt/nodelet"
etc="$prefix/etc/nodelet"
units="$prefix/etc/systemd/system"
node_src="$(readlink -f node_modules/.bin/node || true)"
if [ -z "$node_src" ] || [ ! -x "$node_src" ]; then
  echo "install.sh: node_modules/.bin/node is missing; run 'bash scripts/setup.sh' first" >&2
  exit 1
fi

if [ "$build" -eq 1 ]; then
  run env PATH="$PWD/node_modules/.bin:$PATH" node scripts/build.mjs
fi
if [ "$dry" -eq 0 ] && [ ! -f dist/nodelet.mjs ]; then
  echo "install.sh: dist/nodelet.mjs is missing (build failed?)" >&2
  exit 1
fi

run install -d -m 0755 "$opt/bin" "$opt/dist" "$etc" "$etc/manifests" "$units" "$prefix/etc/default"
run install -d -m 0750 "$prefix/var/lib/nodelet"
run install -m 0755 "$node_src" "$opt/bin/node"
run install -m 0755 dist/nodelet.mjs "$opt/dist/nodelet.mjs"
if [ -f dist/nodelet.mjs.map ]; then run install -m 0644 dist/nodelet.mjs.map "$opt/dist/nodelet.mjs.map"; fi
# The code the entry imports on demand (scripts/build.mjs splits the bundle): replaced as a whole.
run rm -rf "$opt/dist/nodelet-chunks"
run install -d -m 0755 "$opt/dist/nodelet-chunks"
for f in dist/nodelet-chunks/*; do
  if [ -f "$f" ]; then run install -m 0644 "$f" "$opt/dist/nodelet-chunks/"; fi
done
run install -m 0644 README.md "$opt/README.md"
for u in nodelet.service nodelet-kubelet.service nodelet-proxy.service; do
  run install -m 0644 "systemd/$u" "$units/$u"
done
install_keep 0644 systemd/nodelet.default "$prefix/etc/default/nodelet"
install_keep 0644 systemd/config.yaml "$etc/config.yaml"

if [ -z "$prefix" ] && [ "$dry" -eq 0 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
fi
echo "[install] nodelet installed under $opt"
echo "[install] next: put a kubeconfig at $etc/kubeconfig (or drop --kubeconfig from /etc/default/nodelet for"
echo "[install] standalone mode), then: systemctl enable --now nodelet.service"
