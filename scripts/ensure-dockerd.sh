#!/usr/bin/env bash
# Makes sure the Docker engine answers on /var/run/docker.sock. When it does not, starts dockerd in the background
# (there is no systemd here) with its log in /var/log/nodelet-dockerd.log and waits for the socket. Idempotent and
# safe to run concurrently: a lock serializes starters, and a dockerd that is still starting is waited for, not
# started twice. Never stops a running engine.
set -euo pipefail
# Overridable for a private engine (tests); the defaults are the shared engine.
SOCK=${NODELET_DOCKER_SOCK:-/var/run/docker.sock}
if [ "$SOCK" = /var/run/docker.sock ]; then
  PIDFILE=${NODELET_DOCKERD_PIDFILE:-/var/run/docker.pid}
  LOG=${NODELET_DOCKERD_LOG:-/var/log/nodelet-dockerd.log}
else
  PIDFILE=${NODELET_DOCKERD_PIDFILE:-${SOCK%.sock}.pid}
  LOG=${NODELET_DOCKERD_LOG:-${SOCK%.sock}.log}
fi
read -r -a EXTRA_ARGS <<<"${NODELET_DOCKERD_ARGS:-}"
TIMEOUT_S=${DOCKERD_START_TIMEOUT:-60}

answers() { docker -H "unix://$SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
running_pid() { # prints the PID of a live dockerd from the pidfile, if any
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -qx dockerd "/proc/$pid/comm" 2>/dev/null; then echo "$pid"; fi
}
private_bridge() { # the value of --bridge/-b in EXTRA_ARGS
  local i a
  for ((i = 0; i < ${#EXTRA_ARGS[@]}; i++)); do
    a=${EXTRA_ARGS[$i]}
    case "$a" in
      --bridge=*) echo "${a#--bridge=}"; return ;;
      --bridge | -b) echo "${EXTRA_ARGS[$((i + 1))]:-}"; return ;;
    esac
  done
}
wait_for_socket() {
  local i
  for i in $(seq 1 $((TIMEOUT_S * 4))); do
    if answers; then return 0; fi
    sleep 0.25
  done
  return 1
}

# The shared engine's default bridge can vanish under a running dockerd (e.g. another dockerd started with
# `--bridge none` deletes docker0); containers then fail with "could not find bridge docker0". Recreate it.
ensure_docker0() {
  [ "$SOCK" = /var/run/docker.sock ] || return 0
  ip link show docker0 >/dev/null 2>&1 && return 0
  local subnet gw base
  subnet=$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}' 2>/dev/null || true)
  [ -n "$subnet" ] || return 0
  gw=$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
  if [ -z "$gw" ]; then
    base=${subnet%/*}
    gw="${base%.*}.$((${base##*.} + 1))"
  fi
  echo "[setup] docker0 is missing under a running dockerd; recreating it as $gw/${subnet#*/}"
  ip link add docker0 type bridge
  ip addr add "$gw/${subnet#*/}" dev docker0
  ip link set docker0 up
}

if answers; then
  echo "[setup] docker engine answers on $SOCK"
  ensure_docker0
  exit 0
fi

exec 9>"/run/nodelet-ensure-dockerd.$(echo "$SOCK" | md5sum | cut -c1-8).lock"
flock 9
if ! answers; then
  if [ -n "$(running_pid)" ]; then
    echo "[setup] dockerd (pid $(running_pid)) is starting; waiting for $SOCK"
  else
    command -v dockerd >/dev/null || { echo "[setup] dockerd is not installed" >&2; exit 1; }
    args=()
    if [ "$SOCK" != /var/run/docker.sock ]; then
      # A private engine must bring its own bridge: with `--bridge none` dockerd DELETES the host's docker0, and
      # without --bridge it would reconfigure the shared docker0.
      br=$(private_bridge)
      if [ -z "$br" ] || [ "$br" = none ] || [ "$br" = docker0 ] || ! ip link show "$br" >/dev/null 2>&1; then
        echo "[setup] a private dockerd needs its own existing bridge: NODELET_DOCKERD_ARGS='--bridge <name> …'" >&2
        exit 1
      fi
      args+=(--host "unix://$SOCK" --pidfile "$PIDFILE")
    fi
    echo "[setup] starting dockerd (log: $LOG)"
    setsid nohup dockerd "${args[@]}" "${EXTRA_ARGS[@]}" >>"$LOG" 2>&1 </dev/null 9>&- &
  fi
  if ! wait_for_socket; then
    echo "[setup] dockerd did not answer on $SOCK within ${TIMEOUT_S}s; last log lines:" >&2
    tail -n 30 "$LOG" >&2 || true
    exit 1
  fi
fi
echo "[setup] docker engine answers on $SOCK ($(docker -H "unix://$SOCK" version --format '{{.Server.Version}}'))"
ensure_docker0
