#!/usr/bin/env bash
# Builds fleetlab's service images: containers/build.sh [dhcp|www|ldap ...]
# (default: all). An image is rebuilt only when its build context or the base image
# changed: the context hash is stored as a label and compared before building, so a
# warm run costs one `docker image inspect` per image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

FLEETLAB_IMAGE_REPO=${FLEETLAB_IMAGE_REPO:-ghcr.io/fleetlab}
FLEETLAB_IMAGE_VERSION=${FLEETLAB_IMAGE_VERSION:-0.1.0}
# FLEETLAB_BUILD_NO_CACHE=1: ignore Docker's layer cache (cold-build benchmark).
no_cache=()
[ "${FLEETLAB_BUILD_NO_CACHE:-}" = 1 ] && no_cache=(--no-cache)
services=("$@")
[ ${#services[@]} -gt 0 ] || services=(dhcp www ldap sidekick)

ensure_base_image
base_id=$(dk image inspect -f '{{.Id}}' "$FLEETLAB_BASE_IMAGE")

context_hash() {
  if [ "$1" = sidekick ]; then
    # The sidekick's image holds compiled TypeScript: hash its sources (what tsc
    # may follow from it), the lock file and the Dockerfile.
    (cd "$here/.." && find containers infra/ignition infra/config -name "*.ts" ! -name "*.test.ts" -print0 |
      sort -z | xargs -0 sha256sum; sha256sum package-lock.json containers/sidekick/Dockerfile containers/sidekick/context.sh; echo "$base_id") |
      sha256sum | cut -c1-16
    return
  fi
  # File names and contents (not the TypeScript, which .dockerignore keeps out of the
  # image), in a stable order, plus the base image's ID.
  (cd "$here/$1" && find . -type f ! -name "*.ts" -print0 | sort -z | xargs -0 sha256sum; echo "$base_id") |
    sha256sum | cut -c1-16
}

for svc in "${services[@]}"; do
  [ -f "$here/$svc/Dockerfile" ] || { echo "build.sh: no containers/$svc/Dockerfile (known: dhcp www ldap)" >&2; exit 1; }
  image="$FLEETLAB_IMAGE_REPO/$svc:$FLEETLAB_IMAGE_VERSION"
  want=$(context_hash "$svc")
  have=$(dk image inspect -f '{{index .Config.Labels "org.fleetlab.context-hash"}}' "$image" 2>/dev/null || true)
  if [ "$have" = "$want" ]; then
    echo "    $image up to date ($want)"
    continue
  fi
  echo "    building $image (context $want)"
  t0=$SECONDS
  log="$FLEETLAB_CACHE/build-$svc.log"
  context="$here/$svc"
  if [ "$svc" = sidekick ]; then
    context="$FLEETLAB_CACHE/sidekick-context"
    bash "$here/sidekick/context.sh" "$context"
  fi
  if ! nice "$FLEETLAB_DOCKER" build "${no_cache[@]}" --label "org.fleetlab.context-hash=$want" -t "$image" "$context" >"$log" 2>&1; then
    echo "build.sh: docker build of $image failed; last lines of $log:" >&2
    tail -n 25 "$log" >&2
    exit 1
  fi
  echo "    built $image in $((SECONDS - t0))s"
done
