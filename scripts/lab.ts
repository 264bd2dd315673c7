// npm run lab -- <up|preview|destroy|refresh|outputs> [stack]   (stack defaults to local)
//
// Runs the fleetlab program through the real Pulumi engine with no account: the CLI
// from scripts/toolchain.sh, a file:// backend in .pulumi-state/ and a generated
// passphrase (see scripts/lab/env.ts). The stack is created on first use.
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import * as path from "path";
import { labDefaults, pulumiCommand, repoRoot, toolchainEnv } from "./lab/env";
import { mirrorProject } from "./lab/workspace";
import { ENVIRONMENTS } from "../infra/config/types";

const VERBS = ["up", "preview", "destroy", "refresh", "outputs"] as const;
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

async function openStack(stackName: string): Promise<Stack> {
  const envVars = { ...toolchainEnv(), ...labDefaults() };
  const backend = envVars.PULUMI_BACKEND_URL ?? process.env.PULUMI_BACKEND_URL;
  console.log(`==> lab: stack ${stackName}, backend ${backend}`);
  // Pulumi edits Pulumi.<stack>.yaml; the committed one stays as it is (see workspace.ts).
  const workDir = path.join(repoRoot, ".fleetlab", "work");
  mirrorProject(repoRoot, workDir, [stackName]);
  return LocalWorkspace.createOrSelectStack(
    { stackName, workDir },
    { envVars, pulumiCommand: await pulumiCommand(envVars) },
  );
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
  }
}

async function main(): Promise<void> {
  const { verb, stack: stackName } = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const stack = await openStack(stackName);
  await run(verb, stack);
  console.log(`==> lab: ${verb} ${stackName} done (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

main().catch((err: unknown) => {
  // CommandError carries the CLI's stderr; the engine already printed the details.
  console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
