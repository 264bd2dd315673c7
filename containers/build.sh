#!/usr/bin/env bash
# Builds fleetlab's service images: containers/build.sh [dhcp|www|ldap ...]
# (default: all). An image is rebuilt only when its build context or the base image
# changed: the context hash is stored as a label and compared before building, so a
# warm run costs one `docker image inspect` per image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# FLEETLAB_BUILD_NO_CACHE=1: ignore Docker's layer cache (cold-build benchmark).
no_cache=()
[ "${FLEETLAB_BUILD_NO_CACHE:-}" = 1 ] && no_cache=(--no-cache)
services=("$@")
[ ${#services[@]} -gt 0 ] || services=(dhcp www ldap sidekick)

ensure_base_image

for svc in "${services[@]}"; do
  [ -f "$here/$svc/Dockerfile" ] || { echo "build.sh: no containers/$svc/Dockerfile (known: dhcp www ldap)" >&2; exit 1; }
  image="$FLEETLAB_IMAGE_REPO/$svc:$FLEETLAB_IMAGE_VERSION"
  context="$here/$svc"
  if [ "$svc" = sidekick ]; then
    # The sidekick's context is its bundle (under a second to make): hashing the
    # bundle covers every source it compiles from, whatever folder it lives in.
    context="$FLEETLAB_CACHE/sidekick-context"
    bash "$here/sidekick/context.sh" "$context"
  fi
  # File names and contents (the service folders' TypeScript is kept out of their
  # images by .dockerignore) plus the base image's ID.
  want=$(context_hash_of "$context")
  have=$(dk image inspect -f '{{index .Config.Labels "org.fleetlab.context-hash"}}' "$image" 2>/dev/null || true)
  if [ "$have" = "$want" ]; then
    echo "    $image up to date ($want)"
    continue
  fi
  echo "    building $image (context $want)"
  t0=$SECONDS
  log="$FLEETLAB_CACHE/build-$svc.log"
  if ! nice "$FLEETLAB_DOCKER" build "${no_cache[@]}" --label "org.fleetlab.context-hash=$want" -t "$image" "$context" >"$log" 2>&1; then
    echo "build.sh: docker build of $image failed; last lines of $log:" >&2
    tail -n 25 "$log" >&2
    exit 1
  fi
  echo "    built $image in $((SECONDS - t0))s"
done
