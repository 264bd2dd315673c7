#!/usr/bin/env bash
# Builds the Pulumi engine toolchain from Go module source, into a cache outside the
# repo, and tells the project's commands how to use it. No prebuilt binary is ever
# downloaded (the Pulumi CLI is not on npm; the `pulumi` npm package only downloads).
#
#   scripts/toolchain.sh [install]   build what is missing (fast no-op when warm)
#   scripts/toolchain.sh env         print `export` lines: eval "$(scripts/toolchain.sh env)"
#   scripts/toolchain.sh env-lines   the same as NAME=VALUE lines (PATH not included)
#   scripts/toolchain.sh check       exit 0 only when the toolchain is complete
#   scripts/toolchain.sh versions    print the pinned versions as JSON
#   scripts/toolchain.sh langhost-test   go vet and go test of our language host
#
# What is built (why these versions: the comment at CLI_VERSION below, and
# scripts/toolchain/langhost-nodejs/README.md):
#   pulumi                  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi at $CLI_VERSION
#   pulumi-language-nodejs  scripts/toolchain/langhost-nodejs (our own, see its README)
# and `pulumi-resource-pulumi-nodejs` (the dynamic-provider shim) is put on PATH from
# node_modules/@pulumi/pulumi, where the npm package ships it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

# The Node SDK version the program runs with (package.json pins it).
SDK_VERSION=$(node -p 'require(process.argv[1]).version' "$repo/node_modules/@pulumi/pulumi/package.json" 2>/dev/null || true)
# The CLI is built from the first release at or after the SDK version that the Go
# module proxy serves whole: pkg/v3@v3.270.0's zip is refused by the proxy reachable
# here ("This module version is not available"), v3.274.1 is served. A CLI newer than
# the SDK is the direction Pulumi supports (the SDK asks the engine which features it
# has); the npm registry's newest @pulumi/pulumi is 3.270.0, so the SDK cannot follow.
# Override with FLEETLAB_PULUMI_CLI_VERSION=3.x.y where the proxy has the exact one.
CLI_VERSION=${FLEETLAB_PULUMI_CLI_VERSION:-3.274.1}

cache_root=${FLEETLAB_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetlab/toolchain}
prefix=$cache_root/v$CLI_VERSION
bin=$prefix/bin

say() { printf '    toolchain: %s\n' "$*"; }
die() {
  printf 'toolchain: error: %s\n' "$*" >&2
  exit 1
}

# Go state lives in the cache so a second run (or a second clone) reuses downloads and
# compiled packages; GOTOOLCHAIN=local stops go from fetching another Go release.
go_env() {
  export GOPATH=$cache_root/go
  export GOMODCACHE=$cache_root/go/pkg/mod
  export GOCACHE=$cache_root/go-build
  export GOFLAGS=-mod=mod
  export GOTOOLCHAIN=local
  export CGO_ENABLED=0
}

find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  elif [ -x /usr/lib/go/bin/go ]; then
    echo /usr/lib/go/bin/go
  else
    return 1
  fi
}

ensure_go() {
  GO=$(find_go) || {
    say "no Go found: installing Debian's golang"
    if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq golang >/dev/null; else sudo apt-get install -y -qq golang >/dev/null; fi
    GO=$(find_go) || die "Go is still missing after 'apt-get install golang'"
  }
  local have need
  have=$("$GO" env GOVERSION | sed 's/^go//')
  need=$(go_version_needed) || exit 1
  if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
    die "Go $have at $GO is older than the go $need that pulumi v$CLI_VERSION declares; install Go >= $need and put it first on PATH"
  fi
  say "using $GO (go$have)"
}

# The `go` line of pkg's go.mod, read from the proxy (small request).
go_version_needed() {
  local gomod
  gomod=$(pkg_gomod) || exit 1
  sed -n 's/^go \([0-9.]*\).*/\1/p' "$gomod" | head -1
}

