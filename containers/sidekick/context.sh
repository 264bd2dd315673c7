#!/usr/bin/env bash
# Prepares the sidekick's Docker build context in $1: the compiled sidekick (tsc
# follows its imports) and the npm packages it needs at run time, copied from the
# repo's node_modules (no registry access during docker build).
set -euo pipefail
out=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$out" && mkdir -p "$out/app"
cp "$root/containers/sidekick/Dockerfile" "$out/"
(cd "$root" && npx --no-install tsc --outDir "$out/app" --rootDir . --module commonjs --moduleResolution node \
  --target ES2022 --esModuleInterop --skipLibCheck --strict --types node containers/sidekick/main.ts)
# Runtime dependencies: the closure of etcd3 and yaml over package.json "dependencies".
node -e '
  const fs = require("fs"), path = require("path");
  const [root, out] = process.argv.slice(1);
  const seen = new Set(), todo = ["etcd3", "yaml"];
  while (todo.length) {
    const name = todo.pop();
    if (seen.has(name)) continue;
    seen.add(name);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8"));
    todo.push(...Object.keys(pkg.dependencies || {}));
  }
  for (const name of seen) fs.cpSync(path.join(root, "node_modules", name), path.join(out, "app/node_modules", name), { recursive: true });
  console.log(`    sidekick context: ${seen.size} npm packages`);
' "$root" "$out"
