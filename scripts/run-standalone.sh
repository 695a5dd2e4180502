#!/usr/bin/env bash
# The "run the main job" command: sets the host up (Debian packages, npm packages, Docker, local images), builds
# dist/nodelet.mjs, and runs nodelet in the foreground in standalone mode on the local Docker engine: no API server,
# static pods from examples/manifests, proxy role off. Extra arguments are passed to nodelet (e.g. --v=4).
# Stop with Ctrl-C: nodelet stops, the pods' containers keep running (as upstream); remove them with
#   docker rm -f $(docker ps -aq --filter label=io.nodelet.managed=true)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
node scripts/build.mjs
echo "[run-standalone] nodelet --pod-manifest-path=examples/manifests --root-dir=/var/lib/nodelet-standalone" \
  "(health: http://127.0.0.1:10248/healthz, metrics: http://127.0.0.1:10248/metrics)"
# Same V8 flags as systemd/nodelet-kubelet.service (less RSS, no measurable CPU cost; docs/benchmarks.md).
exec node --max-semi-space-size=1 --max-old-space-size=512 dist/nodelet.mjs \
  --pod-manifest-path="$PWD/examples/manifests" \
  --root-dir=/var/lib/nodelet-standalone \
  --roles=kubelet \
  --fail-swap-on=false \
  "$@"
