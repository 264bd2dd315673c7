#!/usr/bin/env bash
# Builds the base image debian:bookworm-slim without a registry: no registry is
# reachable from this machine kind, but Debian's mirror is, so debootstrap a minbase
# root (cached under $FLEETLAB_CACHE, outside the repo) and `docker import` it.
# The tag matches the official image so Dockerfiles stay `FROM debian:bookworm-slim`
# and work unchanged where a registry is reachable.
# Slim like the official image: the cached root stays as debootstrap left it (the
# floor bench/images.ts measures); a copy of it loses what no container reads (apt's
# package cache and lists; docs but their copyright files; man and info pages;
# translations: C/POSIX need no files and C.UTF-8 in /usr/lib/locale stays; logs),
# gains the dpkg and apt configuration Debian's -slim images carry (containers/slim/),
# so the apt installs in the Dockerfiles stay slim too, and is imported.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

rootfs="$FLEETLAB_CACHE/bookworm-minbase"
mirror=${FLEETLAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}

ensure_dockerd
mkdir -p "$FLEETLAB_CACHE"
exec 8>"$FLEETLAB_CACHE/base.lock"
flock -w 900 8 || { echo "base.sh: lock $FLEETLAB_CACHE/base.lock busy" >&2; exit 1; }
recipe=$(base_recipe_hash)
if [ "$(base_recipe_of "$FLEETLAB_BASE_IMAGE")" = "$recipe" ]; then
  echo "    $FLEETLAB_BASE_IMAGE present (recipe $recipe)"
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
  touch "$rootfs.done"
fi

slim="$rootfs.slim"
rm -rf "$slim"
cp -a "$rootfs" "$slim"
trap 'rm -rf "$slim"' EXIT
# dpkg.cfg.d: what dpkg leaves out of every later install; apt.conf.d: apt deletes
# the .debs it installed and keeps no binary caches (without it each Dockerfile's
# RUN kept its packages' .debs in its layer) and fetches no translations.
install -m 644 "$here/slim/dpkg-fleetlab-slim" "$slim/etc/dpkg/dpkg.cfg.d/fleetlab-slim"
install -m 644 "$here/slim/apt-fleetlab-slim" "$slim/etc/apt/apt.conf.d/fleetlab-slim"
# The same exclusions on what debootstrap installed, with apt's and dpkg's leftovers.
find "$slim/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$slim/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$slim"/usr/share/{man,groff,info,lintian,linda,locale}/* \
  "$slim"/var/cache/apt/archives/*.deb "$slim"/var/cache/apt/*.bin \
  "$slim"/var/lib/apt/lists/* "$slim"/var/log/apt/* "$slim"/var/log/*.log \
  "$slim"/var/cache/debconf/*-old "$slim"/var/lib/dpkg/*-old

echo "    docker import -> $FLEETLAB_BASE_IMAGE (recipe $recipe)"
tar -C "$slim" --numeric-owner -c . |
  dk import --change 'CMD ["bash"]' --change "LABEL $FLEETLAB_BASE_LABEL=$recipe" - \
    "$FLEETLAB_BASE_IMAGE" >/dev/null
echo "    base image built in $((SECONDS - t0))s"
