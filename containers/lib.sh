#!/usr/bin/env bash
# Shared Docker helpers for every part of fleetlab that builds or runs images
# (service images, the fleet engine's images, the libvirt test image).
# Source it:   . containers/lib.sh; ensure_dockerd; ensure_base_image
# Why a helper at all: this machine kind has no systemd as PID 1, so nothing starts
# Debian's dockerd for us, and a newer docker client earlier on PATH does not speak
# to Debian's 20.10 engine, so every caller must use /usr/bin/docker explicitly.

FLEETLAB_DOCKER=${FLEETLAB_DOCKER:-/usr/bin/docker}
FLEETLAB_DOCKERD_LOG=${FLEETLAB_DOCKERD_LOG:-/var/log/fleetlab-dockerd.log}
FLEETLAB_CACHE=${FLEETLAB_CACHE:-/var/cache/fleetlab}
FLEETLAB_BASE_IMAGE=${FLEETLAB_BASE_IMAGE:-debian:bookworm-slim}
# The lab images' repository and version, as node/images.ts has them: the version is
# package.json's (tests/validate/images.test.ts checks that both sides agree).
FLEETLAB_IMAGE_REPO=${FLEETLAB_IMAGE_REPO:-ghcr.io/fleetlab}
FLEETLAB_IMAGE_VERSION=${FLEETLAB_IMAGE_VERSION:-$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../package.json")}
# The fleet agent image the lab's Ignition runs by default (fleetlab:fleetImage).
FLEETLAB_FLEET_IMAGE=${FLEETLAB_FLEET_IMAGE:-$FLEETLAB_IMAGE_REPO/fleet:$FLEETLAB_IMAGE_VERSION}
# The fleet image's first stage (base + Node.js), a local tag only, never pushed: the
# test image bakes it so an emulated node does not pull Node.js (fleet/build-image.sh).
FLEETLAB_NODE_RUNTIME_IMAGE=${FLEETLAB_NODE_RUNTIME_IMAGE:-fleetlab/node-runtime:$FLEETLAB_IMAGE_VERSION}

# Prints the docker client that matches Debian's engine.
docker_bin() {
  echo "$FLEETLAB_DOCKER"
}

# Runs the matching docker client with the given arguments.
dk() {
  "$FLEETLAB_DOCKER" "$@"
}

# Ensures dockerd answers. Starts Debian's dockerd in the background when it does
# not, logging to $FLEETLAB_DOCKERD_LOG, and waits (bounded: 60 s) until
# `docker info` works. A lock keeps two concurrent callers from starting two engines.
# dockerd is shared by everyone on the machine: never stop it from a test.
ensure_dockerd() {
  if dk info >/dev/null 2>&1; then return 0; fi
  [ -x /usr/sbin/dockerd ] || {
    echo "ensure_dockerd: /usr/sbin/dockerd missing; fix: apt-get install docker.io" >&2
    return 1
  }
  mkdir -p "$FLEETLAB_CACHE"
  (
    flock -w 90 9 || { echo "ensure_dockerd: lock $FLEETLAB_CACHE/dockerd.lock busy" >&2; exit 1; }
    if ! dk info >/dev/null 2>&1; then
      # The machine's engine writes /var/run/docker.pid; a private dockerd (the test
      # image's bake engine, a test's own) has a pid file of its own and must not be
      # mistaken for it, or we would wait for an engine nobody starts.
      local pid
      pid=$(cat /var/run/docker.pid 2>/dev/null || true)
      if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "    starting dockerd (log: $FLEETLAB_DOCKERD_LOG)" >&2
        # setsid: the engine must outlive the shell (and the test) that started it.
        setsid nohup /usr/sbin/dockerd >>"$FLEETLAB_DOCKERD_LOG" 2>&1 </dev/null &
      fi
      local i
      for i in $(seq 1 120); do
        dk info >/dev/null 2>&1 && exit 0
        sleep 0.5
      done
      echo "ensure_dockerd: dockerd did not answer within 60 s; see $FLEETLAB_DOCKERD_LOG" >&2
      tail -n 20 "$FLEETLAB_DOCKERD_LOG" >&2 || true
      exit 1
    fi
  ) 9>"$FLEETLAB_CACHE/dockerd.lock"
}

# True when the local engine has the image (no registry is reachable here).
image_exists() {
  dk image inspect "$1" >/dev/null 2>&1
}

# Bundles a Node.js entry point and its npm dependencies into one file with esbuild:
#   bundle_node ENTRY.ts OUT_DIR NAME   ->  OUT_DIR/lib/NAME.js, OUT_DIR/proto/
# One file instead of hundreds: under QEMU software emulation every module Node
# resolves and compiles costs real seconds at start. etcd3 loads its .proto files
# from <bundle dir>/../proto at run time, so they are copied beside it.
bundle_node() {
  local entry=$1 out=$2 name=$3 root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  mkdir -p "$out/lib"
  # x11 is an optional require inside dbus-next that only matters for X11 sessions.
  # Whitespace and syntax minified, names kept (stack traces still name functions):
  # V8 keeps every script's source in memory, and the agent's bundle went from 1.7 to
  # 1.1 MB, 3 MiB less resident in Debian's Node.js 18 (measured in the fleet image).
  (cd "$root" && npx --no-install esbuild "$entry" --bundle --platform=node --target=node18 \
    --minify-whitespace --minify-syntax \
    --external:x11 --outfile="$out/lib/$name.js" --log-level=warning)
  rm -rf "$out/proto" && cp -r "$root/node_modules/etcd3/proto" "$out/proto"
}

# Hash of every file under a build context (names and contents) plus the base image's
# ID: the label that says whether an image is up to date.
context_hash_of() {
  (cd "$1" && find . -type f ! -name "*.ts" -print0 | sort -z | xargs -0 sha256sum
    dk image inspect -f '{{.Id}}' "$FLEETLAB_BASE_IMAGE") | sha256sum | cut -c1-16
}

# The base image's recipe: a hash of containers/base.sh and the files it installs
# (containers/slim/), kept by base.sh as the label $FLEETLAB_BASE_LABEL. Why: the base
# used to be built only when missing, so a machine that had the old, unstripped base
# (149 MB) would have kept it; an image whose label differs, or that has none, is
# rebuilt once. A new base has a new ID, so every image FROM it is rebuilt too
# (context_hash_of).
FLEETLAB_BASE_LABEL=org.fleetlab.base-recipe
base_recipe_hash() {
  local here
  here=$(dirname "${BASH_SOURCE[0]}")
  sha256sum "$here/base.sh" "$here"/slim/* | sed 's|  .*/|  |' | sha256sum | cut -c1-16
}

# Prints image $1's recipe label (empty when it has none or is missing).
base_recipe_of() {
  dk image inspect -f "{{index .Config.Labels \"$FLEETLAB_BASE_LABEL\"}}" "$1" 2>/dev/null || true
}

# Ensures the base image $FLEETLAB_BASE_IMAGE exists and was built from the current
# recipe, building it from debootstrap (containers/base.sh) when not.
ensure_base_image() {
  ensure_dockerd || return 1
  [ "$(base_recipe_of "$FLEETLAB_BASE_IMAGE")" = "$(base_recipe_hash)" ] && return 0
  bash "$(dirname "${BASH_SOURCE[0]}")/base.sh"
}
