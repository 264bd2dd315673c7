#!/usr/bin/env bash
# Prepares the sidekick's Docker build context in $1: the Dockerfile and one esbuild
# bundle of containers/sidekick/main.ts with everything it imports (our sources and
# the npm packages), so the image's hash covers exactly what the sidekick runs.
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
rm -rf "$out" && mkdir -p "$out"
cp "$here/Dockerfile" "$out/"
bundle_node containers/sidekick/main.ts "$out" sidekick
