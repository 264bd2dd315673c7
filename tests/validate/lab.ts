// Shared by the validator tests: render a stack's Ignition with a real (throw-away)
// PKI, write files out, run real tools.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ENVIRONMENTS, labSpecFromFile, LabSpec, NodeSpec } from "../../infra/config";
import { IgnitionConfig, renderIgnition, serializeIgnition } from "../../infra/ignition";
import { generateLabTls, LocalLabTls } from "../../infra/pki";

/** The committed stacks: one per environment. */
export const STACKS = ENVIRONMENTS;

export interface RenderedLab {
  spec: LabSpec;
  tls: LocalLabTls;
  nodes: { node: NodeSpec; ignition: IgnitionConfig }[];
}

export function renderLab(stackOrSpec: string | LabSpec): RenderedLab {
  const spec = typeof stackOrSpec === "string" ? labSpecFromFile(stackOrSpec) : stackOrSpec;
  const tls = generateLabTls(spec);
  const nodes = spec.nodes.map((node) => ({
    node,
    ignition: renderIgnition(spec, node, tls.nodes.get(node.name)!),
  }));
  return { spec, tls, nodes };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `fleetlab-${prefix}-`));
}

export function writeIgnition(dir: string, name: string, config: IgnitionConfig | unknown): string {
  const file = path.join(dir, `${name}.ign`);
  fs.writeFileSync(
    file,
    typeof config === "string" ? config : serializeIgnition(config as IgnitionConfig),
    { mode: 0o600 },
  );
  return file;
}

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a tool to completion (bounded by `timeoutMs`), stdout and stderr together. */
export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): RunResult {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 30_000,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  if (r.error)
    throw new Error(`${cmd}: ${r.error.message} (is it installed? run scripts/setup.sh)`);
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Fails loudly when a validator is missing instead of skipping. */
export function requireTool(bin: string, pkg: string): string {
  const found = ["/usr/bin", "/bin", "/usr/sbin", "/usr/local/bin"]
    .map((d) => path.join(d, bin))
    .find((p) => fs.existsSync(p));
  if (!found)
    throw new Error(`${bin} not found: install Debian package ${pkg} (scripts/setup.sh does)`);
  return found;
}
