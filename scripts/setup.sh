#!/usr/bin/env bash
# Idempotent host setup for a fresh Debian 12 machine (run as root): Debian packages, npm packages, a running
# Docker engine, and the local images the tests and example manifests use. Safe to run again; does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages (only when a needed command or file is missing).
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v containerd >/dev/null 2>&1 || need+=(containerd)
command -v iptables-restore >/dev/null 2>&1 || need+=(iptables)
command -v conntrack >/dev/null 2>&1 || need+=(conntrack)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
[ -x /bin/busybox ] || need+=(busybox-static)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v pkill >/dev/null 2>&1 || need+=(procps)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. npm packages (Node 24 LTS comes in as the `node` package; npm scripts then run on it).
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 3. A running Docker engine (no systemd here: start dockerd in the background when its socket does not answer).
bash scripts/ensure-dockerd.sh

# 4. Local images (no registry is reachable).
bash scripts/images/build.sh
log "ready"
