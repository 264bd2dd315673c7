// The directory the engine runs a project in. Pulumi writes to Pulumi.<stack>.yaml
// (it reformats it and adds the stack's `encryptionsalt`), and that file is committed
// config shared by everyone, with a salt that only fits one person's passphrase. So
// the lab runs in a mirror of the repo: every entry symlinked, the stack files
// copied from the repo on each run, with the secrets-manager keys Pulumi added to the
// previous copy carried over.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

/** Keys Pulumi keeps in a stack file to find the stack's secrets manager. */
const SECRETS_MANAGER_KEYS = ["encryptionsalt", "encryptedkey", "secretsprovider"];
/** Never mirrored: state, secrets, build output, and the mirror itself. */
const SKIP = new Set([".git", ".pulumi-state", ".fleetlab", "build"]);

export function mirrorProject(source: string, dest: string, stacks: string[]): void {
  fs.mkdirSync(dest, { recursive: true });
  for (const entry of fs.readdirSync(source)) {
    if (SKIP.has(entry) || /^Pulumi\..+\.yaml$/.test(entry)) continue;
    const from = path.join(source, entry);
    const to = path.join(dest, entry);
    if (entry === "Pulumi.yaml") {
      fs.copyFileSync(from, to);
    } else if (!isLinkTo(to, from)) {
      fs.rmSync(to, { recursive: true, force: true });
      fs.symlinkSync(from, to);
    }
  }
  // A fixture project outside the repo root still runs with the repo's dependencies.
  const modules = path.join(dest, "node_modules");
  if (!fs.existsSync(modules)) {
    fs.symlinkSync(path.resolve(__dirname, "..", "..", "node_modules"), modules);
  }
  for (const stack of stacks) copyStackFile(source, dest, stack);
}

function isLinkTo(link: string, target: string): boolean {
  try {
    return fs.readlinkSync(link) === target;
  } catch {
    return false;
  }
}

function copyStackFile(source: string, dest: string, stack: string): void {
  const file = `Pulumi.${stack}.yaml`;
  const from = path.join(source, file);
  if (!fs.existsSync(from)) {
    throw new Error(
      `stack '${stack}': ${from} does not exist; use one of the Pulumi.<stack>.yaml files in ${source}, or add one`,
    );
  }
  const doc = YAML.parseDocument(fs.readFileSync(from, "utf8"));
  const previous = path.join(dest, file);
  if (fs.existsSync(previous)) {
    const old = YAML.parse(fs.readFileSync(previous, "utf8")) ?? {};
    for (const key of SECRETS_MANAGER_KEYS) {
      if (old[key] !== undefined && !doc.has(key)) doc.set(key, old[key]);
    }
  }
  fs.writeFileSync(previous, doc.toString());
}
