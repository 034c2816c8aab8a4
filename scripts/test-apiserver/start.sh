#!/usr/bin/env bash
# Starts etcd + kube-apiserver (from scripts/test-apiserver/build.sh) on free loopback ports, with all state
# (etcd data, certs, logs, kubeconfig, pids) in a fresh temp directory, waits until /readyz is ok, installs the
# Tekton CRDs, creates the `default` ServiceAccount and writes a kubeconfig.
#
# stdout: shell lines to eval, e.g.   eval "$(scripts/test-apiserver/start.sh)"
#   export KUBECONFIG=<state>/kubeconfig
#   export TEKSCRIPT_TEST_APISERVER_STATE=<state>
# Progress and the PIDs go to stderr. Stop with scripts/test-apiserver/stop.sh [STATE_DIR].
#
# Several instances may run at once (each has its own state directory, ports and `<state>/pids`). The first
# instance started without TEKSCRIPT_STOP_WHEN_PID_EXITS is also recorded in the well-known pid file
# $TEKSCRIPT_TEST_ASSETS/test-apiserver.pid, which `stop.sh` without arguments reads.
#
# Environment:
#   TEKSCRIPT_TEST_ASSETS   directory with kube-apiserver and etcd
#                           (default ${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/test-assets)
#   TEKSCRIPT_TEKTON_CRDS   directory with Tekton's 300-*.yaml CRDs
#                           (default: <repo>/../shared/corpus/tekton-crds)
#   TEKSCRIPT_READY_TIMEOUT seconds to wait for /readyz (default 60)
#   TEKSCRIPT_STOP_WHEN_PID_EXITS=<pid>
#                           spawn a detached watchdog that runs `stop.sh <state>` as soon as process <pid> is
#                           gone (polls every 0.5 s; the pid's start time is recorded, so a reused pid does not
#                           keep the server alive). Used by the integration tests (tests/it/cluster_env.rs).
#   TEKSCRIPT_KEEP_STATE=1  with the watchdog: stop with `stop.sh --keep` (logs and etcd data stay for inspection)
# Optional argument: STATE_DIR to use instead of a new temp directory (must not contain a running server).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
assets=${TEKSCRIPT_TEST_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/test-assets}
pidfile="$assets/test-apiserver.pid"
ready_timeout=${TEKSCRIPT_READY_TIMEOUT:-60}
t0=$(date +%s%N)   # for the elapsed times in the log
elapsed() { awk -v ns="$(( $(date +%s%N) - t0 ))" 'BEGIN { printf "%.1f", ns / 1e9 }'; }
log() { printf '[start] %s\n' "$*" >&2; }
die() { printf '[start] ERROR: %s\n' "$*" >&2; exit 1; }

for b in kube-apiserver etcd; do
  [ -x "$assets/$b" ] || die "$assets/$b not found; run scripts/test-apiserver/build.sh first (or set TEKSCRIPT_TEST_ASSETS)"
done
for t in kubectl openssl python3 curl; do command -v "$t" >/dev/null || die "'$t' is required but not on PATH"; done

if [ -n "${TEKSCRIPT_TEKTON_CRDS:-}" ]; then
  crds=$TEKSCRIPT_TEKTON_CRDS
  [ -d "$crds" ] || die "TEKSCRIPT_TEKTON_CRDS=$crds is not a directory"
elif [ -d "$repo/../shared/corpus/tekton-crds" ]; then
  crds=$(cd "$repo/../shared/corpus/tekton-crds" && pwd)
else
  die "no Tekton CRDs: $repo/../shared/corpus/tekton-crds does not exist and TEKSCRIPT_TEKTON_CRDS is not set.
        Point TEKSCRIPT_TEKTON_CRDS at a directory holding Tekton's config/300-crds/300-*.yaml files."
fi
# Required CRDs first; the others are installed when present.
crd_files=()
for f in task pipeline taskrun pipelinerun; do
  [ -f "$crds/300-$f.yaml" ] || die "$crds/300-$f.yaml missing (TEKSCRIPT_TEKTON_CRDS must hold Tekton's 300-*.yaml CRDs)"
  crd_files+=("$crds/300-$f.yaml")
