// The faculty stack as a faculty runs it, end to end under TCG: a KVM server namespace
// (its own libvirtd, an sshd; the lab's NATed network exists only there) and a
// management namespace whose only route is the server's SSH address, where the real
// Pulumi engine brings up a lab over qemu+ssh:// — one etcd member and one worker (two
// VMs keep the run bounded), services at their default. Checked first: the management
// side has no route to the lab subnet, so anything that reached a node went through the
// server. Then: `up`; `lab status` through the tunnel shows both machines and every
// unit; the lab data is served (a client in the server namespace gets the page and an
// LDAP entry); a unit file placed by MachineMetadata runs on the worker; a preview
// right after `up` has no changes; `destroy` leaves no domain, volume, network or pool
// on the server, and no ssh process or forward on the management side.
// Phase wall times go to bench/results/e2e-faculty.json (no timed assertions here).
import type { Stack } from "@pulumi/pulumi/automation";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLdapData } from "../../labdata/ldap/parse";
import { TIMING_DEFAULTS } from "../../infra/config/defaults";
import { stopRegistry } from "../../infra/registry/server";
import { toolchainEnv } from "../../scripts/lab/env";
import { waitFor } from "../support/wait";
import { boundMs, calibrate, type Calibration } from "../e2e/calibrate";
import { forceClean, leftovers } from "../e2e/checks";
import { createFacultyNet, type FacultyNet } from "../e2e/faculty-net";
import { httpGet, ldapDns } from "../e2e/services";
import { createPhases } from "../e2e/phases";
import { serviceStepsSince } from "../e2e/timeline";
import {
  buildStandinImage,
  createWorkspace,
  labStatus as runLabStatus,
  standinBoot,
  REPO,
  type E2eWorkspace,
  type StandinImage,
} from "../e2e/workspace";

jest.setTimeout(60 * 60_000);

const TAG = "fac";
const SFX = String(process.pid % 100000);
const GATEWAY = "10.40.0.1";
const NODES = { "core-01": "10.40.0.11", "worker-01": "10.40.0.12" };
const SERVICES = ["ldap", "www", "dhcp"] as const;
const SERVICE_UNITS = SERVICES.flatMap((s) => [`${s}.service`, `${s}-sidekick.service`]);
/** The admin's own unit: only a machine with kind=worker may run it. */
const WORKER_UNIT = "hello-worker.service";

const { phases, failedPhases, timed } = createPhases();
const say = (m: string) => process.stdout.write(`[faculty] ${m}\n`);

let tmp: string;
let net: FacultyNet;
let ws: E2eWorkspace;
let image: StandinImage;
let stack: Stack;
let idle: Calibration;
let sshBin: string;
let upDone = false;
/** When `up` returned, and where each service's start went since then (timeline.ts). */
let upEndedAt = 0;
const serviceSteps: Record<string, unknown> = {};
const startedAt = Date.now();

function config(): Record<string, unknown> {
  return {
    "fleetlab:environment": "faculty",
    "fleetlab:hypervisor": {
      kind: "libvirt",
      uri: net.uri(),
      pool: `fleetlab-${TAG}`,
      poolPath: `/var/lib/libvirt/images/fleetlab-${TAG}`,
      networkMode: "nat",
      domainType: "qemu",
      // Its paths are files on the server: the server namespace shares this filesystem.
      ...standinBoot(image),
    },
    "fleetlab:network": {
      name: `fleetlab-${TAG}`,
      cidr: "10.40.0.0/24",
      gateway: GATEWAY,
      dns: [GATEWAY],
      dhcpPool: { start: "10.40.0.100", end: "10.40.0.199" },
    },
    "fleetlab:data": { dhcp: "data/dhcp.faculty.yaml" },
    "fleetlab:nodes": [
      { name: "core-01", role: "etcd", metadata: { lan: "true" } },
      { name: "worker-01", role: "worker", metadata: { lan: "true", kind: "worker" } },
    ],
    "fleetlab:nodeDefaults": { cpus: 1, memoryMiB: 1024, diskGiB: 10 },
    "fleetlab:sshKeys": [fs.readFileSync(path.join(tmp, "id.pub"), "utf8").trim()],
    "fleetlab:etcdImage": image.etcdImage,
    "fleetlab:unitsDir": path.join(tmp, "faculty-units"),
    ...Object.fromEntries(
      Object.entries(TIMING_DEFAULTS.emulated).map(([k, v]) => [`fleetlab:${k}`, v]),
    ),
  };
}

