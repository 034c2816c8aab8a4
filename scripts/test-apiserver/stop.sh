#!/usr/bin/env bash
# Stops the etcd + kube-apiserver started by scripts/test-apiserver/start.sh and removes its state directory.
# Usage: stop.sh [--keep] [STATE_DIR]
#   STATE_DIR  the directory start.sh printed (TEKSCRIPT_TEST_APISERVER_STATE); without it the well-known pid file
#              $TEKSCRIPT_TEST_ASSETS/test-apiserver.pid is read.
#   --keep     keep the state directory (logs, etcd data) instead of deleting it.
set -euo pipefail

assets=${TEKSCRIPT_TEST_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/test-assets}
pidfile="$assets/test-apiserver.pid"
log() { printf '[stop] %s\n' "$*" >&2; }
die() { printf '[stop] ERROR: %s\n' "$*" >&2; exit 1; }

keep=
if [ "${1:-}" = --keep ]; then keep=1; shift; fi
if [ $# -ge 1 ]; then
  file="$1/pids"
  [ -f "$file" ] || die "$file not found: $1 is not a state directory written by start.sh"
elif [ -f "$pidfile" ]; then
  file=$pidfile
else
  log "nothing to stop: no STATE_DIR given and $pidfile does not exist"; exit 0
fi
state=$(sed -n 's/^state=//p' "$file")

stop_one() { # name pid
  local name=$1 pid=$2
  [ -n "$pid" ] || return 0
  if ! kill -0 "$pid" 2>/dev/null; then log "$name (pid $pid) is not running"; return 0; fi
  # Guard against pid reuse: only signal the process if it is the binary we started.
  if ! tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "/$name "; then
    log "pid $pid is not $name any more; leaving it alone"; return 0; fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  log "$name (pid $pid) still running after 10s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}
stop_one kube-apiserver "$(sed -n 's/^kube-apiserver=//p' "$file")"
stop_one etcd "$(sed -n 's/^etcd=//p' "$file")"

# Forget the well-known pid file if it points at this instance.
if [ -f "$pidfile" ] && [ "$(sed -n 's/^state=//p' "$pidfile")" = "$state" ]; then rm -f "$pidfile"; fi
if [ -n "$state" ] && [ -d "$state" ]; then
  if [ -n "$keep" ]; then log "state kept in $state"; else rm -rf "$state"; log "removed $state"; fi
fi
log "stopped"
