// Fencing: an agent cut off from etcd (its traffic goes through black-hole proxies)
// must stop its units before any other machine starts them. The recording adapters
// of all agents append start/stop with timestamps to one log; we check that no two
// running intervals of a singleton unit on different machines overlap.
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { DEFAULT_TIMING } from "../../fleet/agent/config";
import { FleetService } from "../../fleet/api/service";
import { connect, Registry } from "../../fleet/registry/registry";
import { EtcdCluster } from "./etcd";
import { waitFor } from "../support/wait";
import { intervals, overlaps, readEvents, startAgent, stopAgent } from "./harness";
import { BlackholeProxy } from "./proxy";

jest.setTimeout(120_000);

const etcd = new EtcdCluster();
const dir = mkdtempSync(join(tmpdir(), "fleet-fence-"));
const logFile = join(dir, "events.jsonl");
const proxies: BlackholeProxy[] = [];
const agents: Awaited<ReturnType<typeof startAgent>>[] = [];
let reg: Registry;
const UNITS = ["db.service", "dhcp.service", "ldap.service", "www.service"];
const timing = { ...DEFAULT_TIMING, reconcileMs: 1000 };

beforeAll(async () => {
  await etcd.start();
  for (const m of etcd.members) {
    const p = new BlackholeProxy(m.clientPort);
    await p.start();
    proxies.push(p);
  }
  reg = new Registry(connect({ endpoints: etcd.endpoints }));
});

afterAll(async () => {
  await Promise.all(agents.map(stopAgent));
  await Promise.all(proxies.map((p) => p.stop()));
  reg?.client.close();
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a cut-off agent stops its units before they start elsewhere; never two copies", async () => {
  // The victim starts alone, so it becomes engine leader and gets every unit.
  const victim = await startAgent(
    proxies.map((p) => `http://127.0.0.1:${p.port}`),
    1,
    {},
    { ...timing, logFile, stopDelayMs: 300 },
  );
  agents.push(victim);
  const svc = new FleetService(reg);
  for (const u of UNITS) {
    await svc.putUnit(u, {
      desiredState: "launched",
      options: [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }],
    });
  }
  await waitFor(
    "units running on the victim",
    () => victim.systemd.running().length === UNITS.length,
  );
  for (const n of [2, 3])
    agents.push(await startAgent(etcd.endpoints, n, {}, { ...timing, logFile, stopDelayMs: 300 }));
  expect(await reg.leader()).toBe(victim.id);

  const cutAt = Date.now();
  proxies.forEach((p) => p.freeze());

  // Every unit comes back on a survivor...
  await waitFor(
    "all units running on survivors",
    () => UNITS.every((u) => agents.slice(1).some((a) => a.systemd.running().includes(u))),
    30_000,
  );
  const movedAt = Date.now();
  expect(victim.agent.isFenced).toBe(true);
  expect(victim.systemd.running()).toEqual([]);

  const events = readEvents(logFile);
  for (const u of UNITS) {
    const stop = events.find(
      (e) => e.unit === u && e.machine === victim.id && e.event === "stop" && e.t >= cutAt,
    );
    const restart = events.find(
      (e) => e.unit === u && e.machine !== victim.id && e.event === "start",
    );
    expect(stop).toBeDefined();
    expect(restart).toBeDefined();
    expect(stop!.t).toBeLessThan(restart!.t);
    expect(overlaps(intervals(events, u))).toEqual([]);
  }
  const fencedAfter =
    Math.max(
      ...events.filter((e) => e.machine === victim.id && e.event === "stop").map((e) => e.t),
    ) - cutAt;
  console.log(
    `fencing: victim stopped its units ${fencedAfter} ms after the cut; units running elsewhere ${movedAt - cutAt} ms after the cut`,
  );

  // Heal the partition: the victim finds its lease expired, registers again, and
  // may get work again, but a singleton still never runs twice.
  proxies.forEach((p) => p.thaw());
  await waitFor(
    "victim registered again",
    async () =>
      !victim.agent.isFenced && (await reg.listMachines()).some((m) => m.id === victim.id),
    30_000,
    200,
  );
  await new Promise((r) => setTimeout(r, 3000));
  const after = readEvents(logFile);
  for (const u of UNITS) expect(overlaps(intervals(after, u))).toEqual([]);
  const sched = await reg.listSchedule();
  for (const u of UNITS) expect(sched.filter((p) => p.unit === u)).toHaveLength(1);
});

test("a short cut (fenced, then back before or just after expiry): still never two copies", async () => {
  const [victim, ...others] = agents;
  const svc = new FleetService(reg);
  const blips = ["blip1.service", "blip2.service"];
  for (const u of blips) {
    await svc.putUnit(u, {
      desiredState: "launched",
      options: [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }],
    });
  }
  // the victim came back empty, so least-loaded placement gives it the new units
  await waitFor("blips on the victim", () =>
    blips.every((u) => victim.systemd.running().includes(u)),
  );
  const fencesBefore = victim.agent.fences;
  proxies.forEach((p) => p.freeze());
  // past the fencing deadline (<= 3.5 s after the cut), around the lease expiry (4-5 s)
  await new Promise((r) => setTimeout(r, 3700));
  proxies.forEach((p) => p.thaw());
  expect(victim.agent.fences).toBe(fencesBefore + 1);
  await waitFor(
    "each blip running exactly once",
    () =>
      blips.every(
        (u) => [victim, ...others].filter((a) => a.systemd.running().includes(u)).length === 1,
      ),
    30_000,
  );
  await new Promise((r) => setTimeout(r, 2000));
  const events = readEvents(logFile);
  for (const u of [...UNITS, ...blips]) expect(overlaps(intervals(events, u))).toEqual([]);
  const resumed = blips.filter((u) => victim.systemd.running().includes(u)).length;
  console.log(
    `short cut: ${resumed} of ${blips.length} units resumed on the victim, the rest moved`,
  );
});