/** `lab status` in the management namespace: through the tunnel, as the admin runs it. */
const labStatus = () => {
  const s = runLabStatus(ws, net.mgmt, TAG);
  return { ...s, ok: s.status === 0, err: s.stderr.trim().slice(-1500) };
};

/** One clear failure when `up` did not succeed, instead of a wait that cannot end well. */
function needUp(): void {
  if (!upDone)
    throw new Error("the lab is not up (the test that brings it up failed); this test needs it");
}

/** The IP a unit is active on, from a status row (MACHINE is "<id>.../<ip>"). */
const activeOn = (row: string[] | undefined): string | undefined =>
  row && row[4] === "active" ? row[3]?.split("/")[1] : undefined;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-faculty-"));
  fs.chmodSync(tmp, 0o755);
  image = await timed("imageBuild", () => buildStandinImage());
  idle = calibrate(path.join(image.dir, "vmlinuz"), "idle, before the lab boots");
  say(`host calibration: ${JSON.stringify(idle)}`);
  net = await timed("serverStart", () => createFacultyNet(tmp, SFX, 1));
  forceClean(net.srv, `fleetlab-${TAG}`);
  sshBin = net.sshBin("lab", path.join(tmp, "known_hosts"));
  const tc = toolchainEnv();
  ws = await createWorkspace(tmp, net.mgmt.name, {
    // The ssh the program and libvirt run: the real client, the test's known_hosts.
    PATH: `${sshBin}:${tc.PATH}`,
    FLEETLAB_READINESS_TIMEOUT_SEC: String(Math.round(boundMs(idle, 900_000) / 1000)),
    FLEETLAB_SSH_IDENTITY: path.join(tmp, "id"),
    FLEETLAB_REGISTRY_DIR: path.join(tmp, "registry"),
  });
  // The admin's own unit, which only the worker may run.
  const units = path.join(tmp, "faculty-units");
  fs.mkdirSync(units);
  fs.writeFileSync(
    path.join(units, WORKER_UNIT),
    [
      "[Unit]",
      "Description=fleetlab faculty e2e: runs where the metadata says (the worker)",
      "",
      "[Service]",
      "ExecStart=/bin/sleep infinity",
      "",
      "[X-Fleet]",
      "MachineMetadata=kind=worker",
      "",
    ].join("\n"),
  );
  stack = await ws.stack(TAG, config());
});

