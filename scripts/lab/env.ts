// How fleetlab runs the Pulumi engine without an account: the toolchain built by
// scripts/toolchain.sh, a file:// backend in the repo and a passphrase generated once.
// Shared by `npm run lab` and the engine tests (tests/pulumi), which pass their own
// temp backend and passphrase instead.
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PulumiCommand } from "@pulumi/pulumi/automation";

export const repoRoot = path.resolve(__dirname, "..", "..");

export class ToolchainMissingError extends Error {}

/**
 * The variables every Pulumi command runs with (PATH with the CLI, the language host
 * and the dynamic-provider shim; no update checks; no plugin downloads). Throws
 * ToolchainMissingError, naming the fix, when the toolchain is not built.
 */
export function toolchainEnv(
  root = repoRoot,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const script = path.join(root, "scripts", "toolchain.sh");
  try {
    execFileSync("bash", [script, "check"], { stdio: "pipe", env });
  } catch (err) {
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? String(err);
    throw new ToolchainMissingError(
      `The Pulumi toolchain is not ready. Run \`bash scripts/setup.sh\` (it builds pulumi from Go module source into ~/.cache/fleetlab).\n${why}`,
    );
  }
  const lines = execFileSync("bash", [script, "env-lines"], { encoding: "utf8", env });
  const out: Record<string, string> = {};
  for (const line of lines.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  out.PATH = [out.FLEETLAB_PULUMI_BIN, out.FLEETLAB_PULUMI_SHIM_DIR, env.PATH ?? ""].join(
    path.delimiter,
  );
  return out;
}

/** The CLI the Automation API drives: the toolchain's, never one it installs itself. */
export async function pulumiCommand(env: Record<string, string>): Promise<PulumiCommand> {
  // PulumiCommand.get runs <root>/bin/pulumi.
  return PulumiCommand.get({ root: path.dirname(env.FLEETLAB_PULUMI_BIN) });
}

/**
 * Zero-account defaults for the lab: the user's PULUMI_BACKEND_URL and
 * PULUMI_CONFIG_PASSPHRASE(_FILE) win; otherwise a file:// backend in
 * <repo>/.pulumi-state and a random passphrase kept in <repo>/.fleetlab/passphrase
 * (both gitignored).
 */
export function labDefaults(
  root = repoRoot,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!env.PULUMI_BACKEND_URL) {
    const state = path.join(root, ".pulumi-state");
    fs.mkdirSync(state, { recursive: true });
    out.PULUMI_BACKEND_URL = `file://${state}`;
  }
  if (!env.PULUMI_CONFIG_PASSPHRASE && !env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    out.PULUMI_CONFIG_PASSPHRASE_FILE = ensurePassphrase(
      path.join(root, ".fleetlab", "passphrase"),
    );
  }
  return out;
}

/** Creates the passphrase file once (mode 0600); later runs reuse it unchanged. */
export function ensurePassphrase(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // "wx": never overwrite a passphrase the existing stacks are encrypted with.
    fs.writeFileSync(file, crypto.randomBytes(32).toString("base64url") + "\n", {
      flag: "wx",
      mode: 0o600,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return file;
}
