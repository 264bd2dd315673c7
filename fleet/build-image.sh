#!/usr/bin/env bash
# Builds the fleet agent image (default $FLEETLAB_FLEET_IMAGE, see containers/lib.sh):
#   fleet/build-image.sh [IMAGE]
# 1. esbuild bundles fleet/main.ts and its npm dependencies into one JS file
#    (bundle_node in containers/lib.sh);
# 2. docker builds fleet/Dockerfile (FROM debian:bookworm-slim + Debian's nodejs).
# Rebuilds only when the bundle or the Dockerfile changed (hash kept as a label).
# 3. tags the Dockerfile's first stage (base + Node.js) as $FLEETLAB_NODE_RUNTIME_IMAGE
#    for the test image to bake, whenever its layers are not the fleet image's own.
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
else
  echo "    building $image (context $want)"
  nice "$FLEETLAB_DOCKER" build -q --label "org.fleetlab.context-hash=$want" -t "$image" "$ctx" >/dev/null
  echo "    built $image"
fi

# The runtime tag must name the very layers the fleet image starts with (a node told
# it holds them skips their download); Docker's build cache makes this build a no-op
# after the one above. No label: its ID then changes only with those layers, and the
# test image, keyed by it, is not rebuilt for every change of fleet's code.
layers() { dk image inspect -f '{{range .RootFS.Layers}}{{.}} {{end}}' "$1" 2>/dev/null || true; }
runtime=$FLEETLAB_NODE_RUNTIME_IMAGE
if [ -n "$(layers "$runtime")" ] && [[ "$(layers "$image")" == "$(layers "$runtime")"* ]]; then
  echo "    $runtime up to date"
else
  nice "$FLEETLAB_DOCKER" build -q --target node-runtime -t "$runtime" "$ctx" >/dev/null
  [[ "$(layers "$image")" == "$(layers "$runtime")"* ]] ||
    { echo "build-image.sh: $runtime's layers are not the start of $image's (build cache lost?)" >&2; exit 1; }
  echo "    tagged $runtime"
fi
