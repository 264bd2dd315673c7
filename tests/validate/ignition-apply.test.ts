// The real Ignition (Debian's 2.14, the binary its dracut module runs at first boot)
// applies every rendered config to a throw-away root: fetch-offline from a file, then
// the files stage with --root. What lands on disk must be exactly what we meant:
// file contents (data URLs decoded by Ignition itself), modes, directories, user core
// with the SSH keys, unit files, and the presets that enable them.
import * as fs from "fs";
import * as path from "path";
import { decodeDataUrl, IgnitionConfig, serializeIgnition } from "../../infra/ignition";
import { renderLab, run, STACKS, tempDir } from "./lab";

const IGNITION = "/usr/lib/dracut/modules.d/30ignition/ignition";
if (!fs.existsSync(IGNITION))
  throw new Error(`${IGNITION} missing: install Debian package ignition (scripts/setup.sh)`);
if (process.getuid?.() !== 0)
  throw new Error("Ignition's files stage runs useradd --root: run this test as root");

const work = tempDir("ignapply");
// Ignition writes a user's SSH keys as that user, who must be able to walk down to
// the root's /home (mkdtemp makes 0700 directories).
fs.chmodSync(work, 0o755);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A root with just enough for useradd and Ignition's SELinux relabel step. */
function skeletonRoot(dir: string): string {
  const root = path.join(dir, "root");
  const files: Record<string, string> = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
    "etc/group": "root:x:0:\n",
    "etc/shadow": "root:*:19000:0:99999:7:::\n",
    "etc/gshadow": "root:*::\n",
    // Debian's Ignition always relabels; a policy that labels nothing satisfies it.
    "etc/selinux/config": "SELINUX=disabled\nSELINUXTYPE=default\n",
    "etc/selinux/default/contexts/files/file_contexts": "/.*\t<<none>>\n",
  };
  // useradd --create-home needs the parent of the home directory.
  fs.mkdirSync(path.join(root, "home"), { recursive: true, mode: 0o755 });
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
  return root;
}

/** Runs Ignition's fetch-offline and files stages for `config`; returns the root. */
function apply(
  name: string,
  config: IgnitionConfig | string,
): { root: string; code: number | null; output: string } {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  const root = skeletonRoot(dir);
  const file = path.join(dir, "config.ign");
  fs.writeFileSync(file, typeof config === "string" ? config : serializeIgnition(config), {
    mode: 0o600,
  });
  const common = [
    "-platform",
    "file",
    "-config-cache",
    `${dir}/cache.json`,
    "-state-file",
    `${dir}/state`,
    "-log-to-stdout",
  ];
  const env = { ...process.env, IGNITION_CONFIG_FILE: file };
  const fetch = run(
    IGNITION,
    ["-stage", "fetch-offline", "-neednet", `${dir}/neednet`, ...common],
    { env, timeoutMs: 60_000 },
  );
  if (fetch.code !== 0) return { root, ...fetch };
  return {
    root,
    ...run(IGNITION, ["-stage", "files", "-root", root, ...common], { env, timeoutMs: 60_000 }),
  };
}

const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe.each(STACKS)("stack %s", (stack) => {
  const lab = renderLab(stack);
  it.each(lab.nodes.map((n) => [n.node.name, n] as const))(
    "Ignition applies %s as rendered",
    (name, { ignition }) => {
      const r = apply(`${stack}-${name}`, ignition);
      expect(r.output).toContain("Ignition finished successfully");
      expect(r.code).toBe(0);
      for (const f of ignition.storage.files) {
        expect([f.path, fs.readFileSync(r.root + f.path, "utf8")]).toEqual([
          f.path,
          decodeDataUrl(f.contents.source),
        ]);
        expect([f.path, mode(r.root + f.path)]).toEqual([f.path, f.mode]);
      }
      for (const d of ignition.storage.directories)
        expect([d.path, mode(r.root + d.path)]).toEqual([d.path, d.mode]);
      // Symlinks keep their target as written (docker.service's multi-user.target.wants).
      for (const l of ignition.storage.links)
        expect([l.path, fs.readlinkSync(r.root + l.path)]).toEqual([l.path, l.target]);
      expect(fs.readFileSync(`${r.root}/etc/passwd`, "utf8")).toMatch(
        /^core:x:\d+:\d+::\/home\/core:/m,
      );
      const keys = fs.readFileSync(`${r.root}/home/core/.ssh/authorized_keys.d/ignition`, "utf8");
      for (const k of lab.spec.sshKeys) expect(keys).toContain(k);
      const presets = fs.readFileSync(
        `${r.root}/etc/systemd/system-preset/20-ignition.preset`,
        "utf8",
      );
      for (const u of ignition.systemd.units) {
        if (u.enabled) expect(presets).toContain(`enable ${u.name}`);
        if (u.contents)
          expect(fs.readFileSync(`${r.root}/etc/systemd/system/${u.name}`, "utf8")).toBe(
            u.contents,
          );
      }
    },
  );
});

test("Ignition refuses a config whose file source cannot be decoded", () => {
  const good = renderLab("local").nodes[0].ignition;
  const bad = structuredClone(good);
  bad.storage.files[0].contents.source = "data:;base64,@@not base64@@";
  const r = apply("broken", bad);
  expect(r.code).not.toBe(0);
  expect(r.output).toMatch(/CRITICAL.*contents\.source.*invalid data/);
});
