#!/usr/bin/env bash
# Server-side dry-run of every examples/*.rhai against the running test apiserver (start.sh).
# Documents without generateName go through `kubectl apply --server-side --dry-run=server --field-manager=tekscript`,
# documents with generateName through `kubectl create --dry-run=server` (apply needs a name).
# Needs KUBECONFIG pointing at the test apiserver. Exit status 1 when any example fails.
# Usage: check-examples.sh [examples/X.rhai ...]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
[ -n "${KUBECONFIG:-}" ] || { echo "KUBECONFIG is not set; eval \"\$(scripts/test-apiserver/start.sh)\" first" >&2; exit 2; }
kubectl get --raw /readyz >/dev/null 2>&1 || { echo "apiserver at KUBECONFIG=$KUBECONFIG is not ready" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
split() { # stream -> $tmp/named.yaml, $tmp/generated.yaml
  python3 - "$1" "$tmp" <<'PY'
import re, sys, yaml
# Split the raw text (no re-serialisation, so kubectl sees exactly what tekscript wrote).
text = open(sys.argv[1]).read()
chunks = [c for c in re.split(r"(?m)^---[ \t]*$\n?", text) if c.strip()]
named, gen = [], []
for c in chunks:
    d = yaml.safe_load(c) or {}
    if not d:
        continue
    m = d.get("metadata") or {}
    (gen if m.get("generateName") and not m.get("name") else named).append(c)
for name, part in (("named", named), ("generated", gen)):
    with open(f"{sys.argv[2]}/{name}.yaml", "w") as f:
        f.write("---\n".join(x if x.endswith("\n") else x + "\n" for x in part))
print(len(named), len(gen))
PY
}
fail=0
[ $# -gt 0 ] || set -- examples/*.rhai
for ex in "$@"; do
  echo "=== $ex"
  if ! cargo run -q -- build "$ex" >"$tmp/all.yaml" 2>"$tmp/build.err"; then
    echo "BUILD FAILED:"; sed 's/^/  /' "$tmp/build.err"; fail=1; continue
  fi
  read -r n g < <(split "$tmp/all.yaml")
  ok=1
  if [ "$n" -gt 0 ]; then
    kubectl apply --server-side --dry-run=server --field-manager=tekscript -f "$tmp/named.yaml" 2>&1 | sed 's/^/  /'
    [ "${PIPESTATUS[0]}" -eq 0 ] || ok=0
  fi
  if [ "$g" -gt 0 ]; then
    kubectl create --dry-run=server -f "$tmp/generated.yaml" 2>&1 | sed 's/^/  /'
    [ "${PIPESTATUS[0]}" -eq 0 ] || ok=0
  fi
  if [ $ok = 1 ]; then echo "RESULT $ex: accepted ($n applied, $g created)"; else echo "RESULT $ex: REJECTED"; fail=1; fi
done
exit $fail