afterAll(async () => {
  if (net) {
    if (upDone) await stack.destroy().catch(() => undefined);
    forceClean(net.srv, `fleetlab-${TAG}`);
  }
  if (tmp) await stopRegistry(path.join(tmp, "registry", TAG));
  await net?.close();
  const out = path.join(REPO, "bench", "results", "e2e-faculty.json");
  fs.writeFileSync(
    out,
    `${JSON.stringify(
      {
        what: "npm run test:faculty: the faculty stack over qemu+ssh from a management namespace, 1 etcd member + 1 worker under TCG (1 vCPU, 1024 MiB each), Debian stand-in image, services on",
        measuredAt: new Date().toISOString(),
        host: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
        unit: "seconds (wall)",
        phases,
        failedPhases,
        wallSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
        calibration: idle,
        serviceStepsAfterUp: serviceSteps,
      },
      null,
      2,
    )}\n`,
  );
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("the management namespace has no route to the lab subnet (only the server's SSH)", () => {
  expect(net.mgmt.exec("ip", ["route", "get", net.server]).status).toBe(0);
  for (const ip of [GATEWAY, ...Object.values(NODES)])
    expect(net.mgmt.exec("ip", ["route", "get", ip]).stderr).toMatch(/unreachable/i);
});

test("pulumi up brings the lab up over qemu+ssh, everything through the server", async () => {
  const r = await timed("up", () =>
    stack.up({ onOutput: (o) => process.stdout.write(o), color: "never" }),
  );
  upDone = true;
  upEndedAt = Date.now();
  expect(r.summary.result).toBe("succeeded");
  expect(r.outputs.hypervisorSsh?.value).toEqual({
    host: `root@${net.server}`,
    identity: path.join(tmp, "id"),
  });
  expect(r.outputs.registry?.value).toBe(`${GATEWAY}:5000`);
  // The lab lives on the server only.
  expect(net.srv.exec("ip", ["route", "get", NODES["core-01"]]).status).toBe(0);
});

test("lab status through the tunnel: both machines, every service unit and the worker's unit active", async () => {
  needUp();
  let last = labStatus();
  await timed("servicesActiveAfterUp", () =>
    waitFor(
      "every unit active in `lab status`",
      () => {
        last = labStatus();
        return (
          last.ok &&
          [...SERVICE_UNITS, WORKER_UNIT].every((u) => activeOn(last.units[u]) !== undefined)
        );
      },
      boundMs(idle, 10 * 60_000),
      10_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nlast status: ${JSON.stringify(last)}`);
    }),
  );
  expect(last.machines.map((m) => m[1]).sort()).toEqual(Object.values(NODES).sort());
  expect(last.machines.find((m) => m[1] === NODES["worker-01"])?.[2]).toMatch(/kind=worker/);
  expect(activeOn(last.units[WORKER_UNIT])).toBe(NODES["worker-01"]);
  for (const s of SERVICES)
    expect(activeOn(last.units[`${s}-sidekick.service`])).toBe(
      activeOn(last.units[`${s}.service`]),
    );
  say(
    `placement: ${JSON.stringify(Object.fromEntries(Object.entries(last.units).map(([u, r]) => [u, r[3]])))}`,
  );
});

test("the lab data is served: a client in the server namespace gets the page and the directory", async () => {
  needUp();
  const s = labStatus();
  const www = activeOn(s.units["www.service"])!;
  const ldapAt = activeOn(s.units["ldap.service"])!;
  const page = fs.readFileSync(path.join(REPO, "data", "www", "index.html"), "utf8");
  const ldapFile = path.join(REPO, "data", "ldap", "directory.yaml");
  const ldap = parseLdapData(fs.readFileSync(ldapFile, "utf8"), [], ldapFile);
  const users = ldap.users.map((u) => `uid=${u.uid},ou=people,${ldap.suffix}`).sort();
  await timed("servicesAnswerAfterActive", () =>
    waitFor(
      "the page and the directory from the server namespace",
      () =>
        httpGet(net.srv, www).body === page &&
        JSON.stringify(ldapDns(net.srv, ldapAt, ldap.suffix, "(objectClass=posixAccount)")) ===
          JSON.stringify(users),
      boundMs(idle, 8 * 60_000),
      5_000,
    ),
  );
  serviceSteps.answeredBy = Math.round((Date.now() - upEndedAt) / 100) / 10;
  // Where the time went on each service's node, in seconds since `up` returned, with hot
  // standby's steps there (a first start shares the node's CPU with them).
  for (const svc of SERVICES) {
    const ip = activeOn(s.units[`${svc}.service`]);
    if (ip)
      serviceSteps[svc] = serviceStepsSince(
        net.srv,
        path.join(tmp, "id"),
        ip,
        svc,
        upEndedAt,
        true,
      );
  }
  say(`service steps since up returned (s): ${JSON.stringify(serviceSteps)}`);
});

test("pulumi preview right after up shows no changes", async () => {
  needUp();
  const p = await timed("previewNoChanges", () => ws.previewJson(TAG));
  const changed = Object.entries(p.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
  expect(changed).toEqual([]);
});

test("pulumi destroy leaves nothing on the server and no ssh or forward on the management side", async () => {
  needUp();
  await timed("destroy", () => stack.destroy({ onOutput: (o) => process.stdout.write(o) }));
  upDone = false;
  expect(leftovers(net.srv, `fleetlab-${TAG}`)).toEqual([]);
  // No tunnel and no registry forward left: no ssh process, nothing listening here.
  // (the run's tunnel has its control socket in a fleetlab-ssh- directory; the
  // registry's forward logs to reach.log)
  const ssh = spawnSync("pgrep", ["-af", "fleetlab-ssh-|reach\\.log"], { encoding: "utf8" });
  expect(ssh.stdout).toBe("");
  expect(net.mgmt.exec("ss", ["-Hltn"]).stdout.trim()).toBe("");
});
