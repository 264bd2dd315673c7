# Sourced by scripts/toolchain.sh: builds pulumi-language-nodejs from
# scripts/toolchain/langhost-nodejs (why ours: see that folder's README.md).
langhost_src() { echo "$here/toolchain/langhost-nodejs"; }

# The binary is rebuilt whenever its source or the CLI version changes.
langhost_stamp() {
  (cd "$(langhost_src)" && cat go.mod go.sum ./*.go && echo "$CLI_VERSION") | sha256sum | cut -d' ' -f1
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
  local t0
  t0=$(now)
  say "building pulumi-language-nodejs"
  mkdir -p "$bin"
  # -mod=readonly: the repo's go.mod/go.sum pin every module; a build never edits them.
  (cd "$(langhost_src)" && GOFLAGS=-mod=readonly nice -n 10 "$GO" build -trimpath \
    -ldflags "-s -w -X main.version=v$CLI_VERSION" -o "$bin/pulumi-language-nodejs" .)
  langhost_stamp >"$bin/.langhost.sha256"
  record_timing langhost-compile "$(elapsed "$t0")" cold
  say "pulumi-language-nodejs built ($(elapsed "$t0")s)"
}
