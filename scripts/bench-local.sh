#!/usr/bin/env bash
# Timings of `tekscript run --local` (release build). Prints medians of N runs (default 7):
#
# 1. What one more step costs beyond the container runtime's own work: a one-task pipeline with 1 step
#    and with 11 steps (podman); (T11 - T1) / 10 is the cost of a step. Compared with
#    `podman run --rm` of the same image and command, plain and with the same flags tekscript uses
#    (--init, the label, the 7 bind mounts of /tekton and /workspace): the difference is tekscript's
#    overhead per step. Goal: at most 30 ms.
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

if command -v podman >/dev/null && podman image exists "$image" 2>/dev/null; then
  steps_script 1 "$work/one.rhai"
  steps_script 11 "$work/eleven.rhai"
  run_local=("$bin" run --local --runtime podman --view plain --image-map "*=$image")
  t1=$(median_ms "${run_local[@]}" "$work/one.rhai")
  t11=$(median_ms "${run_local[@]}" "$work/eleven.rhai")
  mkdir -p "$work/m"/{workspace,home,results,steps,scripts,creds,artifacts}
  printf '#!/bin/sh\ntrue\n' > "$work/m/scripts/s"; chmod +x "$work/m/scripts/s"
  mounts=()
  for d in workspace:/workspace home:/tekton/home results:/tekton/results steps:/tekton/steps \
           scripts:/tekton/scripts creds:/tekton/creds artifacts:/tekton/artifacts; do
    mounts+=(--mount "type=bind,source=$work/m/${d%%:*},target=${d#*:}")
  done
  plain=$(median_ms podman run --rm "$image" /bin/sh -c true)
  same=$(median_ms podman run --rm --init --pull never --label tekscript.run=bench "${mounts[@]}" \
    --entrypoint /tekton/scripts/s "$image")
  awk -v t1="$t1" -v t11="$t11" -v plain="$plain" -v same="$same" 'BEGIN {
    step = (t11 - t1) / 10
    printf "podman: run of 1 step %.0f ms, of 11 steps %.0f ms: %.1f ms per step\n", t1, t11, step
    printf "podman run --rm alone: %.1f ms plain, %.1f ms with the same flags\n", plain, same
    printf "overhead per step: %.1f ms beyond podman with the same flags, %.1f ms beyond a plain podman run (goal <= 30 ms)\n", step - same, step - plain
  }'
else
  echo "podman or $image missing: per-step overhead not measured (scripts/podman-test-env.sh)"
fi

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
