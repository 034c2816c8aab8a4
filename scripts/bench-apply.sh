#!/usr/bin/env bash
# Times `tekscript apply` of 200 objects (benches/apply-200.rhai: 190 Tasks + 10 Pipelines), release build,
# against the cluster of $KUBECONFIG (a fresh namespace per run) — or, with --fake, against the in-repo fake
# API server (tests/fakekube, served on loopback by its `serve` example). For each of N runs (default 5):
# first apply (200 created), no-op re-apply (200 unchanged), changed apply (190 configured), and prune of
# everything (`--set` that drops nothing is not possible, so the namespace is simply deleted afterwards).
# Prints the median of each phase.   Usage: scripts/bench-apply.sh [--fake] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/target}"
fake=
if [ "${1:-}" = "--fake" ]; then fake=1; shift; fi
runs="${1:-5}"
cargo build --release --quiet -p tekscript
bin="$CARGO_TARGET_DIR/release/tekscript"
if [ -n "$fake" ]; then
  cargo build --release --quiet -p fakekube --example serve
  log=$(mktemp)
  "$CARGO_TARGET_DIR/release/examples/serve" 3600 > "$log" &
  serve_pid=$!
  trap 'kill $serve_pid 2>/dev/null || true; rm -f "$log"' EXIT
  for _ in $(seq 100); do grep -q '^KUBECONFIG=' "$log" && break; sleep 0.1; done
  export KUBECONFIG=$(sed -n 's/^KUBECONFIG=//p' "$log")
fi
: "${KUBECONFIG:?set KUBECONFIG (e.g. eval \"\$(scripts/test-apiserver/start.sh)\") or pass --fake}"

ms() { local s e; s=$(date +%s%N); "$@" > /dev/null 2>&1 || { echo "failed: $*" >&2; "$@" >&2 || true; exit 1; }; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {printf "%d ms (min %d, max %d, n=%d)", a[int((NR+1)/2)], a[1], a[NR], NR}'; }

first=() noop=() changed=()
for i in $(seq "$runs"); do
  ns="bench-$$-$i"
  # from a manifest: `kubectl create namespace` sends protobuf, which the fake does not decode
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$ns" | kubectl create --validate=false -f - > /dev/null
  first+=("$(ms "$bin" apply benches/apply-200.rhai -n "$ns")")
  noop+=("$(ms "$bin" apply benches/apply-200.rhai -n "$ns")")
  changed+=("$(ms "$bin" apply benches/apply-200.rhai -n "$ns" --set rev=2)")
  [ -n "$fake" ] || kubectl delete namespace "$ns" --wait=false > /dev/null 2>&1 || true
done
target=$([ -n "$fake" ] && echo "fake API server" || echo "$(kubectl version -o json 2>/dev/null | python3 -c 'import json,sys;print("kube-apiserver "+json.load(sys.stdin)["serverVersion"]["gitVersion"])' 2>/dev/null || echo cluster)")
echo "apply of 200 objects against $target (release, --concurrency 8):"
printf '  first apply (200 created):     %s\n' "$(printf '%s\n' "${first[@]}" | median)"
printf '  no-op re-apply (200 unchanged): %s\n' "$(printf '%s\n' "${noop[@]}" | median)"
printf '  changed (190 configured):       %s\n' "$(printf '%s\n' "${changed[@]}" | median)"
