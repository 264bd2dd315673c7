// Our Node.js language host (scripts/toolchain/langhost-nodejs): `go vet` and its Go
// tests, compiled in the CLI's wrapper module as the host itself is (so with the module
// versions it runs with). The other tests of this layer run every program through it.
import { spawnSync } from "child_process";
import * as path from "path";
import { repoRoot } from "../../scripts/lab/env";

test("go vet and go test of the language host pass", () => {
  const r = spawnSync("bash", [path.join(repoRoot, "scripts", "toolchain.sh"), "langhost-test"], {
    encoding: "utf8",
    timeout: 600_000,
  });
  expect({ status: r.status, out: r.stdout + r.stderr }).toMatchObject({ status: 0 });
  expect(r.stdout).toMatch(/^ok\s+\S+langhost-nodejs-test/m);
}, 620_000);
