#!/usr/bin/env bash
# Docker engine + the locally built base image every fleetlab image starts FROM.
set -euo pipefail
. "$FLEETLAB_ROOT/containers/lib.sh"
ensure_dockerd
echo "    dockerd: $(dk version --format '{{.Server.Version}}')"
ensure_base_image
