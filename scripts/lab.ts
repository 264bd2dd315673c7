// npm run lab -- <up|preview|destroy|refresh|outputs|status|dashboard> [stack]
// (stack defaults to local)
//
// Runs the fleetlab program through the real Pulumi engine with no account: the CLI
// from scripts/toolchain.sh, a file:// backend in .pulumi-state/ and a generated
// passphrase (see scripts/lab/env.ts). The stack is created on first use. status and
// dashboard read a running lab with the access in its stack's outputs.
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as path from "path";
import { fetchStatus, formatStatus } from "../fleet/cli/status";
import { serveDashboard } from "../fleet/dashboard/server";
import { Registry } from "../fleet/registry/registry";
import { etcdClient, fleetApiClient } from "../infra/services/providers";
import { labAccess, type LabAccess } from "./lab/access";
import { labDefaults, pulumiCommand, repoRoot, toolchainEnv } from "./lab/env";
import { mirrorProject } from "./lab/workspace";
import { ENVIRONMENTS } from "../infra/config/types";

const VERBS = ["up", "preview", "destroy", "refresh", "outputs", "status", "dashboard"] as const;
/** Verbs that only read a lab that is up: they never create the stack. */
const READERS: readonly Verb[] = ["outputs", "status", "dashboard"];
type Verb = (typeof VERBS)[number];

function usage(problem: string): never {
  console.error(
    `${problem}\nusage: npm run lab -- <${VERBS.join("|")}> [stack]\n` +
      `  stack: one of ${ENVIRONMENTS.join(", ")} (a Pulumi.<stack>.yaml in the repo); default local`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): { verb: Verb; stack: string } {
  const [verb, stack = "local", ...rest] = argv;
  if (!verb) usage("missing command");
  if (!(VERBS as readonly string[]).includes(verb)) usage(`unknown command '${verb}'`);
  if (rest.length > 0) usage(`unexpected arguments: ${rest.join(" ")}`);
  return { verb: verb as Verb, stack };
}

async function openStack(stackName: string, verb: Verb): Promise<Stack> {
  const envVars = { ...toolchainEnv(), ...labDefaults() };
  const backend = envVars.PULUMI_BACKEND_URL ?? process.env.PULUMI_BACKEND_URL;
  // stdout is the status table (or the page's URL); progress goes to stderr.
  console.error(`==> lab: stack ${stackName}, backend ${backend}`);
  // Pulumi edits Pulumi.<stack>.yaml; the committed one stays as it is (see workspace.ts).
  const workDir = path.join(repoRoot, ".fleetlab", "work");
  const reader = READERS.includes(verb);
  // A reader needs only the stack's state: it also reads a stack whose file is not in
  // this repo (one brought up by a test, or from another checkout on this backend).
  const hasFile = fs.existsSync(path.join(repoRoot, `Pulumi.${stackName}.yaml`));
  mirrorProject(repoRoot, workDir, reader && !hasFile ? [] : [stackName]);
  const ws = { envVars, pulumiCommand: await pulumiCommand(envVars) };
  if (!reader) return LocalWorkspace.createOrSelectStack({ stackName, workDir }, ws);
  try {
    return await LocalWorkspace.selectStack({ stackName, workDir }, ws);
  } catch (e) {
    // Only a missing stack is the user's to fix by bringing it up; anything else (a
    // wrong passphrase, an unreadable backend) goes out as the CLI said it.
    const missing = (e as Error).message.split("\n").find((l) => /error: no stack named/.test(l));
    if (!missing) throw e;
    throw new Error(
      `stack ${stackName} does not exist on ${backend}: bring it up first with \`npm run lab -- up ${stackName}\`\n${missing}`,
    );
  }
}

async function run(verb: Verb, stack: Stack): Promise<void> {
  // The engine's own progress text, as `pulumi up` would print it.
  const onOutput = (out: string) => process.stdout.write(out);
  const color = process.stdout.isTTY ? "always" : "never";
  switch (verb) {
    case "up":
      await stack.up({ onOutput, color });
      break;
    case "preview":
      await stack.preview({ onOutput, color, diff: true });
      break;
    case "destroy":
      await stack.destroy({ onOutput, color });
      break;
    case "refresh":
      await stack.refresh({ onOutput, color });
      break;
    case "outputs": {
      const outputs = await stack.outputs();
      const shown = Object.fromEntries(
        Object.entries(outputs).map(([k, o]) => [k, o.secret ? "[secret]" : o.value]),
      );
      console.log(JSON.stringify(shown, null, 2));
      break;
    }
    case "status": {
      const access = labAccess(stack.name, await stack.outputs());
      console.log(formatStatus(await fetchStatus(await fleetApiClient(access.fleetApi))));
      break;
    }
    case "dashboard":
      await dashboard(labAccess(stack.name, await stack.outputs()));
      break;
  }
}

/** Port of the dashboard unless FLEETLAB_DASHBOARD_PORT says (0: any free one). */
const DASHBOARD_PORT = 8049;

/** Serves the page on 127.0.0.1 until Ctrl-C, then closes the watch and the client. */
async function dashboard(access: LabAccess): Promise<void> {
  const raw = process.env.FLEETLAB_DASHBOARD_PORT ?? String(DASHBOARD_PORT);
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535)
    throw new Error(
      `FLEETLAB_DASHBOARD_PORT=${JSON.stringify(raw)} is not a TCP port: use 1-65535, or 0 for any free port`,
    );
  const client = await etcdClient(access.etcd);
  const d = await serveDashboard(new Registry(client), { port }).catch((e: unknown) => {
    client.close();
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    throw new Error(
      `port ${port} on 127.0.0.1 is in use: set FLEETLAB_DASHBOARD_PORT to another port, or 0 for any free one`,
    );
  });
  console.log(`dashboard: ${d.url} (127.0.0.1 only; Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await d.close();
  client.close();
}

async function main(): Promise<void> {
  const { verb, stack: stackName } = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const stack = await openStack(stackName, verb);
  await run(verb, stack);
  console.error(`==> lab: ${verb} ${stackName} done (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

main().catch((err: unknown) => {
  // CommandError carries the CLI's stderr; the engine already printed the details.
  console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
