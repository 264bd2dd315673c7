#!/usr/bin/env bash
# Toolchain build figures -> bench/results/toolchain.json (not part of npm test).
#
#   bash bench/toolchain.sh          warm runs of the cache in use, and the cold build
#                                    recorded when that cache was first filled
#   bash bench/toolchain.sh --cold   also a cold build from nothing, into a temp cache
#                                    (module downloads + compile; ~10 min on 2 cores)
#
# Timings come from scripts/toolchain.sh itself (timings.jsonl in the cache).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
out=bench/results/toolchain.json
cache=${FLEETLAB_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetlab/toolchain}

# Last timing of `step` in a timings.jsonl, or null.
last_step() {
  local file=$1 step=$2
  [ -f "$file" ] || { echo null; return; }
  jq -s --arg s "$step" '[.[] | select(.step == $s)] | last | if . == null then null else .seconds end' "$file"
}

# First recorded cold build in `file`: {total_s, steps, at}.
cold_of() {
  local file=$1
  [ -f "$file" ] || { echo null; return; }
  jq -s '
    (map(select(.step == "cold-total")) | first) as $t
    | if $t == null then null else
      { total_s: $t.seconds, at: $t.at,
        steps: (map(select(.kind == "cold" and .step != "cold-total" and .at <= $t.at))
                | map({(.step): .seconds}) | add) } end' "$file"
}

versions=$(bash scripts/toolchain.sh versions)
cli=$(jq -r .cli <<<"$versions")
timings=$cache/v$cli/timings.jsonl

fresh=null
if [ "${1:-}" = "--cold" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "==> bench: cold build into $tmp"
  FLEETLAB_TOOLCHAIN_CACHE=$tmp FLEETLAB_IGNORE_PATH_PULUMI=1 bash scripts/toolchain.sh install
  fresh=$(jq -n --argjson c "$(cold_of "$tmp/v$cli/timings.jsonl")" \
    --arg size "$(du -sb "$tmp" | cut -f1)" '$c + {cache_bytes: ($size | tonumber)}')
fi

echo "==> bench: warm runs"
bash scripts/toolchain.sh install >/dev/null # make sure the cache in use is complete
warm=()
for _ in 1 2 3 4 5; do
  bash scripts/toolchain.sh install >/dev/null
  warm+=("$(last_step "$timings" warm)")
done

cache_bytes=$(du -sb "$cache" | cut -f1)
jq -n \
  --argjson versions "$versions" \
  --argjson recorded "$(cold_of "$timings")" \
  --argjson fresh "$fresh" \
  --argjson warm "[$(IFS=,; echo "${warm[*]}")]" \
  --arg cache_bytes "$cache_bytes" \
  --arg cache_parts "$(du -sh "$cache"/* | awk '{printf "%s %s; ", $2, $1}')" \
  --arg cpus "$(nproc)" \
  --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg go "$(go env GOVERSION 2>/dev/null || /usr/local/go/bin/go env GOVERSION)" \
  '{
    what: "Pulumi toolchain (pulumi + pulumi-language-nodejs) built from Go module source by scripts/toolchain.sh",
    sdk_version: $versions.sdk, cli_version: $versions.cli, go: $go,
    cold_build_recorded: $recorded,
    cold_build_fresh: $fresh,
    warm_runs_s: $warm,
    warm_max_s: ($warm | max),
    cache_bytes: ($cache_bytes | tonumber),
    cache_gib: (($cache_bytes | tonumber) / 1073741824 * 100 | round / 100),
    cache_parts: $cache_parts,
    machine: { cpus: ($cpus | tonumber), loadavg_at_end: $load,
               note: "2 cores shared with other work: cold figures vary with load" }
  }' >"$out"
cat "$out"
