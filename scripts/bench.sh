#!/usr/bin/env bash
# Whole-process timings of `tekscript build` (release build): the largest example and a generated
# 1000-task pipeline. Prints the median of N runs (default 15) for each. Usage: scripts/bench.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/target}"
runs="${1:-15}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/tekscript"

largest=$(ls -S examples/*.rhai | grep -v "\.test\.rhai$" | head -n 1)

median_ms() {
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    "$bin" "$@" > /dev/null 2>&1
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f ms (min %.2f, max %.2f, n=%d)\n", a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000, NR}'
}

# the raw-Rhai floor: the same objects as plain maps through a bare engine and the same YAML crate
cargo build --release --quiet --example raw-floor
floor="$CARGO_TARGET_DIR/release/examples/raw-floor"
"$bin" build benches/pipeline-1000.rhai > "${TMPDIR:-/tmp}/tekscript-bench-1000.yaml" 2>/dev/null
"$floor" benches/raw-floor-1000.rhai --same-as "${TMPDIR:-/tmp}/tekscript-bench-1000.yaml"
bin_floor=$floor
median_floor_ms() { local b=$bin; bin=$bin_floor; median_ms "$@"; bin=$b; }
printf 'floor %-40s ' "benches/raw-floor-1000.rhai"; median_floor_ms benches/raw-floor-1000.rhai

printf 'build %-40s ' "$largest";                 median_ms build "$largest"
printf 'build %-40s ' "benches/pipeline-1000.rhai"; median_ms build benches/pipeline-1000.rhai
printf 'check %-40s ' "benches/pipeline-1000.rhai"; median_ms check benches/pipeline-1000.rhai

# simulate: the execution model over the same pipeline at 1000, 2000 and 4000 tasks (linear growth expected)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for n in 1000 2000 4000; do
  sed "s/0\.\.1000/0..$n/" benches/pipeline-1000.rhai > "$tmp/pipeline-$n.rhai"
  printf 'simulate %-37s ' "pipeline-$n.rhai"; median_ms simulate "$tmp/pipeline-$n.rhai"
  printf 'build %-40s ' "pipeline-$n.rhai"; median_ms build "$tmp/pipeline-$n.rhai"
done
