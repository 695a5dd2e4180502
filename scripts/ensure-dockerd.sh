#!/usr/bin/env bash
# Starts dockerd in the background when /var/run/docker.sock does not answer; waits until it does.
set -euo pipefail
if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then exit 0; fi
echo "[setup] starting dockerd (log: /var/log/nodelet-dockerd.log)"
setsid nohup dockerd >>/var/log/nodelet-dockerd.log 2>&1 </dev/null &
for _ in $(seq 1 60); do
  if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then exit 0; fi
  sleep 0.5
done
echo "[setup] dockerd did not come up; last log lines:" >&2
tail -n 30 /var/log/nodelet-dockerd.log >&2 || true
exit 1
