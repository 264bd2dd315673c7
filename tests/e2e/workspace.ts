// A Pulumi workspace for the e2e test: the real engine (scripts/toolchain.sh), a temp
// file:// backend, and the repo's program seen through symlinks so the stack file the
// test writes never lands in the shared working tree. The `pulumi` the Automation API
// runs is a wrapper that enters the test's network namespace, so the engine, the
// language host and the dynamic providers (SSH readiness probes) all run inside it.
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { TIMING_DEFAULTS } from "../../infra/config/defaults";
import { toolchainEnv } from "../../scripts/lab/env";
import type { Netns } from "./netns";

export const REPO = path.resolve(__dirname, "..", "..");

export interface PreviewJson {
  changeSummary: Record<string, number>;
  steps: { op: string; urn: string }[];
}

export interface E2eWorkspace {
  dir: string;
  env: Record<string, string>;
  cmd: PulumiCommand;
  stack(name: string, config: Record<string, unknown>): Promise<Stack>;
  /**
   * `pulumi preview --json`. Not Stack.preview(): with a CLI newer than 3.205 the
   * Automation API streams engine events over gRPC to 127.0.0.1 of the test process,
   * which the engine inside the namespace cannot reach, so its change summary is empty.
   */
  previewJson(name: string): Promise<PreviewJson>;
}

