# Sourced by scripts/toolchain.sh: builds pulumi-language-nodejs from
# scripts/toolchain/langhost-nodejs (why ours: see that folder's README.md).
#
# It is compiled inside the CLI's wrapper module, so the host and the engine use the
# very same module versions (sdk, grpc, protobuf) and the host reuses the packages
# the CLI build already compiled.
langhost_src() { echo "$here/toolchain/langhost-nodejs"; }

# The binary is rebuilt whenever its source (tests aside) or the CLI version changes.
langhost_stamp() {
  (cd "$(langhost_src)" && cat $(ls ./*.go | grep -v '_test\.go$') && echo "$CLI_VERSION") |
    sha256sum | cut -d' ' -f1
}

langhost_ok() {
  [ -x "$bin/pulumi-language-nodejs" ] && [ -f "$bin/.langhost.sha256" ] &&
    [ "$(cat "$bin/.langhost.sha256")" = "$(langhost_stamp)" ]
}

build_langhost() {
  if langhost_ok; then
    say "pulumi-language-nodejs already built"
    return
  fi
  local t0 pkg=$prefix/src/cli/langhost-nodejs
  t0=$(now)
  say "building pulumi-language-nodejs"
  [ -f "$prefix/src/cli/go.mod" ] || die "the CLI's wrapper module $prefix/src/cli is missing: remove $bin and run again"
  rm -rf "$pkg" && mkdir -p "$pkg" "$bin"
  find "$(langhost_src)" -maxdepth 1 -name '*.go' ! -name '*_test.go' -exec cp {} "$pkg/" \;
  (cd "$prefix/src/cli" && nice -n 10 "$GO" build -trimpath \
    -ldflags "-s -w -X main.version=v$CLI_VERSION" -o "$bin/pulumi-language-nodejs" ./langhost-nodejs)
  langhost_stamp >"$bin/.langhost.sha256"
  record_timing langhost-compile "$(elapsed "$t0")" cold
  say "pulumi-language-nodejs built ($(elapsed "$t0")s)"
}

# `go vet` and `go test` of the host, in the same wrapper module it is built in (so with
# the very module versions it runs with), from a scratch package removed afterwards.
test_langhost() {
  [ -f "$prefix/src/cli/go.mod" ] || die "the CLI's wrapper module $prefix/src/cli is missing: run 'bash scripts/setup.sh'"
  local pkg=$prefix/src/cli/langhost-nodejs-test
  rm -rf "$pkg" && mkdir -p "$pkg"
  cp "$(langhost_src)"/*.go "$pkg/"
  local rc=0
  (cd "$prefix/src/cli" && "$GO" vet ./langhost-nodejs-test && "$GO" test -count=1 ./langhost-nodejs-test) || rc=$?
  rm -rf "$pkg"
  return "$rc"
}
