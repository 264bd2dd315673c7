#!/usr/bin/env bash
# The fleet agent image ($FLEETLAB_FLEET_IMAGE, see containers/lib.sh) and, for the D-Bus test, the
# same image with systemd + dbus. Both rebuild only when their inputs changed.
set -euo pipefail
bash "$FLEETLAB_ROOT/fleet/build-image.sh"
bash "$FLEETLAB_ROOT/tests/fleet/systemd-image/build.sh"
