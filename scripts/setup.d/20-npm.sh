#!/usr/bin/env bash
# npm ci only when package-lock.json changed since the last install, so a warm
# `npm test` does not spend half a minute reinstalling node_modules.
set -euo pipefail
stamp=node_modules/.fleetlab-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "    node_modules matches package-lock.json"
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
