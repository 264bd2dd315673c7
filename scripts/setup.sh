#!/usr/bin/env bash
# Installs everything fleetlab needs on a fresh Debian 12 machine, idempotently, and
# reuses what is already there. Called by `npm test` (pretest), by `npm run lab`
# (prelab) and by .ci/run. Each step lives in scripts/setup.d/NN-name.sh and prints
# how long it took; Debian packages are listed in scripts/setup.d/*.packages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export FLEETLAB_ROOT=$(cd "$here/.." && pwd)
cd "$FLEETLAB_ROOT"

step() {
  local name=$1
  shift
  local t0=$SECONDS
  printf '==> setup: %s\n' "$name"
  "$@"
  printf '    done: %s (%ss)\n' "$name" $((SECONDS - t0))
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
export -f as_root

apt_packages() {
  local wanted missing=()
  wanted=$(cat scripts/setup.d/*.packages | sed 's/#.*//' | tr -s ' \n' '\n' | sed '/^$/d' | sort -u)
  for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "    all $(echo "$wanted" | wc -l) Debian packages present"
    return
  fi
  echo "    installing: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

step "Debian packages" apt_packages
for s in scripts/setup.d/[0-9][0-9]-*.sh; do
  [ -e "$s" ] || continue
  step "$(basename "$s" .sh)" bash "$s"
done
echo "==> setup complete"