pkg_gomod() {
  local out
  out=$("$GO" mod download -json "github.com/pulumi/pulumi/pkg/v3@v$CLI_VERSION" 2>&1) ||
    proxy_error "$out"
  printf '%s' "$out" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p'
}

proxy_error() {
  die "cannot fetch github.com/pulumi/pulumi/pkg/v3@v$CLI_VERSION from the Go module proxy ($("$GO" env GOPROXY)).
  The toolchain is built from Go module source and needs the proxy once (later runs reuse $cache_root).
  Check network access to the proxy, or set GOPROXY to a reachable mirror.
  go said: $(printf '%s' "$1" | grep -m1 -iE 'error|forbidden|dial|timeout|not' || printf '%s' "$1" | tail -1)"
}

# The time now in seconds (with fractions), and the seconds since a time taken with it.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

record_timing() {
  # step, seconds, kind(cold|warm)
  local f=$prefix/timings.jsonl
  mkdir -p "$prefix"
  printf '{"step":"%s","seconds":%s,"kind":"%s","at":"%s"}\n' "$1" "$2" "$3" "$(date -u +%FT%TZ)" >>"$f"
}

cli_ok() { [ -x "$bin/pulumi" ] && [ "$("$bin/pulumi" version 2>/dev/null)" = "v$CLI_VERSION" ]; }

