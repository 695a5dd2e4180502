#!/usr/bin/env bash
# Idempotent host setup for a fresh Debian 12 machine (run as root): Debian packages, npm packages, a running
# Docker engine, and the local images the tests and example manifests use. Safe to run again: each step checks first
# and does only what is missing, so a second run takes about a second and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages, installed only when dpkg does not list them as installed. busybox-static (not the dynamic
#    busybox) is needed because its binary is copied into the testbox image.
PACKAGES=(
  docker.io containerd iptables nftables conntrack iproute2 busybox-static containernetworking-plugins
  gcc libc6-dev curl procps systemd tar openssl
  dbus-daemon python3-dbus python3-gi
)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "[setup] missing Debian packages (${missing[*]}); run this script as root" >&2
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# 2. npm packages (Node 24 LTS comes in as the `node` package; npm scripts then run on it). `npm ci` only when
#    node_modules is missing or older than the lock file (npm writes node_modules/.package-lock.json on install).
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
else
  log "npm packages up to date"
fi

# 3. A running Docker engine (no systemd here: dockerd is started in the background when its socket does not answer).
bash scripts/ensure-dockerd.sh

# 4. Local images (no registry is reachable); skipped when their content hash label matches.
bash scripts/images/build.sh
log "ready"
