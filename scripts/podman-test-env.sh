#!/usr/bin/env bash
# Real containers for the local-run tests (`tests/it/local_run.rs`): podman with the runc runtime and a
# busybox image built on the machine, so no registry is needed. Prints `export` lines; idempotent.
#
#   eval "$(scripts/podman-test-env.sh)"
#   podman run --rm "$TEST_IMAGE" sh -c 'echo hi'
#
# Facts this relies on (sandboxed CI machines: no registry access, cgroup v1 or hybrid, RLIMIT changes
# not permitted, no systemd):
# - podman, runc and busybox-static come from the distribution (apt-get, as root). podman's default
#   runtime crun refuses hybrid cgroups; runc works, chosen in containers.conf (`engine.runtime`).
# - containers.conf also sets `default_ulimits = []` (setting RLIMIT_NOFILE is refused), the cgroupfs
#   cgroup manager and events to a file (no systemd/journald).
# - The test image `localhost/test/busybox:1` is imported from a busybox rootfs (`podman import`);
#   its applets (sh, echo, cat, printf, sleep, nc, wget, sha256sum, …) are all a test step needs. An image
#   that is not present cannot be pulled here: that is the tests' "image pull error" case.
set -euo pipefail
state=${TEKSCRIPT_PODMAN_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/podman-test-env}
mkdir -p "$state"

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
if ! { [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx sha256sum; }; then
  missing+=(busybox-static)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; } >&2 \
    || { echo "podman-test-env: could not install ${missing[*]} (apt-get, needs root or sudo)" >&2; exit 1; }
fi

conf=$state/containers.conf
cat > "$conf.new" <<'CONF'
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
mv "$conf.new" "$conf"
export CONTAINERS_CONF=$conf

image=localhost/test/busybox:1
if ! podman image exists "$image" >/dev/null 2>&1; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/tmp" "$root/workspace" "$root/etc" "$root/root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
  echo "root:x:0:" > "$root/etc/group"
  tar -C "$root" -cf "$state/busybox-rootfs.tar" .
  podman import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' \
    "$state/busybox-rootfs.tar" "$image" >/dev/null 2>"$state/import.log" \
    || { cat "$state/import.log" >&2; echo "podman-test-env: podman import failed" >&2; exit 1; }
fi
if ! podman run --rm --network=none "$image" sh -c 'echo ok' >/dev/null; then
  echo "podman-test-env: podman cannot run $image on this machine" >&2
  exit 1
fi
echo "export CONTAINERS_CONF=$conf"
echo "export TEST_IMAGE=$image"
