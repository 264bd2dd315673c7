// Runs Pulumi projects through the real engine (the CLI from scripts/toolchain.sh and
// the Automation API) in throw-away places: a temp copy of the project whose
// Pulumi.<stack>.yaml the test may edit, a temp file:// backend and a random
// passphrase. The user's .pulumi-state/ and .fleetlab/ are never touched.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  EngineEvent,
  LocalWorkspace,
  OpType,
  PreviewResult,
  Stack,
} from "@pulumi/pulumi/automation";
import { pulumiCommand, toolchainEnv } from "../../scripts/lab/env";
import { mirrorProject } from "../../scripts/lab/workspace";

/** Generous: the program is compiled by ts-node on each run, on 2 shared cores. */
export const ENGINE_TIMEOUT_MS = 15 * 60_000;

// Programs on PATH that would reach a hypervisor or the network. In the test's PATH
// each is a script that records its call and fails, so a test can assert that an
// operation touched none of them.
const HYPERVISOR_TOOLS = ["virsh", "VBoxManage", "qemu-img", "ssh", "curl", "wget", "gpg", "gpgv"];

export interface TestProject {
  /** The project directory the workspace runs in. */
  dir: string;
  /** Calls of any hypervisor tool, "tool arg..." per line. */
  hypervisorCalls(): string[];
  /** The raw checkpoint file of `stack` in the file:// backend, as the engine wrote it. */
  stateFile(stack: string): string;
  open(stackName: string): Promise<Stack>;
  cleanup(): void;
}

/**
 * A temp project that runs `source` (a directory with Pulumi.yaml), mirrored as the
 * lab mirrors the repo (scripts/lab/workspace.ts): tests may edit the copied
 * Pulumi.<stack>.yaml without touching the repo.
 */
export function tempProject(source: string, stacks: string[] = []): TestProject {
  const env = toolchainEnv(); // throws, naming `bash scripts/setup.sh`, when not built
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-engine-"));
  const dir = path.join(root, "project");
  const state = path.join(root, "state");
  const sentinels = path.join(root, "sentinels");
  const callLog = path.join(root, "hypervisor-calls.log");
  fs.mkdirSync(dir);
  fs.mkdirSync(state);
  fs.mkdirSync(sentinels);
  fs.writeFileSync(callLog, "");

  mirrorProject(source, dir, stacks);
  for (const tool of HYPERVISOR_TOOLS) {
    const script = `#!/bin/sh\necho "${tool} $*" >>'${callLog}'\necho "${tool}: not allowed in this test" >&2\nexit 97\n`;
    fs.writeFileSync(path.join(sentinels, tool), script, { mode: 0o755 });
  }

  const envVars: Record<string, string> = {
    ...env,
    PATH: [sentinels, env.PATH].join(path.delimiter),
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(24).toString("base64url"),
    FLEETLAB_VIRSH: path.join(sentinels, "virsh"),
    FLEETLAB_IMAGE_DOWNLOADS: path.join(root, "images"),
  };
  delete envVars.PULUMI_CONFIG_PASSPHRASE_FILE;

  return {
    dir,
    hypervisorCalls: () => fs.readFileSync(callLog, "utf8").split("\n").filter(Boolean),
    stateFile(stack: string): string {
      // <backend>/.pulumi/stacks/<project>/<stack>.json
      const stacks = path.join(state, ".pulumi", "stacks");
      const found = fs
        .readdirSync(stacks, { recursive: true, encoding: "utf8" })
        .filter((f) => path.basename(f) === `${stack}.json`);
      if (found.length !== 1)
        throw new Error(`expected one ${stack}.json under ${stacks}, got ${found}`);
      return fs.readFileSync(path.join(stacks, found[0]), "utf8");
    },
    async open(stackName: string): Promise<Stack> {
      return LocalWorkspace.createOrSelectStack(
        { stackName, workDir: dir },
        { envVars, pulumiCommand: await pulumiCommand(env) },
      );
    },
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** One engine step: what the engine would do to which resource. */
export interface Step {
  op: OpType;
  urn: string;
  type: string;
}

/**
 * Collects the engine's step events (resourcePreEvent) of one operation. Provider
 * resources (`pulumi:providers:*`, e.g. the default `pulumi-nodejs` provider, which
 * the engine refreshes on every run) are left out, as the change summary leaves them.
 */
export function stepRecorder(): { onEvent: (e: EngineEvent) => void; steps: Step[] } {
  const steps: Step[] = [];
  return {
    steps,
    onEvent(e: EngineEvent) {
      const m = e.resourcePreEvent?.metadata;
      if (m && !m.type.startsWith("pulumi:providers:")) {
        steps.push({ op: m.op, urn: m.urn, type: m.type });
      }
    },
  };
}

/** Counts by operation, e.g. { create: 9, same: 1 }, from preview's change summary. */
export function changeCounts(result: PreviewResult): Record<string, number> {
  return Object.fromEntries(Object.entries(result.changeSummary).filter(([, n]) => (n ?? 0) > 0));
}

/** Number of resources of each type in `steps` with operation `op`. */
export function countByType(steps: Step[], op: OpType): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps.filter((x) => x.op === op)) out[s.type] = (out[s.type] ?? 0) + 1;
  return out;
}
