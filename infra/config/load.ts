// Reading raw stack config: from Pulumi.<stack>.yaml directly (render command, tests;
// no Pulumi engine needed) or from the engine inside the Pulumi program.
import { ConfigError, isMapping } from "../../labdata/problems";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CONFIG_NAMESPACE } from "./errors";
import { nearest } from "../../labdata/suggest";
import { Raw } from "./read";

const MAX_STACK_FILE_BYTES = 1024 * 1024;

/** The repository root (holds Pulumi.yaml). */
export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** Strips "fleetlab:" from keys; keys of other namespaces (aws:, pulumi:) are not ours. */
function ownKeys(config: Record<string, unknown>, stack: string): Raw {
  const out: Raw = {};
  const secure: string[] = [];
  const typos: string[] = [];
  for (const [k, v] of Object.entries(config)) {
    const [ns, name] = k.includes(":") ? k.split(":", 2) : [CONFIG_NAMESPACE, k];
    // fletlab:, Fleetlab:, fleetlabs: are ours, mistyped; aws:, pulumi: are not.
    if (ns !== CONFIG_NAMESPACE && nearest(ns, [CONFIG_NAMESPACE]) !== undefined) typos.push(k);
    if (ns !== CONFIG_NAMESPACE) continue;
    if (isMapping(v) && "secure" in v) secure.push(k);
    out[name] = v;
  }
  if (typos.length > 0) {
    throw new ConfigError(
      stack,
      typos.map((key) => ({
        key,
        value: config[key],
        problem: `is in the namespace "${key.split(":")[0]}", not "${CONFIG_NAMESPACE}": fleetlab would never read it`,
        fix: `did you mean ${CONFIG_NAMESPACE}:${key.split(":").slice(1).join(":")}?`,
      })),
    );
  }
  if (secure.length > 0) {
    throw new ConfigError(
      stack,
      secure.map((key) => ({
        key,
        value: "(secret)",
        problem: "is encrypted; only the Pulumi engine can read it",
        fix: "use `pulumi up`, or keep this key plain text (fleetlab has no secret config keys)",
      })),
    );
  }
  return out;
}

/** Raw config of a stack from Pulumi.<stack>.yaml, without the Pulumi engine. */
export function loadStackFile(stack: string, projectDir = PROJECT_DIR): Raw {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(file)) {
    const known = fs
      .readdirSync(projectDir)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => !!s);
    throw new Error(`no stack "${stack}": ${file} does not exist (stacks: ${known.join(", ")})`);
  }
  return readStackConfig(file, stack);
}

/** The stack name of a stack file path (Pulumi.<stack>.yaml), or undefined. */
export function stackOfFile(file: string): string | undefined {
  return /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(path.basename(file))?.[1];
}

/** Raw config from a stack file anywhere (e.g. a copy being edited). */
export function readStackConfig(file: string, stack: string): Raw {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new Error(
      `${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? e}); give the path of a Pulumi.<stack>.yaml file`,
    );
  }
  if (!st.isFile())
    throw new Error(
      `${file}: is ${st.isDirectory() ? "a directory" : "not a regular file (a device, FIFO or socket)"}; give the path of a Pulumi.<stack>.yaml file`,
    );
  if (st.size > MAX_STACK_FILE_BYTES)
    throw new Error(
      `${file}: is ${st.size} bytes, more than a stack file can sensibly hold (${MAX_STACK_FILE_BYTES}); give the path of a Pulumi.<stack>.yaml file`,
    );
  let doc: unknown;
  try {
    doc = YAML.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(
      `${file}: is not valid YAML: ${(e as Error).message.split("\n")[0]}; fix the YAML syntax`,
    );
  }
  const config = isMapping(doc) ? doc.config : undefined;
  if (!isMapping(config)) {
    throw new Error(`${file}: has no "config:" mapping`);
  }
  return ownKeys(config, stack);
}

/**
 * Raw config inside a running Pulumi program: the engine hands every value over as
 * text, structured ones (objects, lists) as JSON.
 */
export function configFromEngine(all: Record<string, string>, stack: string): Raw {
  const parsed: Record<string, unknown> = {};
  const bad: { key: string; value: string; problem: string }[] = [];
  for (const [k, v] of Object.entries(all)) {
    try {
      parsed[k] = /^\s*[[{]/.test(v) ? JSON.parse(v) : v;
    } catch (e) {
      bad.push({
        key: k,
        value: v,
        problem: `looks structured but is not valid JSON: ${(e as Error).message}`,
      });
    }
  }
  if (bad.length > 0)
    throw new ConfigError(
      stack,
      bad.map((b) => ({
        ...b,
        fix: `set it with \`pulumi config set --path\` or write it as YAML in Pulumi.${stack}.yaml`,
      })),
    );
  return ownKeys(parsed, stack);
}
