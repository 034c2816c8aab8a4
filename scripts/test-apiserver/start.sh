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
# Environment:
#   TEKSCRIPT_TEST_ASSETS   directory with kube-apiserver and etcd
#                           (default ${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/test-assets)
#   TEKSCRIPT_TEKTON_CRDS   directory with Tekton's 300-*.yaml CRDs
#                           (default: <repo>/../shared/corpus/tekton-crds)
#   TEKSCRIPT_READY_TIMEOUT seconds to wait for /readyz (default 60)
# Optional argument: STATE_DIR to use instead of a new temp directory (must not contain a running server).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
assets=${TEKSCRIPT_TEST_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/test-assets}
pidfile="$assets/test-apiserver.pid"
ready_timeout=${TEKSCRIPT_READY_TIMEOUT:-60}
log() { printf '[start] %s\n' "$*" >&2; }
die() { printf '[start] ERROR: %s\n' "$*" >&2; exit 1; }

for b in kube-apiserver etcd; do
  [ -x "$assets/$b" ] || die "$assets/$b not found; run scripts/test-apiserver/build.sh first (or set TEKSCRIPT_TEST_ASSETS)"
done
for t in kubectl openssl python3; do command -v "$t" >/dev/null || die "'$t' is required but not on PATH"; done

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
for f in stepaction customrun; do [ -f "$crds/300-$f.yaml" ] && crd_files+=("$crds/300-$f.yaml"); done

if [ -f "$pidfile" ]; then
  old_state=$(sed -n 's/^state=//p' "$pidfile")
  for p in $(sed -n 's/^\(etcd\|kube-apiserver\)=//p' "$pidfile"); do
    if kill -0 "$p" 2>/dev/null; then
      die "a test apiserver is already running (pid $p, state $old_state); stop it with scripts/test-apiserver/stop.sh"
    fi
  done
  log "removing stale $pidfile"; rm -f "$pidfile"
fi

if [ $# -ge 1 ]; then state=$1; mkdir -p "$state"; state=$(cd "$state" && pwd); else
  state=$(mktemp -d "${TMPDIR:-/tmp}/tekscript-apiserver.XXXXXX"); fi
mkdir -p "$state/certs" "$state/etcd"
log "state directory: $state"

etcd_pid= api_pid=
started=
on_exit() {
  [ -n "$started" ] && return 0
  log "startup failed; stopping what was started"
  for p in $api_pid $etcd_pid; do kill "$p" 2>/dev/null || true; done
  for f in apiserver.log etcd.log; do
    [ -s "$state/$f" ] && { log "last lines of $state/$f:"; tail -15 "$state/$f" >&2; }
  done
  rm -f "$pidfile"
}
trap on_exit EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)

write_pids() {
  { echo "state=$state"; echo "etcd=$etcd_pid"; if [ -n "$api_pid" ]; then echo "kube-apiserver=$api_pid"; fi; } > "$state/pids"
  cp "$state/pids" "$pidfile"
}

log "starting etcd on 127.0.0.1:$etcd_port ($("$assets/etcd" --version | awk 'NR==1{print $3}'))"
setsid "$assets/etcd" --data-dir "$state/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "default=http://127.0.0.1:$peer_port" \
  </dev/null >"$state/etcd.log" 2>&1 &
etcd_pid=$!
write_pids

openssl genrsa -out "$state/sa.key" 2048 2>/dev/null || die "openssl genrsa failed"
openssl rsa -in "$state/sa.key" -pubout -out "$state/sa.pub" 2>/dev/null || die "openssl rsa -pubout failed"
echo "admintoken,admin,admin,system:masters" > "$state/tokens.csv"

log "starting kube-apiserver on https://127.0.0.1:$api_port ($("$assets/kube-apiserver" --version))"
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
export KUBECONFIG="$state/kubeconfig"

log "waiting up to ${ready_timeout}s for /readyz"
t0=$(date +%s)
until kubectl get --raw /readyz >/dev/null 2>&1; do
  kill -0 "$etcd_pid" 2>/dev/null || die "etcd exited"
  kill -0 "$api_pid" 2>/dev/null || die "kube-apiserver exited"
  [ $(( $(date +%s) - t0 )) -lt "$ready_timeout" ] || die "kube-apiserver not ready after ${ready_timeout}s: $(kubectl get --raw '/readyz?verbose' 2>&1 | grep -v ' ok$' | tail -5)"
  sleep 0.5
done
log "apiserver ready after $(( $(date +%s) - t0 ))s"

# Kubernetes 1.20 rejects `default: ""` in the current Tekton CRD schemas (name fields); drop those lines.
names=()
for f in "${crd_files[@]}"; do
  log "installing CRD $(basename "$f") (without 'default: \"\"' lines)"
  out=$(grep -v '^ *default: ""$' "$f" | kubectl apply --server-side --field-manager=tekscript-test -f - 2>&1) \
    || die "installing $f failed: $out"
  names+=("$(grep -v '^ *default: ""$' "$f" | kubectl create --dry-run=client -o name -f - 2>/dev/null | head -1)")
done
kubectl wait --for condition=established --timeout=60s "${names[@]}" >/dev/null \
  || die "CRDs not Established within 60s: ${names[*]}"
log "CRDs established: ${names[*]}"

# No controller-manager: create the default ServiceAccount ourselves (Pods are refused without it).
kubectl create serviceaccount default -n default >/dev/null 2>&1 || true
kubectl get serviceaccount default -n default >/dev/null || die "could not create serviceaccount default/default"

started=1
log "running: etcd pid $etcd_pid, kube-apiserver pid $api_pid (recorded in $state/pids and $pidfile)"
log "stop with: $here/stop.sh $state"
echo "export KUBECONFIG=$state/kubeconfig"
echo "export TEKSCRIPT_TEST_APISERVER_STATE=$state"
echo "# pids: etcd=$etcd_pid kube-apiserver=$api_pid"
