#!/usr/bin/env bash
# Builds the real fleetctl of coreos/fleet v1.0.0 (the last release) from Go module
# source, so tests/compat can run fleet users' own client against fleetlab's API.
#   tests/compat/fleetctl-v1/build.sh      prints the binary's path
# fleet v1.0.0 predates Go modules and its module zip has no vendor/, so go.mod here
# pins its dependencies near its glide.lock (the proxy serves no commit of that file;
# the nearest tags): google.golang.org/api v0.1.0 still has the googleapi package its
# generated client uses, and ugorji/go v1.1.1 is the codec etcd v3.3.8's client was
# generated for (newer ones fail at start with "codecgen version mismatch").
# The binary goes to ~/.cache/fleetlab/fleetctl-v1 and is rebuilt only when go.mod,
# go.sum or this file change. About 4 minutes cold on a 2-core machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
go=${GO:-/usr/local/go/bin/go}
[ -x "$go" ] || go=$(command -v go) || {
  echo "fleetctl-v1: no Go toolchain (run scripts/setup.sh first)" >&2
  exit 1
}
cache=${FLEETLAB_CACHE:-$HOME/.cache/fleetlab}/fleetctl-v1
want=$(cat "$here/go.mod" "$here/go.sum" "$0" | sha256sum | cut -c1-16)
bin="$cache/fleetctl"
if [ -x "$bin" ] && [ "$(cat "$cache/hash" 2>/dev/null)" = "$want" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache"
echo "fleetctl-v1: building coreos/fleet v1.0.0's fleetctl (a few minutes cold)" >&2
GOFLAGS=-mod=mod "$go" mod download github.com/coreos/fleet@v1.0.0
src="$("$go" env GOMODCACHE)/github.com/coreos/fleet@v1.0.0"
work="$cache/src"
rm -rf "$work"
cp -r "$src" "$work"
chmod -R u+w "$work"
cp "$here/go.mod" "$here/go.sum" "$work/"
# As upstream's ./build does: static, with the version stamped in.
(cd "$work" && CGO_ENABLED=0 nice "$go" build -mod=mod -trimpath -o "$bin.tmp" \
  -ldflags "-X github.com/coreos/fleet/version.Version=v1.0.0" ./fleetctl)
mv "$bin.tmp" "$bin"
rm -rf "$work"
echo "$want" >"$cache/hash"
"$bin" --version >&2
echo "$bin"
