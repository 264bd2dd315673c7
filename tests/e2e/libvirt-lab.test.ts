// End to end on libvirt under TCG: the real Pulumi engine brings up the `local` stack
// (pointed at the Debian stand-in image, fleetlab:services on) inside a network
// namespace of the test's own, checks SSH, a 3-member etcd over TLS, the fleet agents
// and the services they run (WWW, LDAP, DHCP answered from the lab network), previews
// no changes, kills the node of each service in turn and measures how long every
// service that ran there is gone, replaces exactly one node on an Ignition change,
// destroys everything, and shows a failed `up` cleans up. Phase wall times and outages
// go to bench/results/e2e-libvirt.json (no timed assertions here).
import type { Stack } from "@pulumi/pulumi/automation";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDhcpData } from "../../containers/dhcp/render";
import { parseLdapData } from "../../containers/ldap/render";
import {
  EtcdClient,
  forceClean,
  leftovers,
  sshRuns,
  waitEtcdHealthy,
  writeEtcdClient,
} from "./checks";
import {
  createNetns,
  Daemon,
  deleteNetns,
  Netns,
  must,
  startLibvirt,
  stopDaemon,
  waitFor,
} from "./netns";
import {
  activeUnits,
  httpGet,
  joinLabLan,
  LanClient,
  ldapBind,
  ldapDns,
  listMachines,
  secondsUntil,
} from "./services";
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
let admin: EtcdClient;
let lan: LanClient | undefined;

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

// The whole file's wall time, failover rounds and waits included.
const startedAt = Date.now();

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
  config = {
    ...e2eConfig(image, { tag: TAG, sshKey: fs.readFileSync(`${sshKey}.pub`, "utf8").trim() }),
    "fleetlab:services": true,
  };
  stack = await ws.stack(TAG, config);
});

afterAll(async () => {
  lan?.close();
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
    what: "npm run test:e2e: local stack with services on libvirt, 3 VMs under TCG (1 vCPU, 1024 MiB each), Debian stand-in image",
    measuredAt: new Date().toISOString(),
    host: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
    unit: "seconds (wall)",
    phases,
    failedPhases,
    // The timed phases only; wallSeconds adds the checks, waits and failover rounds.
    phasesSeconds: Math.round(total * 10) / 10,
    wallSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
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
  admin = writeEtcdClient(tmp, etcdEndpoints, {
    ca: outs.caCert.value as string,
    cert: outs.adminCert.value as string,
    key: outs.adminKey.value as string,
  });
  const members = await timed("etcdHealthyAfterUp", () => waitEtcdHealthy(ns, admin, 10 * 60_000));
  expect(members).toEqual(Object.keys(nodeIps).sort());
});

const SERVICES = ["ldap", "www", "dhcp"] as const;
type Service = (typeof SERVICES)[number];
const SERVICE_UNITS = SERVICES.flatMap((s) => [`${s}.service`, `${s}-sidekick.service`]);
const ips = () => Object.values(nodeIps);

/** Waits (bounded) until every service unit is active; unit name -> machine IP. */
async function allServicesActive(what: string): Promise<Record<string, string>> {
  let placed: Record<string, string> = {};
  await waitFor(
    what,
    10 * 60_000,
    () => {
      placed = activeUnits(ns, admin, ips());
      return SERVICE_UNITS.every((u) => placed[u]);
    },
    3000,
  );
  return placed;
}

test("fleetctl list-machines shows the 3 nodes; the engine runs every service unit, each sidekick beside its service", async () => {
  // The real CLI, over TCP+TLS with the admin cert, from the management side.
  const r = ns.exec(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      path.join(REPO, "fleet", "main.ts"),
      "--endpoint",
      `https://${ips()[0]}:49153`,
      "--ca",
      admin.ca,
      "--cert",
      admin.cert,
      "--key",
      admin.key,
      "list-machines",
    ],
    { timeoutMs: 60_000 },
  );
  expect(r.stderr).toBe("");
  const rows = r.stdout.trim().split("\n").slice(1);
  expect(rows.map((l) => l.split(/\s+/)[1]).sort()).toEqual(ips().sort());
  expect(rows.every((l) => l.includes("lan=true"))).toBe(true);

  // `up` returned once the units were submitted; starting their containers follows.
  const placed = await timed("servicesActiveAfterUp", () =>
    allServicesActive("every service unit active"),
  );
  notes.placementAfterUp = placed;
  for (const svc of SERVICES)
    expect(placed[`${svc}-sidekick.service`]).toBe(placed[`${svc}.service`]);
  expect(
    new Set(Object.values(listMachines(ns, admin, ips()) ?? []).map((m) => m.primaryIP)),
  ).toEqual(new Set(ips()));
});

