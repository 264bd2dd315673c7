// npm run bench:preview — what a no-change `pulumi preview` of the lab costs beyond
// Pulumi itself. Programs under the real engine (tests/pulumi/harness.ts: the
// toolchain's CLI, a temp file:// backend, a random passphrase), in the same run:
//  - lab: stack `local` with `fleetlab:machines: false` (PKI, Nodes, Ignition, no VM),
//    as Pulumi.yaml runs it (tsconfig.pulumi.json: transpiled by esbuild, not
//    type-checked);
//  - lab-typecheck: the same with ts-node's default (type-checked by TypeScript), how
//    the program ran before tsconfig.pulumi.json;
//  - floor: an empty TypeScript Pulumi program (one import of @pulumi/pulumi and no
//    resource), with the runtime options and tsconfig a new Pulumi project starts with
//    (type-checked);
//  - floor-transpile: that empty program with `noCheck` (TypeScript transpiles only),
//    Pulumi's own fastest TypeScript start.
// Each is brought up once, then previewed ROUNDS times, taking turns so that load
// from others on the machine falls on all. Writes bench/results/preview.json (every
// sample, medians, the ratio lab / floor) and prints a table. Not part of npm test.
// Run it through `npm run bench:preview`: no TS_NODE_* variable may reach the CLI
// (ts-node reads them in the program too, and they would change what is measured).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { cpus, loadavg, tmpdir } from "os";
import { join } from "path";
import { Stack } from "@pulumi/pulumi/automation";
import * as YAML from "yaml";
import { tempProject, TestProject } from "../tests/pulumi/harness";

const ROOT = join(__dirname, "..");
const ROUNDS = 5;
const STACK = "local";

/** The files `pulumi new typescript` gives, minus the dependencies' versions. */
function emptyProgram(noCheck: boolean): Record<string, string> {
  return {
    "Pulumi.yaml": "name: floor\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
    "package.json": JSON.stringify({ name: "floor", main: "index.ts" }),
    "tsconfig.json": JSON.stringify({
      compilerOptions: {
        strict: true,
        outDir: "bin",
        target: "es2020",
        module: "commonjs",
        moduleResolution: "node",
        sourceMap: true,
        experimentalDecorators: true,
        pretty: true,
        noFallthroughCasesInSwitch: true,
        noImplicitReturns: true,
        forceConsistentCasingInFileNames: true,
        ...(noCheck ? { noCheck: true } : {}),
      },
      files: ["index.ts"],
    }),
    "index.ts":
      'import * as pulumi from "@pulumi/pulumi";\n\nexport const project = pulumi.getProject();\n',
  };
}

interface Program {
  name: string;
  project: TestProject;
  stack?: Stack;
  resources: number;
  samples: number[];
}

/** A copy of the empty program in a temp dir (Node resolves @pulumi/pulumi from there). */
function floorProject(noCheck: boolean, sources: string[]): TestProject {
  const source = mkdtempSync(join(tmpdir(), "flt-bench-floor-"));
  sources.push(source);
  for (const [file, text] of Object.entries(emptyProgram(noCheck))) {
    writeFileSync(join(source, file), text);
  }
  symlinkSync(join(ROOT, "node_modules"), join(source, "node_modules"));
  return tempProject(source);
}

/** The render-only lab; `typeCheck` drops Pulumi.yaml's tsconfig (ts-node's default). */
function labProject(typeCheck: boolean): TestProject {
  const project = tempProject(ROOT, [STACK]);
  edit(join(project.dir, `Pulumi.${STACK}.yaml`), ["config", "fleetlab:machines"], false);
  if (typeCheck) edit(join(project.dir, "Pulumi.yaml"), ["runtime", "options", "tsconfig"]);
  return project;
}

