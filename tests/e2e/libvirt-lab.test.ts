// End to end on libvirt under TCG: the real Pulumi engine brings up the `local` stack
// (pointed at the Debian stand-in image) inside a network namespace of the test's own,
// checks SSH and a 3-member etcd over TLS, previews no changes, replaces exactly one
// node on an Ignition change, destroys everything, and shows a failed `up` cleans up.
// Phase wall times go to bench/results/e2e-libvirt.json (no timed assertions here).
import type { Stack } from "@pulumi/pulumi/automation";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { forceClean, leftovers, sshRuns, waitEtcdHealthy, writeEtcdClient } from "./checks";
import {
  createNetns,
  Daemon,
  deleteNetns,
  Netns,
  startLibvirt,
  stopDaemon,
  waitFor,
} from "./netns";
import { createWorkspace, e2eConfig, E2eWorkspace, REPO } from "./workspace";

jest.setTimeout(45 * 60_000);

const TAG = "e2e";
const FAIL_TAG = "e2efail";
const phases: Record<string, number> = {};
const notes: Record<string, unknown> = {};

const failedPhases: string[] = [];

async function timed<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } catch (e) {
    // A failed phase's time is how long it took to fail, not a result: say so.
    failedPhases.push(name);
    throw e;
  } finally {
    phases[name] = Math.round((Date.now() - t0) / 100) / 10;
  }
}

let tmp: string;
let ns: Netns;
let daemons: Daemon[] = [];
let ws: E2eWorkspace;
let image: { dir: string; cmdline: string };
let sshKey: string;
let stack: Stack;
let config: Record<string, unknown>;
let etcdEndpoints: string[];
let nodeIps: Record<string, string>;

function buildImage(): { dir: string; cmdline: string } {
  const r = spawnSync("bash", [path.join(REPO, "image", "build.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 40 * 60_000,
  });
  if (r.status !== 0) throw new Error(`image/build.sh failed (${r.status})`);
  const dir = r.stdout.trim().split("\n").pop()!;
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "image.json"), "utf8")) as {
    cmdline: string;
  };
  return { dir, cmdline: meta.cmdline };
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-e2e-"));
  image = await timed("imageBuild", () => buildImage());
  ns = createNetns(`fl-e2e-${process.pid}`);
  daemons = await timed("libvirtdStart", () => startLibvirt(ns, tmp));
  // Leftovers of an earlier, killed run would make `up` fail on existing names.
  forceClean(ns, `fleetlab-${TAG}`);
  forceClean(ns, `fleetlab-${FAIL_TAG}`);
  sshKey = path.join(tmp, "id_ed25519");
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "fleetlab-e2e", "-f", sshKey]);
  ws = await createWorkspace(tmp, ns.name);
  config = e2eConfig(image, { tag: TAG, sshKey: fs.readFileSync(`${sshKey}.pub`, "utf8").trim() });
  stack = await ws.stack(TAG, config);
});

