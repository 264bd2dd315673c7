// npm run bench:preview — what a no-change `pulumi preview` of the lab costs beyond
// Pulumi itself. Two programs under the real engine (tests/pulumi/harness.ts: the
// toolchain's CLI, a temp file:// backend, a random passphrase), in the same run:
//  - the lab: stack `local` with `fleetlab:machines: false` (PKI, Nodes, Ignition,
//    no VM);
//  - the floor: an empty TypeScript Pulumi program (one import of @pulumi/pulumi and
//    no resource), with the runtime options and tsconfig a new Pulumi project starts
//    with.
// Each is brought up once, then previewed ROUNDS times, the two taking turns so that
// load from others on the machine falls on both. Writes bench/results/preview.json
// (every sample, medians, the ratio) and prints a table. Not part of npm test.
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
const EMPTY_PROGRAM: Record<string, string> = {
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
    },
    files: ["index.ts"],
  }),
  "index.ts":
    'import * as pulumi from "@pulumi/pulumi";\n\nexport const project = pulumi.getProject();\n',
};

interface Program {
  name: string;
  stack: Stack;
  resources: number;
  samples: number[];
}

async function open(name: string, project: TestProject): Promise<Program> {
  const stack = await project.open(STACK);
  const up = await stack.up();
  if (up.summary.result !== "succeeded") throw new Error(`${name}: up ${up.summary.result}`);
  return { name, stack, resources: 0, samples: [] };
}

/** One no-change preview, timed from the call to the CLI's exit. */
async function preview(p: Program): Promise<void> {
  const t0 = Date.now();
  const res = await p.stack.preview();
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
  const floorSource = mkdtempSync(join(tmpdir(), "flt-bench-floor-"));
  for (const [file, text] of Object.entries(EMPTY_PROGRAM)) {
    writeFileSync(join(floorSource, file), text);
  }
  // Node resolves @pulumi/pulumi from index.ts's real path, which is here.
  symlinkSync(join(ROOT, "node_modules"), join(floorSource, "node_modules"));
  const labProject = tempProject(ROOT, [STACK]);
  const stackFile = join(labProject.dir, `Pulumi.${STACK}.yaml`);
  const doc = YAML.parseDocument(readFileSync(stackFile, "utf8"));
  doc.setIn(["config", "fleetlab:machines"], false);
  writeFileSync(stackFile, doc.toString());
  const floorProject = tempProject(floorSource);
  const programs: Program[] = [];
  try {
    console.log("==> bench: up of the lab and of the empty program");
    programs.push(await open("lab", labProject));
    programs.push(await open("floor", floorProject));
    const load0 = loadavg()[0];
    for (let i = 0; i < ROUNDS; i++) {
      for (const p of i % 2 ? [...programs].reverse() : programs) await preview(p);
      console.log(`    round ${i + 1}: ${programs.map((p) => `${p.name} ${p.samples[i]} ms`)}`);
    }
    const [lab, floor] = programs;
    const ratio = +(median(lab.samples) / median(floor.samples)).toFixed(2);
    const result = {
      when: new Date().toISOString(),
      machine: { cores: cpus().length, loadAverage1m: [load0, loadavg()[0]] },
      command: "npm run bench:preview",
      rounds: ROUNDS,
      lab: { resources: lab.resources, samplesMs: lab.samples, medianMs: median(lab.samples) },
      floor: {
        resources: floor.resources,
        samplesMs: floor.samples,
        medianMs: median(floor.samples),
      },
      ratio,
      notes: [
        "wall time of Stack.preview() (the Automation API running `pulumi preview`) after one up, so nothing changes",
        `lab: stack ${STACK} with fleetlab:machines false (PKI, Nodes, Ignition, no VM); floor: an empty TypeScript program (pulumi new typescript's Pulumi.yaml and tsconfig, no resource)`,
        "the two programs take turns in every round; ratio = lab median / floor median",
      ],
    };
    mkdirSync(join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(join(ROOT, "bench/results/preview.json"), JSON.stringify(result, null, 2) + "\n");
    console.table(
      programs.map((p) => ({
        program: p.name,
        resources: p.resources,
        "median (ms)": median(p.samples),
        "floor (ms)": median(floor.samples),
        "× floor": +(median(p.samples) / median(floor.samples)).toFixed(2),
      })),
    );
    console.log("medians; every sample in bench/results/preview.json");
  } finally {
    for (const p of programs) {
      await p.stack.destroy().catch(() => undefined);
      await p.stack.workspace.removeStack(STACK, { force: true }).catch(() => undefined);
    }
    labProject.cleanup();
    floorProject.cleanup();
    rmSync(floorSource, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
