#!/usr/bin/env bash
# Stops the etcd + kube-apiserver started by scripts/test-apiserver/start.sh and removes its state directory.
# Usage: stop.sh [--keep] [STATE_DIR]
#   STATE_DIR  the directory start.sh printed (TEKSCRIPT_TEST_APISERVER_STATE); without it the well-known pid file
#              $TEKSCRIPT_TEST_ASSETS/test-apiserver.pid is read (the instance started first without a watchdog).
#   --keep     keep the state directory (logs, etcd data) instead of deleting it.
# An instance's watchdog (TEKSCRIPT_STOP_WHEN_PID_EXITS) is ended too, unless the watchdog is the caller.
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

# Running = exists and is not a zombie (an exited child of an init that has not reaped it yet).
running() { kill -0 "$1" 2>/dev/null && [ "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }
stop_one() { # name pid
  local name=$1 pid=$2
  [ -n "$pid" ] || return 0
  if ! running "$pid"; then log "$name (pid $pid) is not running"; return 0; fi
  # Guard against pid reuse: only signal the process if it is the binary we started.
  if ! tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "/$name "; then
    log "pid $pid is not $name any more; leaving it alone"; return 0; fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid"
  local t0; t0=$(date +%s%N)
  for _ in $(seq 1 100); do
    if ! running "$pid"; then log "$name stopped after $(awk -v ns="$(( $(date +%s%N) - t0 ))" 'BEGIN { printf "%.1f", ns / 1e9 }')s"; return 0; fi
    sleep 0.1
  done
  log "$name (pid $pid) still running after 10s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}
# The watchdog first (unless it is the one calling us), so it does not run stop.sh a second time.
wd=$(sed -n 's/^watchdog=//p' "$file")
if [ -n "$wd" ] && [ "$wd" != "$PPID" ] && kill -0 "$wd" 2>/dev/null \
  && tr '\0' ' ' < "/proc/$wd/cmdline" 2>/dev/null | grep -q ' tekscript-apiserver-watchdog '; then
  log "ending the watchdog (pid $wd)"; kill -TERM "$wd" 2>/dev/null || true
fi
stop_one kube-apiserver "$(sed -n 's/^kube-apiserver=//p' "$file")"
stop_one etcd "$(sed -n 's/^etcd=//p' "$file")"

# Forget the well-known pid file if it points at this instance.
if [ -f "$pidfile" ] && [ "$(sed -n 's/^state=//p' "$pidfile")" = "$state" ]; then rm -f "$pidfile"; fi
if [ -n "$state" ] && [ -d "$state" ]; then
  if [ -n "$keep" ]; then log "state kept in $state"; else rm -rf "$state"; log "removed $state"; fi
fi
log "stopped"
