#!/usr/bin/env bash
# Builds fleetlab/fleet-systemd-test:latest FROM the fleet image (rebuilt when the
# fleet image or this Dockerfile changed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../containers/lib.sh"
image=${FLEETLAB_FLEET_SYSTEMD_IMAGE:-fleetlab/fleet-systemd-test:latest}
fleet=$FLEETLAB_FLEET_IMAGE
want=$( (sha256sum "$here/Dockerfile"; dk image inspect -f '{{.Id}}' "$fleet") | sha256sum | cut -c1-16)
have=$(dk image inspect -f '{{index .Config.Labels "org.fleetlab.context-hash"}}' "$image" 2>/dev/null || true)
if [ "$have" = "$want" ]; then
  echo "    $image up to date ($want)"
  exit 0
fi
echo "    building $image"
nice "$FLEETLAB_DOCKER" build -q --build-arg "FLEET_IMAGE=$fleet" --label "org.fleetlab.context-hash=$want" -t "$image" "$here" >/dev/null
echo "    built $image"
