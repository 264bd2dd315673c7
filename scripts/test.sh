#!/usr/bin/env bash
# The whole test suite, layer by layer (docs/design.md "Where things are tested"): type
# check and lint, then the pure layers, then the layers that start real daemons one at a
# time (etcd clusters, containers, the Pulumi engine, libvirt VMs) so they never compete
# for the two cores.
#
#   npm test                              all layers
#   FLEETLAB_LAYERS="unit validate" npm test    a subset
#
# Ends with one line "N passed, N failed" counted over every layer that ran.
set -uo pipefail
cd "$(dirname "$0")/.."
layers=${FLEETLAB_LAYERS:-"unit validate fleet services pulumi e2e"}
results=build/test-results
rm -rf "$results" && mkdir -p "$results"
failed_layers=()

echo "==> test: type check (tsc --noEmit)"
t0=$SECONDS
if ! npx tsc --noEmit -p tsconfig.json; then
  failed_layers+=("typecheck")
fi
echo "    typecheck: $((SECONDS - t0))s"

echo "==> test: lint (eslint, prettier --check)"
t0=$SECONDS
if ! { npx eslint . && npx prettier --check . >/dev/null; }; then
  npx prettier --check . | tail -n 20
  failed_layers+=("lint")
fi
echo "    lint: $((SECONDS - t0))s"

for layer in $layers; do
  echo "==> test layer: $layer"
  t0=$SECONDS
  # The daemon layers run one file at a time; the pure ones use both cores.
  case $layer in unit | validate) band=() ;; *) band=(--runInBand) ;; esac
  npx jest --selectProjects "$layer" "${band[@]}" --json --outputFile="$results/$layer.json" \
    --testLocationInResults ${FLEETLAB_JEST_ARGS:-}
  rc=$?
  if [ ! -s "$results/$layer.json" ]; then
    echo "    layer $layer: jest wrote no results (exit $rc)"
    failed_layers+=("$layer")
  elif [ "$rc" -ne 0 ]; then
    failed_layers+=("$layer")
  fi
  echo "    layer $layer: $((SECONDS - t0))s"
done

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  const rows = [];
  for (const f of fs.readdirSync(process.argv[1]).sort()) {
    const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
    rows.push(`  ${f.replace(/\.json$/, "").padEnd(10)} ${String(r.numPassedTests).padStart(5)} passed ${String(r.numFailedTests).padStart(4)} failed ${String(r.numPendingTests + r.numTodoTests).padStart(4)} skipped`);
  }
  console.log("\n==> summary\n" + rows.join("\n"));
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results"

if [ ${#failed_layers[@]} -gt 0 ]; then
  echo "FAILED layers: ${failed_layers[*]}"
  exit 1
fi