/** Sets (or, without a value, deletes) one key of a YAML file. */
function edit(file: string, key: string[], value?: unknown): void {
  const doc = YAML.parseDocument(readFileSync(file, "utf8"));
  if (value === undefined) doc.deleteIn(key);
  else doc.setIn(key, value);
  writeFileSync(file, doc.toString());
}

async function open(p: Program): Promise<void> {
  p.stack = await p.project.open(STACK);
  const up = await p.stack.up();
  if (up.summary.result !== "succeeded") throw new Error(`${p.name}: up ${up.summary.result}`);
}

/** One no-change preview, timed from the call to the CLI's exit. */
async function preview(p: Program): Promise<void> {
  const t0 = Date.now();
  const res = await p.stack!.preview();
  const ms = Date.now() - t0;
  const { same = 0, ...changes } = res.changeSummary;
  if (Object.values(changes).some((n) => (n ?? 0) > 0)) {
    throw new Error(`${p.name}: preview after up planned changes: ${JSON.stringify(changes)}`);
  }
  p.resources = same;
  p.samples.push(ms);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const leaked = Object.keys(process.env).filter((k) => k.startsWith("TS_NODE_"));
  if (leaked.length > 0) {
    throw new Error(`${leaked.join(", ")} set: run the benchmark with npm run bench:preview`);
  }
  const sources: string[] = [];
  const programs: Program[] = [];
  const add = (name: string, project: TestProject) =>
    programs.push({ name, project, resources: 0, samples: [] });
  try {
    add("lab", labProject(false));
    add("lab-typecheck", labProject(true));
    add("floor", floorProject(false, sources));
    add("floor-transpile", floorProject(true, sources));
    console.log(`==> bench: up of ${programs.map((p) => p.name).join(", ")}`);
    for (const p of programs) await open(p);
    const load0 = loadavg()[0];
    for (let i = 0; i < ROUNDS; i++) {
      for (const p of i % 2 ? [...programs].reverse() : programs) await preview(p);
      console.log(`    round ${i + 1}: ${programs.map((p) => `${p.name} ${p.samples[i]} ms`)}`);
    }
    const byName = (name: string) => programs.find((p) => p.name === name)!;
    const floor = median(byName("floor").samples);
    const ratio = +(median(byName("lab").samples) / floor).toFixed(2);
    const result = {
      when: new Date().toISOString(),
      machine: { cores: cpus().length, loadAverage1m: [load0, loadavg()[0]] },
      command: "npm run bench:preview",
      rounds: ROUNDS,
      ...Object.fromEntries(
        programs.map((p) => [
          p.name,
          { resources: p.resources, samplesMs: p.samples, medianMs: median(p.samples) },
        ]),
      ),
      ratio,
      notes: [
        "wall time of Stack.preview() (the Automation API running `pulumi preview`) after one up, so nothing changes",
        `lab: stack ${STACK} with fleetlab:machines false (PKI, Nodes, Ignition, no VM) as Pulumi.yaml runs it (esbuild per file, no type check); lab-typecheck: the same type-checked by ts-node (before tsconfig.pulumi.json)`,
        "floor: an empty TypeScript program (pulumi new typescript's Pulumi.yaml and tsconfig, no resource, type-checked); floor-transpile: the same with noCheck",
        "the programs take turns in every round; ratio = lab median / floor median",
      ],
    };
    mkdirSync(join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(join(ROOT, "bench/results/preview.json"), JSON.stringify(result, null, 2) + "\n");
    console.table(
      programs.map((p) => ({
        program: p.name,
        resources: p.resources,
        "median (ms)": median(p.samples),
        "floor (ms)": floor,
        "× floor": +(median(p.samples) / floor).toFixed(2),
      })),
    );
    console.log("medians; every sample in bench/results/preview.json");
  } finally {
    for (const p of programs) {
      await p.stack?.destroy().catch(() => undefined);
      await p.stack?.workspace.removeStack(STACK, { force: true }).catch(() => undefined);
      p.project.cleanup();
    }
    for (const source of sources) rmSync(source, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