// The local stack's data, as the sidekicks render it.
const localData = () => {
  const dataCfg = (config["fleetlab:data"] ?? {}) as Record<string, string>;
  const dhcpFile = path.resolve(REPO, dataCfg.dhcp ?? "data/dhcp.yaml");
  const dhcp = parseDhcpData(fs.readFileSync(dhcpFile, "utf8"), dhcpFile);
  const ldapFile = path.join(REPO, "data", "ldap", "directory.yaml");
  const ldap = parseLdapData(fs.readFileSync(ldapFile, "utf8"), [], ldapFile);
  const page = fs.readFileSync(path.join(REPO, "data", "www", "index.html"), "utf8");
  return { dhcp, ldap, page };
};

test("the services answer on the lab network: the page, the directory, a DHCP reservation and a pool lease", async () => {
  const { dhcp, ldap, page } = localData();
  const placed = activeUnits(ns, admin, ips());
  // Sidekicks render from etcd after the container starts: allow a few seconds.
  await waitFor(
    "nginx serves the data set's page",
    120_000,
    () => {
      const r = httpGet(ns, placed["www.service"]);
      return r.ok && r.body === page;
    },
    2000,
  );
  await waitFor(
    "slapd has the data set's users",
    120_000,
    () => {
      const dns = ldapDns(ns, placed["ldap.service"], ldap.suffix, "(objectClass=posixAccount)");
      return dns?.length === ldap.users.length;
    },
    2000,
  );
  const alice = `uid=alice,ou=people,${ldap.suffix}`;
  notes.ldapBindAlice = ldapBind(ns, placed["ldap.service"], alice, "alice-lab-pass");
  expect(notes.ldapBindAlice).toBe(true);
  expect(ldapBind(ns, placed["ldap.service"], alice, "wrong")).toBe(false);

  lan = joinLabLan(ns, `fleetlab-${TAG}`);
  const reserved = dhcp.reservations[0];
  let got: string | null = null;
  await waitFor(
    "Kea leases the reserved address",
    120_000,
    () => {
      got = lan!.lease(reserved.mac);
      return got !== null;
    },
    1000,
  );
  expect(got).toBe(reserved.ip);
  const pooled = lan.lease("52:54:00:e2:e2:01");
  expect(pooled).not.toBeNull();
  const n = (a: string) => a.split(".").reduce((x, o) => x * 256 + Number(o), 0);
  expect(n(pooled!)).toBeGreaterThanOrEqual(n(dhcp.pool.start));
  expect(n(pooled!)).toBeLessThanOrEqual(n(dhcp.pool.end));
});

