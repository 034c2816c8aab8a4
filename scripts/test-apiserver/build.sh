#!/usr/bin/env bash
# Builds kube-apiserver 1.20.2 from Debian bookworm's `kubernetes` source package and installs etcd 3.4
# (Debian's etcd-server), caching both binaries in an envtest-style assets directory outside the repo:
#
#   ${TEKSCRIPT_TEST_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/test-assets}/{kube-apiserver,etcd}
#
# Idempotent: when both binaries are present it does nothing. Needs root (or sudo) for apt-get.
# See docs/cluster-testing.md.
set -Eeuo pipefail

assets=${TEKSCRIPT_TEST_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/test-assets}
log() { printf '[build] %s\n' "$*" >&2; }
die() { printf '[build] ERROR: %s\n' "$*" >&2; exit 1; }
# Any other failing command still says what failed (CI shows this output).
trap 'die "line $LINENO: command failed (exit $?): $BASH_COMMAND"' ERR

if [ -x "$assets/kube-apiserver" ] && [ -x "$assets/etcd" ]; then
  log "kube-apiserver and etcd already present in $assets; nothing to do"
  log "(delete them to force a rebuild)"
  echo "$assets"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; else
  die "apt-get needs root and sudo is not available"; fi
command -v apt-get >/dev/null || die "apt-get not found: this recipe needs a Debian bookworm machine"
. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] || log "warning: this recipe was tested on Debian bookworm, this is ${PRETTY_NAME:-unknown}"

mkdir -p "$assets"
work=$(mktemp -d "${TMPDIR:-/tmp}/tekscript-apiserver-build.XXXXXX")
src=/etc/apt/sources.list.d/tekscript-test-apiserver-src.sources
cleanup() {
  if [ -f "$src" ]; then $sudo rm -f "$src"; $sudo apt-get update -qq || true; fi
  if [ -n "${keep_work:-}" ]; then log "build directory kept for inspection: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive

log "installing build dependencies (golang-go, etcd-server, rsync, dpkg-dev, reflect2 sources)"
$sudo apt-get update -qq || die "apt-get update failed"
$sudo apt-get install -y -qq golang-go etcd-server rsync dpkg-dev golang-github-modern-go-reflect2-dev \
  >"$work/apt.log" 2>&1 \
  || { tail -20 "$work/apt.log" >&2; die "apt-get install of the build dependencies failed (output above)"; }

# A deb-src twin of the machine's own main Debian source, only for the download; removed afterwards.
uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$uri" ] || die "could not find the Debian archive URI in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
log "adding a temporary deb-src entry for $uri bookworm main"
printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
  | $sudo tee "$src" >/dev/null
$sudo apt-get update -qq || die "apt-get update with the deb-src entry failed"

log "downloading the 'kubernetes' source package into $work"
(cd "$work" && apt-get source -qq kubernetes >"$work/source.log" 2>&1) \
  || { keep_work=1; tail -20 "$work/source.log" >&2; die "apt-get source kubernetes failed"; }
$sudo rm -f "$src"; $sudo apt-get update -qq || true
tree=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'kubernetes-*' | head -1)
[ -n "$tree" ] && [ -d "$tree/cmd/kube-apiserver" ] || { keep_work=1; die "unpacked source tree with cmd/kube-apiserver not found in $work"; }
log "source tree: $tree"

# Go 1.19 needs reflect2 >= 1.0.2; the vendored 1.0.1 makes the apiserver crash (SIGSEGV in json-iterator)
# on the first dry-run server-side apply of a custom resource.
r2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -d "$r2" ] || die "$r2 missing (package golang-github-modern-go-reflect2-dev)"
log "replacing vendored reflect2 1.0.1 with Debian's $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)"
rm -rf "$tree/vendor/github.com/modern-go/reflect2"
mkdir -p "$tree/vendor/github.com/modern-go/reflect2"
cp "$r2"/*.go "$r2"/*.s "$tree/vendor/github.com/modern-go/reflect2/"
rm -f "$tree"/vendor/github.com/modern-go/reflect2/*_test.go

# GOPATH layout as the package's debian/rules sets it up.
mkdir -p "$tree/.go/src/k8s.io"
ln -s ../../.. "$tree/.go/src/k8s.io/kubernetes"
log "building cmd/kube-apiserver with $(go version | awk '{print $3}') (several minutes; log: $work/build.log)"
start=$(date +%s)
(cd "$tree" && HOME="$work" GOPATH="$tree/.go" CGO_ENABLED=0 make WHAT=cmd/kube-apiserver >"$work/build.log" 2>&1) \
  || { keep_work=1; tail -30 "$work/build.log" >&2; die "make WHAT=cmd/kube-apiserver failed (see above)"; }
log "kube-apiserver built in $(( $(date +%s) - start ))s"

[ -x "$tree/_output/bin/kube-apiserver" ] || { keep_work=1; die "build finished but _output/bin/kube-apiserver is missing"; }
[ -x /usr/bin/etcd ] || die "/usr/bin/etcd missing (package etcd-server)"
cp "$tree/_output/bin/kube-apiserver" "$assets/kube-apiserver.tmp" && mv "$assets/kube-apiserver.tmp" "$assets/kube-apiserver"
cp /usr/bin/etcd "$assets/etcd.tmp" && mv "$assets/etcd.tmp" "$assets/etcd"
log "installed: $("$assets/kube-apiserver" --version 2>/dev/null || echo kube-apiserver), etcd $("$assets/etcd" --version 2>/dev/null | awk 'NR==1{print $3}')"
log "assets directory: $assets"
echo "$assets"
