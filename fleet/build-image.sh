#!/usr/bin/env bash
# Builds the fleet agent image (default $FLEETLAB_FLEET_IMAGE, see containers/lib.sh):
#   fleet/build-image.sh [IMAGE]
# 1. esbuild bundles fleet/main.ts and its npm dependencies into one JS file
#    (bundle_node in containers/lib.sh);
# 2. docker builds fleet/Dockerfile (FROM debian:bookworm-slim + Debian's nodejs).
# Rebuilds only when the bundle or the Dockerfile changed (hash kept as a label).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/containers/lib.sh"
image=${1:-$FLEETLAB_FLEET_IMAGE}
ctx="$root/build/fleet-image"
rm -rf "$ctx" && mkdir -p "$ctx"
bundle_node fleet/main.ts "$ctx" fleet
cp "$root/fleet/Dockerfile" "$ctx/Dockerfile"
ensure_base_image
want=$(context_hash_of "$ctx")
have=$(dk image inspect -f '{{index .Config.Labels "org.fleetlab.context-hash"}}' "$image" 2>/dev/null || true)
if [ "$have" = "$want" ]; then
  echo "    $image up to date ($want)"
  exit 0
fi
echo "    building $image (context $want)"
nice "$FLEETLAB_DOCKER" build -q --label "org.fleetlab.context-hash=$want" -t "$image" "$ctx" >/dev/null
echo "    built $image"
