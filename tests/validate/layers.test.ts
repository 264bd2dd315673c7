// The folders are layers along the data path, and an import only ever points down:
// the node contract and the lab-data format at the bottom, then what runs on the
// nodes (the fleet engine, the containers, the service units), then the Pulumi program
// (infra/), then what drives it (scripts/, bench/). A test fails on an import that
// points back up, so a lower layer can never come to depend on a higher one.
import { execFileSync } from "child_process";
import { readFileSync } from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "../..");

/** Each layer and the layers its sources may import (besides itself and npm packages). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  node: [],
  labdata: ["node"],
  fleet: ["node"],
  containers: ["node", "labdata"],
  // labdata also holds the validation kit (problems, "did you mean"): unit files use it.
  units: ["node", "labdata", "fleet", "containers"],
  infra: ["node", "labdata", "fleet", "containers", "units"],
  scripts: ["node", "labdata", "fleet", "containers", "units", "infra"],
  bench: ["node", "labdata", "fleet", "containers", "units", "infra", "scripts", "tests"],
  tests: ["node", "labdata", "fleet", "containers", "units", "infra", "scripts"],
};

/** Test code may also use the shared test support under tests/. */
const isTest = (file: string) =>
  /\.test\.ts$/.test(file) || file.split("/").includes("testing") || file.startsWith("tests/");

const SPECIFIER =
  /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)["'](\.{1,2}\/[^"']+)["']/gm;

/** Relative imports of one file, as repository paths of what they name. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    out.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1])));
  }
  return out;
}

/** Files at the top of the repository that every layer may read: the project's version. */
const SHARED_FILES = ["package.json"];

/** The imports of `file` that point to a layer it may not import. */
export function upwardImports(file: string, text: string): string[] {
  const layer = file.split("/")[0];
  const allowed = new Set([layer, ...(MAY_IMPORT[layer] ?? []), ...SHARED_FILES]);
  if (isTest(file) && layer !== "tests") allowed.add("tests");
  return importsOf(file, text).filter((target) => !allowed.has(target.split("/")[0]));
}

const sources = execFileSync("git", ["ls-files", "*.ts"], { cwd: ROOT, encoding: "utf8" })
  .split("\n")
  .filter((f) => f !== "");

test("every folder with TypeScript is a layer of the table", () => {
  const folders = [...new Set(sources.filter((f) => f.includes("/")).map((f) => f.split("/")[0]))];
  expect(folders.filter((f) => !(f in MAY_IMPORT))).toEqual([]);
});

test("no import points back up a layer", () => {
  const found = sources.flatMap((f) =>
    upwardImports(f, readFileSync(path.join(ROOT, f), "utf8")).map((t) => `${f} -> ${t}`),
  );
  expect(found).toEqual([]);
});

test("the check sees an upward import, in each way a file can import", () => {
  expect(upwardImports("node/paths.ts", 'import { x } from "../infra/config";\n')).toEqual([
    "infra/config",
  ]);
  expect(upwardImports("labdata/load.ts", 'const y = require("../fleet/unit");\n')).toEqual([
    "fleet/unit",
  ]);
  expect(upwardImports("fleet/a/b.ts", 'export * from "../../containers/x";\n')).toEqual([
    "containers/x",
  ]);
  expect(upwardImports("units/s.ts", 'import("../infra/y");\n')).toEqual(["infra/y"]);
  // Down, sideways within the layer, npm packages: all fine.
  expect(
    upwardImports(
      "infra/config/data.ts",
      'import { a } from "../../labdata/load";\nimport { b } from "./net";\nimport * as fs from "fs";\n',
    ),
  ).toEqual([]);
  // Test code may use the shared test support; sources may not.
  expect(
    upwardImports("infra/x.test.ts", 'import { h } from "../tests/pulumi/harness";\n'),
  ).toEqual([]);
  expect(upwardImports("infra/x.ts", 'import { h } from "../tests/pulumi/harness";\n')).toEqual([
    "tests/pulumi/harness",
  ]);
});