done
for f in stepaction customrun; do if [ -f "$crds/300-$f.yaml" ]; then crd_files+=("$crds/300-$f.yaml"); fi; done

# A process whose disappearance stops the server (see TEKSCRIPT_STOP_WHEN_PID_EXITS above).
owner=${TEKSCRIPT_STOP_WHEN_PID_EXITS:-}
owner_start=
# Start time (clock ticks since boot, field 22 of /proc/PID/stat; the comm field may contain spaces).
proc_start() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
# The owner is alive: same start time and not a zombie (the watchdog uses the same test).
owner_alive() {
  [ -z "$owner" ] && return 0
  local st; st=$(sed 's/^.*) //' "/proc/$owner/stat" 2>/dev/null) || return 1
  set -- $st
  [ "$1" != Z ] && [ "$1" != X ] && [ "${20}" = "$owner_start" ]
}
if [ -n "$owner" ]; then
  [[ "$owner" =~ ^[1-9][0-9]*$ ]] || die "TEKSCRIPT_STOP_WHEN_PID_EXITS=$owner is not a pid"
  owner_start=$(proc_start "$owner")
  [ -n "$owner_start" ] || die "TEKSCRIPT_STOP_WHEN_PID_EXITS=$owner: no such process"
fi

if [ $# -ge 1 ]; then
  state=$1; mkdir -p "$state"; state=$(cd "$state" && pwd)
  # Only this state directory matters: other instances (other state directories) may run at the same time.
  if [ -f "$state/pids" ]; then
    for p in $(sed -n 's/^\(etcd\|kube-apiserver\)=//p' "$state/pids"); do
      if kill -0 "$p" 2>/dev/null; then
        die "a test apiserver is already running in $state (pid $p); stop it with $here/stop.sh $state"
      fi
    done
  fi
else
  state=$(mktemp -d "${TMPDIR:-/tmp}/tekscript-apiserver.XXXXXX")
fi
mkdir -p "$state/certs" "$state/etcd"
log "state directory: $state"

# The well-known pid file names the "developer's" instance: it is written only for an instance without a
# watchdog, and only when it does not already point at a running instance.
use_pidfile=
if [ -z "$owner" ]; then
  use_pidfile=1
  if [ -f "$pidfile" ]; then
    for p in $(sed -n 's/^\(etcd\|kube-apiserver\)=//p' "$pidfile"); do
      if kill -0 "$p" 2>/dev/null; then use_pidfile=; fi
    done
    if [ -n "$use_pidfile" ]; then log "removing stale $pidfile"; rm -f "$pidfile"; else
      log "another instance is recorded in $pidfile; this one is not (stop it with: stop.sh $state)"; fi
  fi
fi

etcd_pid= api_pid= watchdog_pid=
started=
on_exit() {
  [ -n "$started" ] && return 0
  log "startup failed; stopping what was started"
  for p in $api_pid $etcd_pid; do kill "$p" 2>/dev/null || true; done
  for f in apiserver.log etcd.log; do
    [ -s "$state/$f" ] && { log "last lines of $state/$f:"; tail -15 "$state/$f" >&2; }
  done
  if [ -n "$use_pidfile" ] && [ -f "$pidfile" ] && [ "$(sed -n 's/^state=//p' "$pidfile")" = "$state" ]; then
    rm -f "$pidfile"; fi
  # The watchdog ends by itself once the pids file is gone.
  rm -f "$state/pids"
  log "logs kept in $state (remove it when done)"
}
trap on_exit EXIT

# Free ports are picked by binding to port 0 and releasing them, so another process (an outgoing connection,
# a parallel test) can take one before etcd or kube-apiserver binds it: both are restarted with new ports
# (up to 3 times) when their log says "address already in use".
free_ports() { python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))' "$1"; }
port_clash() { grep -q 'address already in use' "$1"; }

write_pids() {
  {
    echo "state=$state"
    if [ -n "$etcd_pid" ]; then echo "etcd=$etcd_pid"; fi
    if [ -n "$api_pid" ]; then echo "kube-apiserver=$api_pid"; fi
    if [ -n "$watchdog_pid" ]; then echo "watchdog=$watchdog_pid"; echo "owner=$owner"; fi
  } > "$state/pids.tmp"
  mv "$state/pids.tmp" "$state/pids"
  if [ -n "$use_pidfile" ]; then cp "$state/pids" "$pidfile"; fi
}
write_pids

