#!/usr/bin/env bash
# Starts the Docker engine when none answers. There is no init system here to start it, and
# `docker --version` answering proves only that the client is installed.
set -euo pipefail

LOG=/var/log/dockerd.log
TIMEOUT=${DOCKERD_TIMEOUT:-30}

die() { printf 'start-dockerd: %s\n' "$*" >&2; exit 1; }

engine_answers() { docker version >/dev/null 2>&1; }

if engine_answers; then
  echo "==> dockerd already running"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || die "run as root: dockerd needs it"
command -v dockerd >/dev/null || die "dockerd not found: apt-get install -y docker.io (scripts/install-deps.sh does this)"

echo "==> starting dockerd (log: $LOG)"
# setsid: the engine outlives this script and its terminal; no stdin, as in CI.
setsid dockerd >"$LOG" 2>&1 </dev/null &
pid=$!

for ((i = 0; i < TIMEOUT * 4; i++)); do
  if engine_answers; then
    echo "==> dockerd answers ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.25
done

if kill -0 "$pid" 2>/dev/null; then
  printf 'start-dockerd: dockerd did not answer within %ss; the end of %s:\n' "$TIMEOUT" "$LOG" >&2
else
  printf 'start-dockerd: dockerd exited; the end of %s:\n' "$LOG" >&2
fi
tail -n 20 "$LOG" >&2
exit 1
