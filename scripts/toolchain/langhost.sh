# Sourced by scripts/toolchain.sh: builds pulumi-language-nodejs from
# scripts/toolchain/langhost-nodejs (why ours: see that folder's README.md).
#
# It is compiled inside the CLI's wrapper module, so the host and the engine use the
# very same module versions (sdk, grpc, protobuf) and the host reuses the packages
# the CLI build already compiled.
langhost_src() { echo "$here/toolchain/langhost-nodejs"; }

# The binary is rebuilt whenever its source or the CLI version changes.
langhost_stamp() {
  (cd "$(langhost_src)" && cat ./*.go && echo "$CLI_VERSION") | sha256sum | cut -d' ' -f1
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