if [ -n "$owner" ]; then
  # Detached (own session, no inherited stdout: whoever reads start.sh's output must not wait for it).
  # It stops polling when the pids file disappears (instance stopped by other means, or startup failed).
  keep_flag=; [ "${TEKSCRIPT_KEEP_STATE:-}" = 1 ] && keep_flag=--keep
  setsid bash -c '
    owner=$1 owner_start=$2 state=$3 stop=$4 keep=$5
    alive() {
      local st
      st=$(sed "s/^.*) //" "/proc/$owner/stat" 2>/dev/null) || return 1
      # field 1 = state (Z/X: exited, not yet reaped), field 20 = start time
      set -- $st
      [ "$1" != Z ] && [ "$1" != X ] && [ "${20}" = "$owner_start" ]
    }
    while alive && [ -f "$state/pids" ]; do sleep 0.5; done
    if [ -f "$state/pids" ]; then
      echo "[watchdog] process $owner is gone; stopping the test apiserver in $state"
      "$stop" $keep "$state"
    fi
  ' tekscript-apiserver-watchdog "$owner" "$owner_start" "$state" "$here/stop.sh" "$keep_flag" \
    </dev/null >>"$state/watchdog.log" 2>&1 &
  watchdog_pid=$!
  write_pids
  log "watchdog pid $watchdog_pid stops this server when process $owner exits"
fi

had_etcd_data=; if [ -d "$state/etcd/member" ]; then had_etcd_data=1; fi
etcd_version=$("$assets/etcd" --version | awk 'NR==1{print $3}')
start_etcd() { # returns 1 on a port clash
  read -r etcd_port peer_port < <(free_ports 2)
  [ -n "$peer_port" ] || die "could not pick free ports"
  log "starting etcd $etcd_version on 127.0.0.1:$etcd_port"
  setsid "$assets/etcd" --data-dir "$state/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "default=http://127.0.0.1:$peer_port" \
    </dev/null >"$state/etcd.log" 2>&1 &
  etcd_pid=$!
  write_pids
  local i
  for i in $(seq 1 200); do # 20 s
    if curl -fs --max-time 2 "http://127.0.0.1:$etcd_port/health" 2>/dev/null | grep -q '"health":"true"'; then
      return 0; fi
    if ! kill -0 "$etcd_pid" 2>/dev/null; then
      etcd_pid=; write_pids
      if port_clash "$state/etcd.log"; then return 1; fi
      die "etcd exited"
    fi
    sleep 0.1
  done
  die "etcd not healthy on 127.0.0.1:$etcd_port after 20s"
}
for attempt in 1 2 3; do
  if start_etcd; then break; fi
  [ "$attempt" -lt 3 ] || die "etcd: address already in use, 3 times"
  log "etcd: address already in use; retrying with new ports"
  if [ -z "$had_etcd_data" ]; then rm -rf "$state/etcd/member"; fi
done
log "etcd healthy after $(elapsed)s"

openssl genrsa -out "$state/sa.key" 2048 2>/dev/null || die "openssl genrsa failed"
openssl rsa -in "$state/sa.key" -pubout -out "$state/sa.pub" 2>/dev/null || die "openssl rsa -pubout failed"
echo "admintoken,admin,admin,system:masters" > "$state/tokens.csv"