afterAll(async () => {
  if (ns) {
    forceClean(ns, `fleetlab-${TAG}`);
    forceClean(ns, `fleetlab-${FAIL_TAG}`);
  }
  for (const d of [...daemons].reverse()) await stopDaemon(d);
  if (ns) deleteNetns(ns.name);
  const total = Object.values(phases).reduce((a, b) => a + b, 0);
  const out = path.join(REPO, "bench", "results", "e2e-libvirt.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const record = {
    what: "npm run test:e2e: local stack on libvirt, 3 VMs under TCG (1 vCPU, 1024 MiB each), Debian stand-in image",
    measuredAt: new Date().toISOString(),
    host: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
    unit: "seconds (wall)",
    phases,
    failedPhases,
    totalSeconds: Math.round(total * 10) / 10,
    ...notes,
  };
  fs.writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("pulumi up boots 3 VMs from Ignition; SSH answers; etcd has 3 healthy members over TLS", async () => {
  const up = await timed("up", () => stack.up({ onOutput: (s) => process.stdout.write(s) }));
  expect(up.summary.result).toBe("succeeded");
  const outs = await stack.outputs();
  nodeIps = outs.nodeIps.value as Record<string, string>;
  etcdEndpoints = outs.etcdEndpoints.value as string[];
  expect(Object.keys(nodeIps)).toHaveLength(3);
  for (const [name, ip] of Object.entries(nodeIps)) {
    // Logging in with the key proves Ignition wrote ~core/.ssh/authorized_keys.d/ignition.
    const login = sshRuns(ns, sshKey, ip, "hostname");
    expect({ name, ok: login.ok, out: login.out.split("\n")[0] }).toEqual({
      name,
      ok: true,
      out: name,
    });
  }
  // docker becomes active once it has loaded the preloaded images (slow under TCG).
  await timed("dockerActive", () =>
    waitFor(
      "docker active on every node",
      10 * 60_000,
      () =>
        Object.values(nodeIps).every((ip) =>
          /^active$/m.test(sshRuns(ns, sshKey, ip, "systemctl is-active docker").out),
        ),
      5000,
    ),
  );
  const client = writeEtcdClient(tmp, etcdEndpoints, {
    ca: outs.caCert.value as string,
    cert: outs.adminCert.value as string,
    key: outs.adminKey.value as string,
  });
  const members = await timed("etcdHealthyAfterUp", () => waitEtcdHealthy(ns, client, 10 * 60_000));
  expect(members).toEqual(Object.keys(nodeIps).sort());
});

test("pulumi preview right after up shows no changes", async () => {
  const pv = await timed("previewNoChanges", () => ws.previewJson(TAG));
  notes.previewNoChangesSummary = pv.changeSummary;
  expect(pv.changeSummary.same).toBeGreaterThan(0);
  expect(pv.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn}`)).toEqual([]);
});

test("changing one node's Ignition replaces exactly that VM; etcd is healthy again", async () => {
  const nodes = (config["fleetlab:nodes"] as Record<string, unknown>[]).map((n) => ({ ...n }));
  const target = nodes[2];
  // Machine metadata lands in that node's Ignition (fleet agent environment) only.
  target.metadata = { ...(target.metadata as object), rack: "e2e-replaced" };
  stack = await ws.stack(TAG, { ...config, "fleetlab:nodes": nodes });
  const pv = await timed("previewReplace", () => ws.previewJson(TAG));
  notes.previewReplaceSummary = pv.changeSummary;
  const replaceOps = ["replace", "create-replacement", "delete-replaced"];
  const vmReplacements = [
    ...new Set(
      pv.steps
        .filter((s) => replaceOps.includes(s.op) && s.urn.includes("libvirt:Node"))
        .map((s) => s.urn),
    ),
  ];
  expect(vmReplacements).toHaveLength(1);
  expect(vmReplacements[0]).toContain(String(target.name));
  const up = await timed("upReplace", () => stack.up({ onOutput: (s) => process.stdout.write(s) }));
  expect(up.summary.result).toBe("succeeded");
  const outs = await stack.outputs();
  const client = writeEtcdClient(tmp, etcdEndpoints, {
    ca: outs.caCert.value as string,
    cert: outs.adminCert.value as string,
    key: outs.adminKey.value as string,
  });
  const members = await timed("etcdHealthyAfterReplace", () =>
    waitEtcdHealthy(ns, client, 10 * 60_000),
  );
  expect(members).toEqual(Object.keys(nodeIps).sort());
});

test("pulumi destroy leaves no domain, volume, network or pool of the lab", async () => {
  const d = await timed("destroy", () =>
    stack.destroy({ onOutput: (s) => process.stdout.write(s) }),
  );
  expect(d.summary.result).toBe("succeeded");
  expect(leftovers(ns, `fleetlab-${TAG}`)).toEqual([]);
});

test("a node that never answers fails `up` with a clear error, and destroy still cleans up", async () => {
  const one = [{ name: "core-01", role: "etcd" }];
  const ws2 = await createWorkspace(path.join(tmp, "fail"), ns.name, {
    FLEETLAB_READINESS_TIMEOUT_SEC: "3",
  });
  const failing = await ws2.stack(
    FAIL_TAG,
    e2eConfig(image, {
      tag: FAIL_TAG,
      sshKey: fs.readFileSync(`${sshKey}.pub`, "utf8").trim(),
      nodes: one,
    }),
  );
  const err = await timed("failedUp", () =>
    failing.up().then(
      () => undefined,
      (e: Error) => e,
    ),
  );
  expect(err).toBeInstanceOf(Error);
  expect(String(err?.message)).toMatch(/SSH did not answer at \S+:22 within 3s/);
  expect(String(err?.message)).toContain("Console log tail");
  const d = await timed("destroyAfterFailure", () => failing.destroy());
  expect(d.summary.result).toBe("succeeded");
  expect(leftovers(ns, `fleetlab-${FAIL_TAG}`)).toEqual([]);
});