test("pulumi preview right after up shows no changes", async () => {
  const pv = await timed("previewNoChanges", () => ws.previewJson(TAG));
  notes.previewNoChangesSummary = pv.changeSummary;
  expect(pv.changeSummary.same).toBeGreaterThan(0);
  expect(pv.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn}`)).toEqual([]);
});

test("killing the node of each service in turn: every service that ran there answers again from another node with the same data", async () => {
  const { dhcp, ldap, page } = localData();
  const reserved = dhcp.reservations[0];
  const users = (ip: string) =>
    JSON.stringify(ldapDns(ns, ip, ldap.suffix, "(objectClass=posixAccount)"));
  const wantUsers = JSON.stringify(
    ldap.users.map((u) => `uid=${u.uid},ou=people,${ldap.suffix}`).sort(),
  );
  // Answers with the data set's content from any of `live`. DHCP is asked on the lab's
  // bridge, so whichever node runs Kea answers; only the reserved address counts.
  const answers: Record<Service, (live: string[]) => boolean> = {
    ldap: (live) => live.some((ip) => users(ip) === wantUsers),
    www: (live) => live.some((ip) => httpGet(ns, ip).body === page),
    dhcp: () => lan!.lease(reserved.mac, 2) === reserved.ip,
  };
  // Every outage seen, per service: a round measures each service that ran on its
  // victim, so one that shared a node with an earlier victim's service has two samples.
  const outages: Record<Service, Record<string, unknown>[]> = { ldap: [], www: [], dhcp: [] };
  notes.failover = outages;
  const nameOf = (ip: string) => Object.keys(nodeIps).find((n) => nodeIps[n] === ip)!;
  const say = (m: string) => process.stdout.write(`[e2e failover] ${m}\n`);
  // One round per service not yet measured: kill the node that runs it, measure, boot
  // the node again (a reboot is minutes under TCG, so a service already measured as a
  // passenger of an earlier round gets no round of its own).
  for (const svc of SERVICES) {
    if (outages[svc].length > 0) continue;
    const before = await allServicesActive("every service unit active before the kill");
    const victimIp = before[`${svc}.service`];
    const victim = nameOf(victimIp);
    const live = ips().filter((ip) => ip !== victimIp);
    const pending = SERVICES.filter((s) => before[`${s}.service`] === victimIp);
    say(`killing ${victim} (${victimIp}), which runs ${pending.join(", ")}`);
    const killedAt = Date.now();
    must(
      ns.exec("virsh", ["-c", "qemu:///system", "destroy", `fleetlab-${TAG}-${victim}`]),
      `virsh destroy ${victim}`,
    );
    try {
      // Poll every service that ran there until each answers from a survivor (bounded).
      // Also note when fleet first reports it running on a survivor: the part of the
      // outage that is the lease expiring, the move and the container starting, before
      // its sidekick has rendered the data and the daemon answers.
      const seconds: Partial<Record<Service, number>> = {};
      const running: Partial<Record<Service, number>> = {};
      const since = () => Math.round((Date.now() - killedAt) / 100) / 10;
      for (let i = 0; i < 600 && pending.some((s) => seconds[s] === undefined); i++) {
        const placed = activeUnits(ns, admin, live);
        for (const s of pending)
          if (running[s] === undefined && live.includes(placed[`${s}.service`])) {
            running[s] = since();
            say(`${s}.service running on ${placed[`${s}.service`]} after ${running[s]} s`);
          }
        for (const s of pending)
          if (seconds[s] === undefined && answers[s](live)) {
            seconds[s] = since();
            say(`${s} answers again after ${seconds[s]} s`);
          }
        if (Date.now() - killedAt > 5 * 60_000) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const after = activeUnits(ns, admin, live);
      for (const s of pending)
        outages[s].push({
          killed: victim,
          from: victimIp,
          to: after[`${s}.service`] ?? null,
          runningAfterSeconds: running[s] ?? null,
          outageSeconds: seconds[s] ?? null,
        });
      say(`units now: ${JSON.stringify(after)}`);
      expect(pending.map((s) => [s, typeof seconds[s]])).toEqual(pending.map((s) => [s, "number"]));
      for (const s of pending) expect(live).toContain(after[`${s}.service`]);
    } finally {
      // Its machine entry lives until the lease expires (fleetLeaseTtlSec): wait for
      // that first, so "registered again" below means the rebooted agent.
      await secondsUntil(
        Date.now(),
        2 * 60_000,
        () => !(listMachines(ns, admin, live) ?? []).some((m) => m.primaryIP === victimIp),
        2000,
      );
      // Bring the victim back (a normal boot: Ignition ran on the first one) so the
      // next round, and the rest of the file, have three members again.
      must(
        ns.exec("virsh", ["-c", "qemu:///system", "start", `fleetlab-${TAG}-${victim}`]),
        `virsh start ${victim}`,
      );
      const back = await secondsUntil(
        Date.now(),
        10 * 60_000,
        () => (listMachines(ns, admin, live) ?? []).some((m) => m.primaryIP === victimIp),
        3000,
      );
      const rejoin = (notes.rejoinSeconds ??= {}) as Record<string, number | null>;
      rejoin[victim] = back;
      say(`${victim} back in fleet after ${back} s`);
      expect(back).not.toBeNull();
      expect(await waitEtcdHealthy(ns, admin, 10 * 60_000)).toEqual(Object.keys(nodeIps).sort());
    }
  }
  expect(SERVICES.filter((s) => outages[s].length === 0)).toEqual([]);
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
  const members = await timed("etcdHealthyAfterReplace", () =>
    waitEtcdHealthy(ns, admin, 10 * 60_000),
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
