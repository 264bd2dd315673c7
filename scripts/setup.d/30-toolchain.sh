#!/usr/bin/env bash
# The Pulumi engine: pulumi + pulumi-language-nodejs built from Go module source into
# ~/.cache/fleetlab/toolchain (cold: see bench/results/toolchain.json; warm: a version
# check). Needs node_modules (20-npm) for the SDK version and the dynamic-provider shim.
set -euo pipefail
exec bash scripts/toolchain.sh install