export async function createWorkspace(
  tmp: string,
  netns: string,
  extraEnv: Record<string, string> = {},
): Promise<E2eWorkspace> {
  const dir = path.join(tmp, "project");
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of fs.readdirSync(REPO)) {
    if (entry === ".git" || /^Pulumi\..+\.yaml$/.test(entry)) continue;
    fs.symlinkSync(path.join(REPO, entry), path.join(dir, entry));
  }
  const tc = toolchainEnv(); // throws, naming `bash scripts/setup.sh`, when not built
  const real = path.join(tc.FLEETLAB_PULUMI_BIN, "pulumi");
  const root = path.join(tmp, "pulumi-root");
  fs.mkdirSync(path.join(root, "bin"), { recursive: true });
  const wrapper = path.join(root, "bin", "pulumi");
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${netns} ${real} "$@"\n`, {
    mode: 0o755,
  });
  const state = path.join(tmp, "state");
  fs.mkdirSync(state);
  const env: Record<string, string> = {
    ...tc,
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: "fleetlab-e2e",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    ...extraEnv,
  };
  const cmd = await PulumiCommand.get({ root, skipVersionCheck: true });
  return {
    dir,
    env,
    cmd,
    async stack(name, config) {
      // Stack config is written as a file (not `pulumi config set`) because its values
      // are structured objects and lists.
      fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), YAML.stringify({ config }));
      return LocalWorkspace.createOrSelectStack(
        { stackName: name, workDir: dir },
        { pulumiCommand: cmd, envVars: env },
      );
    },
    async previewJson(name) {
      const r = spawnSync(wrapper, ["preview", "--json", "--non-interactive", "--stack", name], {
        cwd: dir,
        env: { ...process.env, ...env },
        encoding: "utf8",
        timeout: 15 * 60_000,
        maxBuffer: 64 << 20,
      });
      if (r.status !== 0)
        throw new Error(
          `pulumi preview --json failed (${r.status}): ${r.stderr}\n${r.stdout.slice(-4000)}`,
        );
      return JSON.parse(r.stdout) as PreviewJson;
    },
  };
}

/** The `local` stack's config, pointed at the test image and given test-only names. */
/** The test image (image/build.sh): where it is, its kernel command line, its etcd image. */
export interface StandinImage {
  dir: string;
  cmdline: string;
  /** The stand-in etcd image, on the nodes and on this machine's docker (for the mirror). */
  etcdImage: string;
}

/** The fleetlab:hypervisor keys that boot the test image: its disk, kernel and Ignition key. */
export function standinBoot(image: StandinImage): Record<string, unknown> {
  return {
    image: { path: path.join(image.dir, "rootfs.qcow2"), format: "qcow2" },
    // Debian's Ignition reads only this key (Flatcar's also reads opt/org.flatcar-linux/config).
    ignitionFwCfgKey: "opt/com.coreos/config",
    directKernelBoot: {
      kernel: path.join(image.dir, "vmlinuz"),
      initrd: path.join(image.dir, "initrd.img"),
      cmdline: image.cmdline,
    },
  };
}

export function e2eConfig(
  image: StandinImage,
  opts: { tag: string; sshKey: string; nodes?: unknown[] },
): Record<string, unknown> {
  const local = YAML.parse(fs.readFileSync(path.join(REPO, "Pulumi.local.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const c = { ...local.config };
  const hv = { ...(c["fleetlab:hypervisor"] as Record<string, unknown>) };
  Object.assign(hv, {
    pool: `fleetlab-${opts.tag}`,
    poolPath: `/var/lib/libvirt/images/fleetlab-${opts.tag}`,
    ...standinBoot(image),
  });
  c["fleetlab:hypervisor"] = hv;
  c["fleetlab:network"] = { ...(c["fleetlab:network"] as object), name: `fleetlab-${opts.tag}` };
  c["fleetlab:sshKeys"] = [opts.sshKey];
  // Debian's etcd under a stand-in name (quay.io is out of reach here): the lab registry
  // mirrors it from this machine's docker as it would mirror quay.io's image.
  c["fleetlab:etcdImage"] = image.etcdImage;
  // Three emulated (TCG) VMs on a 2-CPU host stall for seconds at a time: with etcd's
  // and fleet's defaults members keep re-electing leaders and agents fence themselves.
  // Pinned to the program's emulated profile (what an emulated lab gets when it leaves
  // them unset), so a host whose KVM is detected still tests that profile.
  for (const [k, v] of Object.entries(TIMING_DEFAULTS.emulated)) c[`fleetlab:${k}`] = v;
  if (opts.nodes) c["fleetlab:nodes"] = opts.nodes;
  return c;
}

/** The test image, built by image/build.sh (cached: a warm call only checks its hashes). */
export function buildStandinImage(): StandinImage {
  const r = spawnSync("bash", [path.join(REPO, "image", "build.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 40 * 60_000,
  });
  if (r.status !== 0) throw new Error(`image/build.sh failed (${r.status})`);
  const dir = r.stdout.trim().split("\n").pop()!;
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "image.json"), "utf8")) as {
    cmdline: string;
    etcdImages: string[];
  };
  return { dir, cmdline: meta.cmdline, etcdImage: meta.etcdImages[0] };
}

/** What `npm run lab -- status` printed: its exit status, and its two tables as rows of cells. */
export interface LabStatus {
  status: number;
  stderr: string;
  machines: string[][];
  /** unit name -> its row (UNIT, DSTATE, STATE, MACHINE, ACTIVE, SUB). */
  units: Record<string, string[]>;
}

/**
 * `npm run lab -- status <stack>` as an admin runs it on the management host (inside
 * `ns`): no flags, the access from the stack's outputs, the workspace's backend and
 * passphrase.
 */
export function labStatus(ws: E2eWorkspace, ns: Netns, stack: string): LabStatus {
  const r = ns.exec(
    "env",
    [
      ...Object.entries(ws.env).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      ...["-r", "ts-node/register/transpile-only", path.join(REPO, "scripts", "lab.ts")],
      ...["status", stack],
    ],
    { timeoutMs: 180_000 },
  );
  const [machineTable = "", unitTable = ""] = r.stdout.trim().split("\n\n");
  const rows = (t: string) =>
    t
      .split("\n")
      .slice(1)
      .filter((l) => l.trim() !== "")
      .map((row) => row.split(/\s+/));
  return {
    status: r.status,
    stderr: r.stderr,
    machines: rows(machineTable),
    units: Object.fromEntries(rows(unitTable).map((c) => [c[0], c])),
  };
}