api_version=$("$assets/kube-apiserver" --version)
start_apiserver() {
  read -r api_port < <(free_ports 1)
  [ -n "$api_port" ] || die "could not pick a free port"
  log "starting kube-apiserver on https://127.0.0.1:$api_port ($api_version)"
  setsid "$assets/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" --bind-address 127.0.0.1 \
    --secure-port "$api_port" --cert-dir "$state/certs" --token-auth-file "$state/tokens.csv" \
    --authorization-mode RBAC --service-cluster-ip-range 10.0.0.0/24 \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$state/sa.pub" \
    --service-account-signing-key-file "$state/sa.key" --advertise-address 127.0.0.1 \
    --endpoint-reconciler-type none </dev/null >"$state/apiserver.log" 2>&1 &
  api_pid=$!
  write_pids
  cat > "$state/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: tekscript-test
  cluster: {server: "https://127.0.0.1:$api_port", insecure-skip-tls-verify: true}
contexts:
- name: tekscript-test
  context: {cluster: tekscript-test, user: admin, namespace: default}
current-context: tekscript-test
users:
- name: admin
  user: {token: admintoken}
KC
}
start_apiserver
api_attempts=1
export KUBECONFIG="$state/kubeconfig"
# kubectl's discovery cache is keyed by host:port; keep it with the instance instead of in ~/.kube.
kc() { kubectl --cache-dir "$state/kube-cache" "$@"; }

readyz() {
  [ "$(curl -fsk --max-time 2 -H 'Authorization: Bearer admintoken' "https://127.0.0.1:$api_port/readyz" 2>/dev/null)" = ok ]
}
log "waiting up to ${ready_timeout}s for /readyz"
t_api=$(date +%s)
until readyz; do
  owner_alive || die "process $owner (TEKSCRIPT_STOP_WHEN_PID_EXITS) exited during startup"
  kill -0 "$etcd_pid" 2>/dev/null || die "etcd exited"
  if ! kill -0 "$api_pid" 2>/dev/null; then
    api_pid=
    if port_clash "$state/apiserver.log" && [ "$api_attempts" -lt 3 ]; then
      log "kube-apiserver: address already in use; retrying with a new port"
      api_attempts=$((api_attempts + 1)); start_apiserver; t_api=$(date +%s); continue
    fi
    die "kube-apiserver exited"
  fi
  [ $(( $(date +%s) - t_api )) -lt "$ready_timeout" ] \
    || die "kube-apiserver not ready after ${ready_timeout}s: $(kc get --raw '/readyz?verbose' 2>&1 | grep -v ' ok$' | tail -5)"
  sleep 0.25
done
log "apiserver ready after $(( $(date +%s) - t_api ))s ($(elapsed)s since start.sh began)"

# Kubernetes 1.20 rejects `default: ""` in the current Tekton CRD schemas (name fields); drop those lines.
# One stream, one kubectl call: the CRDs and the `default` ServiceAccount (there is no controller-manager,
# and Pods are refused without it).
bundle="$state/tekton-crds.yaml"
: > "$bundle"
for f in "${crd_files[@]}"; do
  { echo "---"; grep -v '^ *default: ""$' "$f"; } >> "$bundle"
done
printf -- '---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: default}\n' >> "$bundle"
log "installing $(printf '%s ' "${crd_files[@]##*/}")(without 'default: \"\"' lines) and serviceaccount default/default"
out=$(kc apply --server-side --field-manager=tekscript-test -o name -f "$bundle" 2>&1) \
  || die "installing the Tekton CRDs failed: $out"
mapfile -t names < <(printf '%s\n' "$out" | grep '^customresourcedefinition')
[ "${#names[@]}" -eq "${#crd_files[@]}" ] || die "expected ${#crd_files[@]} CRDs, kubectl reported: $out"
# (kubectl's discovery may complain about tekton.dev/v1alpha1 while the CRDs are being established: only
# show its output on failure.)
out=$(kc wait --for condition=established --timeout=60s "${names[@]}" 2>&1) \
  || die "CRDs not Established within 60s: ${names[*]}: $out"
log "CRDs established: ${names[*]#customresourcedefinition.apiextensions.k8s.io/}"

owner_alive || die "process $owner (TEKSCRIPT_STOP_WHEN_PID_EXITS) exited during startup"
started=1
log "ready after $(elapsed)s. running: etcd pid $etcd_pid, kube-apiserver pid $api_pid (recorded in $state/pids${use_pidfile:+ and $pidfile})"
log "stop with: $here/stop.sh $state"
echo "export KUBECONFIG=$state/kubeconfig"
echo "export TEKSCRIPT_TEST_APISERVER_STATE=$state"
echo "# pids: etcd=$etcd_pid kube-apiserver=$api_pid${watchdog_pid:+ watchdog=$watchdog_pid}"