build_cli() {
  if cli_ok; then
    say "pulumi v$CLI_VERSION already built"
    return
  fi
  local t0 src=$prefix/src/cli gomod
  t0=$(now)
  say "building pulumi v$CLI_VERSION from Go module source (cold: tens of minutes on 2 cores)"
  gomod=$(pkg_gomod)
  mkdir -p "$src" "$bin"
  # Wrapper module: pkg and sdk at the same tag (no skew), plus pkg's own non-local
  # replace lines (its `sdk => ../sdk` only works inside pulumi's repo).
  {
    echo "module fleetlab.invalid/toolchain/cli"
    echo
    echo "go $(go_version_needed)"
    echo
    echo "require ("
    echo "	github.com/pulumi/pulumi/pkg/v3 v$CLI_VERSION"
    echo "	github.com/pulumi/pulumi/sdk/v3 v$CLI_VERSION"
    echo ")"
    echo
    grep -E '^replace ' "$gomod" | grep -vE '=>[[:space:]]*\.{0,2}/' || true
  } >"$src/go.mod"
  printf 'package tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' >"$src/tools.go"
  local t1
  t1=$(now)
  local out
  out=$(cd "$src" && "$GO" mod tidy 2>&1) || proxy_error "$out"
  say "modules resolved ($(elapsed "$t1")s)"
  record_timing cli-modules "$(elapsed "$t1")" cold
  t1=$(now)
  (cd "$src" && nice -n 10 "$GO" build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$CLI_VERSION" \
    -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  record_timing cli-compile "$(elapsed "$t1")" cold
  cli_ok || die "built $bin/pulumi but 'pulumi version' does not say v$CLI_VERSION"
  say "pulumi v$CLI_VERSION built ($(elapsed "$t0")s)"
}

# An installed pulumi of the pinned (or the SDK's) version, with its language host
# next to it, is used as it is.
path_pulumi() {
  local p v
  p=$(command -v pulumi 2>/dev/null) || return 1
  case "$p" in "$cache_root"/*) return 1 ;; esac
  v=$("$p" version 2>/dev/null) || return 1
  [ "$v" = "v$CLI_VERSION" ] || [ "$v" = "v$SDK_VERSION" ] || return 1
  [ -x "$(dirname "$p")/pulumi-language-nodejs" ] || return 1
  dirname "$p"
}

shim_dir() { echo "$repo/node_modules/@pulumi/pulumi"; }

toolchain_bin() {
  if [ -z "${FLEETLAB_IGNORE_PATH_PULUMI:-}" ] && path_pulumi >/dev/null; then
    path_pulumi
  else
    echo "$bin"
  fi
}

check() {
  [ -n "$SDK_VERSION" ] || die "node_modules/@pulumi/pulumi is missing: run 'bash scripts/setup.sh'"
  local b
  b=$(toolchain_bin)
  [ -x "$b/pulumi" ] || die "pulumi is not built ($b/pulumi): run 'bash scripts/setup.sh'"
  [ -x "$b/pulumi-language-nodejs" ] || die "pulumi-language-nodejs is not built ($b): run 'bash scripts/setup.sh'"
  [ -x "$(shim_dir)/pulumi-resource-pulumi-nodejs" ] || die "$(shim_dir)/pulumi-resource-pulumi-nodejs is missing: run 'bash scripts/setup.sh'"
}

# The environment every Pulumi command of the project runs with, as NAME=VALUE lines
# (PATH gains the toolchain's bin and the dynamic-provider shim's folder).
env_lines() {
  local b
  b=$(toolchain_bin)
  echo "FLEETLAB_PULUMI_BIN=$b"
  echo "FLEETLAB_PULUMI_SHIM_DIR=$(shim_dir)"
  echo "PULUMI_SKIP_UPDATE_CHECK=true"
  echo "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
  # Plugins and workspace settings of the lab stay out of the user's ~/.pulumi.
  echo "PULUMI_HOME=${PULUMI_HOME:-$prefix/pulumi-home}"
}

print_env() {
  local line
  while IFS= read -r line; do
    printf 'export %s=%q\n' "${line%%=*}" "${line#*=}"
  done < <(env_lines)
  printf 'export PATH="$FLEETLAB_PULUMI_BIN:$FLEETLAB_PULUMI_SHIM_DIR:$PATH"\n'
}

install() {
  [ -n "$SDK_VERSION" ] || die "node_modules/@pulumi/pulumi is missing: run 'npm ci' first"
  if [ "$(printf '%s\n%s\n' "$SDK_VERSION" "$CLI_VERSION" | sort -V | head -1)" != "$SDK_VERSION" ]; then
    die "FLEETLAB_PULUMI_CLI_VERSION=$CLI_VERSION is older than @pulumi/pulumi $SDK_VERSION in package.json; the CLI must be at least the SDK's version"
  fi
  if [ -z "${FLEETLAB_IGNORE_PATH_PULUMI:-}" ] && path_pulumi >/dev/null; then
    say "using pulumi $(pulumi version) from $(path_pulumi)"
    return
  fi
  if cli_ok && langhost_ok; then
    check
    record_timing warm "$(elapsed "$started")" warm
    say "pulumi v$CLI_VERSION and pulumi-language-nodejs ready in $bin"
    return
  fi
  go_env
  ensure_go
  local t0
  t0=$(now)
  build_cli
  build_langhost
  mkdir -p "$prefix/pulumi-home"
  check
  record_timing cold-total "$(elapsed "$t0")" cold
  say "toolchain ready in $bin ($(elapsed "$t0")s); cache $(du -sh "$cache_root" | cut -f1)"
}

# shellcheck source=scripts/toolchain/langhost.sh
. "$here/toolchain/langhost.sh"

started=$(now)
# Everything below runs from one parsed compound command, so editing this file while
# a long build runs cannot change what the running build does next.
{
case "${1:-install}" in
  install) install ;;
  env) print_env ;;
  env-lines) env_lines ;;
  check) check ;;
  langhost-test) go_env && ensure_go >/dev/null && test_langhost ;;
  versions) printf '{"sdk":"%s","cli":"%s","cache":"%s","bin":"%s"}\n' "$SDK_VERSION" "$CLI_VERSION" "$cache_root" "$(toolchain_bin)" ;;
  *) die "unknown command '$1' (install|env|env-lines|check|versions|langhost-test)" ;;
esac
exit
}
