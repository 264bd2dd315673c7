#!/usr/bin/env bash
# Builds the base image debian:bookworm-slim without a registry: no registry is
# reachable from this machine kind, but Debian's mirror is, so debootstrap a minbase
# root (cached under $FLEETLAB_CACHE, outside the repo) and `docker import` it.
# The tag matches the official image so Dockerfiles stay `FROM debian:bookworm-slim`
# and work unchanged where a registry is reachable.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

rootfs="$FLEETLAB_CACHE/bookworm-minbase"
mirror=${FLEETLAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}

ensure_dockerd
mkdir -p "$FLEETLAB_CACHE"
exec 8>"$FLEETLAB_CACHE/base.lock"
flock -w 900 8 || { echo "base.sh: lock $FLEETLAB_CACHE/base.lock busy" >&2; exit 1; }
if image_exists "$FLEETLAB_BASE_IMAGE"; then
  echo "    $FLEETLAB_BASE_IMAGE present"
  exit 0
fi

t0=$SECONDS
# The stamp marks a finished debootstrap; a half-done tree from an interrupted run
# is thrown away rather than imported.
if [ ! -f "$rootfs.done" ]; then
  rm -rf "$rootfs"
  echo "    debootstrap --variant=minbase bookworm -> $rootfs"
  nice debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$FLEETLAB_CACHE/debootstrap.log" 2>&1 || {
    echo "base.sh: debootstrap failed; see $FLEETLAB_CACHE/debootstrap.log" >&2
    tail -n 20 "$FLEETLAB_CACHE/debootstrap.log" >&2
    exit 1
  }
  # Keep the image small like the official -slim: no apt lists, no docs.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  touch "$rootfs.done"
fi
echo "    docker import -> $FLEETLAB_BASE_IMAGE"
tar -C "$rootfs" --numeric-owner -c . |
  dk import --change 'CMD ["bash"]' - "$FLEETLAB_BASE_IMAGE" >/dev/null
echo "    base image built in $((SECONDS - t0))s"
