#!/usr/bin/env bash
# Timings of `tekscript run --local` (release build). Prints medians of N runs (default 7):
#
# 1. What one more step costs beyond the container runtime's own work: a one-task pipeline with 1 step
#    and with 11 steps (podman), each against the same number of bare `podman run --rm` with the flags
#    tekscript uses (--init, --name, the label, the 7 bind mounts of /tekton and /workspace), measured
#    interleaved; ((T11 - P11) - (T1 - P1)) / 10 is tekscript's overhead per step. Goal: at most 30 ms. The same pipelines with 1 and 51 steps on the host runtime
#    measure tekscript's own work per step without any container runtime.
# 2. A 20-task pipeline (4 waves of 5 parallel tasks, results passed from wave to wave) with the host
#    runtime, end to end (compile, plan, run, clean up). Goal: under 1 s.
#
# Usage: scripts/bench-local.sh [N]. Part 1 needs podman and the test image (scripts/podman-test-env.sh;
# `eval "$(scripts/podman-test-env.sh)"` first on a sandboxed machine); without them it is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/target}"
runs="${1:-7}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/tekscript"
image="${TEST_IMAGE:-localhost/test/busybox:1}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# median wall time in ms of a command (its output discarded)
median_ms() {
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

steps_script() {  # steps_script N FILE
  {
    echo 'let t = task("steps");'
    for i in $(seq "$1"); do
      echo "t.step(\"s$i\", \"docker.io/library/alpine:3.20\", \"#!/bin/sh\\ntrue\\n\");"
    done
    echo 'let p = pipeline("steps"); p.task("steps", t); emit(p);'
  } > "$2"
}

ms_of() {  # wall time in ms of one run of a command
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 || true
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

if command -v podman >/dev/null && podman image exists "$image" 2>/dev/null; then
  steps_script 1 "$work/one.rhai"
  steps_script 11 "$work/eleven.rhai"
  run_local=("$bin" run --local --runtime podman --view plain --image-map "*=$image")
  mkdir -p "$work/m"/{workspace,home,results,steps,scripts,creds,artifacts}
  printf '#!/bin/sh\ntrue\n' > "$work/m/scripts/s"; chmod +x "$work/m/scripts/s"
  mounts=()
  for d in workspace:/workspace home:/tekton/home results:/tekton/results steps:/tekton/steps \
           scripts:/tekton/scripts creds:/tekton/creds artifacts:/tekton/artifacts; do
    mounts+=(--mount "type=bind,source=$work/m/${d%%:*},target=${d#*:}")
  done
  podman_steps() {  # podman_steps N: N containers as tekscript starts them, one after another
    for i in $(seq "$1"); do
      podman run --rm --init --pull never --name "bench-$$-$i" --label tekscript.run=bench "${mounts[@]}" \
        --entrypoint /tekton/scripts/s "$image"
    done
  }
  # interleaved, so that the machine's load hits both alike: (pipeline - bare containers) for 11 steps
  # minus the same for 1 step, over 10 extra steps
  rows=()
  for _ in $(seq "$runs"); do
    p1=$(ms_of "${run_local[@]}" "$work/one.rhai")
    c1=$(ms_of podman_steps 1)
    p11=$(ms_of "${run_local[@]}" "$work/eleven.rhai")
    c11=$(ms_of podman_steps 11)
    rows+=("$p1 $c1 $p11 $c11")
  done
  printf '%s\n' "${rows[@]}" | awk '
    { over[NR] = (($3 - $4) - ($1 - $2)) / 10; step[NR] = ($3 - $1) / 10; bare[NR] = ($4 - $2) / 10 }
    function median(a, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return a[int((n + 1) / 2)]
    }
    END {
      n = NR
      printf "podman: one more step costs %.1f ms in a run, %.1f ms as a bare podman run with the same flags\n", median(step, n), median(bare, n)
      printf "overhead per step beyond the runtime: %.1f ms (median of %d interleaved rounds; goal <= 30 ms)\n", median(over, n), n
    }'
else
  echo "podman or $image missing: per-step overhead not measured (scripts/podman-test-env.sh)"
fi

# tekscript's own work per step, without a container runtime: the same pipelines on the host runtime
steps_script 1 "$work/one.rhai"
steps_script 51 "$work/fifty-one.rhai"
h1=$(median_ms "$bin" run --local --runtime host --view plain "$work/one.rhai")
h51=$(median_ms "$bin" run --local --runtime host --view plain "$work/fifty-one.rhai")
awk -v a="$h1" -v b="$h51" 'BEGIN {
  printf "host runtime: run of 1 step %.0f ms, of 51 steps %.0f ms: %.1f ms per step (tekscript plus starting sh)\n", a, b, (b - a) / 50
}'

# 20 tasks, 4 waves of 5; each task of a wave reads the result of the task before it
{
  echo 'let t = task("work", #{ params: ["in"], results: ["out"] });'
  echo 't.step("w", "docker.io/library/alpine:3.20", "#!/bin/sh\nprintf %s-x \"$(params.in)\" > $(results.out.path)\n");'
  echo 'let p = pipeline("twenty");'
  echo 'let prev = [];'
  echo 'for w in 0..4 { let cur = []; for i in 0..5 {'
  echo '  let input = if w == 0 { "start" } else { prev[i].result("out") };'
  echo '  cur.push(p.task(`t${w}-${i}`, t, #{ params: #{ "in": input } }));'
  echo '} prev = cur; }'
  echo 'emit(p);'
} > "$work/twenty.rhai"
"$bin" run "$work/twenty.rhai" --local --runtime host --view plain >/dev/null 2>&1 \
  || { echo "the 20-task pipeline failed:"; "$bin" run "$work/twenty.rhai" --local --runtime host --view plain; exit 1; }
t20=$(median_ms "$bin" run "$work/twenty.rhai" --local --runtime host --view plain)
echo "host runtime, 20-task pipeline end to end: $t20 ms (goal < 1000 ms)"
