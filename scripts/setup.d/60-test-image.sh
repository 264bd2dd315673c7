#!/usr/bin/env bash
# Builds the Debian stand-in for Flatcar that the e2e test boots (image/build.sh). It is
# cached by a hash of its inputs, so this is a no-op when nothing changed. Only the
# e2e layer needs it, and tests/e2e builds it itself when it is missing: this step only
# builds it ahead of time when FLEETLAB_E2E=1 (cold: ~6 min; see image/build.sh).
set -euo pipefail
if [ "${FLEETLAB_E2E:-0}" != "1" ]; then
  echo "    test image not needed (FLEETLAB_E2E!=1): $(bash image/build.sh --print-dir)"
  exit 0
fi
bash image/build.sh | tail -1
