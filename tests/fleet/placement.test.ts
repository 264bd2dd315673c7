// Placement with every [X-Fleet] option against a real 3-member etcd and three
// in-process agents (recording systemd).
import { FleetService } from "../../fleet/api/service";
import { Registry, connect } from "../../fleet/registry/registry";
import { UnitOption } from "../../fleet/unit";
import { EtcdCluster } from "./etcd";
import { waitFor } from "../support/wait";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { intervals, machineID, overlaps, readEvents, startAgent, stopAgent } from "./harness";

jest.setTimeout(90_000);

const etcd = new EtcdCluster();
const dir = mkdtempSync(join(tmpdir(), "fleet-placement-"));
const logFile = join(dir, "events.jsonl");
let agents: Awaited<ReturnType<typeof startAgent>>[] = [];
let svc: FleetService;
let reg: Registry;

const opts = (xfleet: Record<string, string | string[]> = {}): UnitOption[] => [
  { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
  ...Object.entries(xfleet).flatMap(([name, v]) =>
    (Array.isArray(v) ? v : [v]).map((value) => ({ section: "X-Fleet", name, value })),
  ),
];

async function launch(name: string, xfleet: Record<string, string | string[]> = {}) {
  await svc.putUnit(name, { desiredState: "launched", options: opts(xfleet) });
}
/** machines a unit runs on, per the recording adapters (what "systemd" was told) */
const runningOn = (unit: string) =>
  agents.filter((a) => a.systemd.running().includes(unit)).map((a) => a.id);
const placed = (unit: string, count = 1) =>
  waitFor(
    `${unit} running on ${count} machine(s)`,
    () => runningOn(unit).length === count && runningOn(unit),
  );

beforeAll(async () => {
  await etcd.start();
  const meta = [
    { region: "east", disk: "ssd" },
    { region: "west", disk: "ssd" },
    { region: "west", disk: "hdd" },
  ];
  agents = await Promise.all(
    meta.map((m, i) => startAgent(etcd.endpoints, i + 1, m, { logFile, stopDelayMs: 300 })),
  );
  reg = new Registry(connect({ endpoints: etcd.endpoints }));
  svc = new FleetService(reg);
});

afterAll(async () => {
  await Promise.all(agents.map(stopAgent));
  reg?.client.close();
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("least-loaded placement: three plain units land on three different machines", async () => {
  for (const n of ["a.service", "b.service", "c.service"]) await launch(n);
  const where = await Promise.all(["a.service", "b.service", "c.service"].map((u) => placed(u)));
  expect(new Set(where.flat()).size).toBe(3);
  // fleet's tie-break: the first unit goes to the lowest machine ID
  expect(where[0]).toEqual([machineID(1)]);
});

test("MachineID pins a unit", async () => {
  await launch("pinned.service", { MachineID: machineID(3) });
  expect(await placed("pinned.service")).toEqual([machineID(3)]);
});

test("MachineMetadata: same key ORs, different keys AND", async () => {
  await launch("meta-or.service", { MachineMetadata: ["region=east", "region=north"] });
  expect(await placed("meta-or.service")).toEqual([machineID(1)]);
  await launch("meta-and.service", { MachineMetadata: "region=west disk=hdd" });
  expect(await placed("meta-and.service")).toEqual([machineID(3)]);
});

test("MachineOf follows its peer", async () => {
  await launch("peer.service", { MachineID: machineID(2) });
  await launch("follower.service", { MachineOf: "peer.service" });
  expect(await placed("follower.service")).toEqual([machineID(2)]);
});

test("Conflicts (glob, both directions) spreads instances of a template", async () => {
  await svc.putUnit("web@.service", {
    desiredState: "inactive",
    options: opts({ Conflicts: "web@*.service" }),
  });
  for (const i of [1, 2, 3]) await svc.putUnit(`web@${i}.service`, { desiredState: "launched" });
  const where = await Promise.all([1, 2, 3].map((i) => placed(`web@${i}.service`)));
  expect(new Set(where.flat()).size).toBe(3);
  // a fourth instance has nowhere to go: it stays unscheduled with a reason
  await svc.putUnit("web@4.service", { desiredState: "launched" });
  const u = await waitFor(
    "reason for web@4",
    async () => (await svc.getUnit("web@4.service")).reason,
  );
  expect(u).toMatch(/Conflicts=web@\*\.service/);
  expect((await svc.getUnit("web@4.service")).currentState).toBe("inactive");
  expect(runningOn("web@4.service")).toEqual([]);
});

test("Global runs on every matching machine", async () => {
  await launch("logger.service", { Global: "true", MachineMetadata: "region=west" });
  expect((await placed("logger.service", 2)).sort()).toEqual([machineID(2), machineID(3)]);
});

test("Replaces moves the replaced unit off the replacer's machine", async () => {
  await launch("old.service", { MachineMetadata: "disk=ssd" });
  const [first] = await placed("old.service");
  await launch("new.service", { MachineID: first, Replaces: "old.service" });
  await placed("new.service");
  const moved = await waitFor("old.service moved", () => {
    const r = runningOn("old.service");
    return r.length === 1 && r[0] !== first && r;
  });
  expect(moved[0]).not.toBe(first);
  // a planned move is two-phase: stopped on the old machine before started on the new
  expect(overlaps(intervals(readEvents(logFile), "old.service"))).toEqual([]);
});

test("unsatisfiable units stay inactive with a reason", async () => {
  await launch("nowhere.service", { MachineMetadata: "region=mars" });
  const reason = await waitFor("reason", async () => (await svc.getUnit("nowhere.service")).reason);
  expect(reason).toBe("no machine satisfies MachineMetadata region=mars");
  await launch("lonely.service", { MachineOf: "missing.service" });
  expect(await waitFor("reason", async () => (await svc.getUnit("lonely.service")).reason)).toMatch(
    /MachineOf unit missing.service is not scheduled/,
  );
  expect(runningOn("nowhere.service")).toEqual([]);
});

test("stop (loaded) stops the unit but keeps it loaded; unload removes it", async () => {
  await svc.putUnit("a.service", { desiredState: "loaded" });
  await waitFor("a stopped", () => runningOn("a.service").length === 0);
  const st = await waitFor("state loaded/inactive", async () =>
    (await svc.listStates({ unitName: "a.service" })).find(
      (s) => s.systemdActiveState === "inactive",
    ),
  );
  expect(st.systemdLoadState).toBe("loaded");
  await svc.putUnit("a.service", { desiredState: "inactive" });
  await waitFor(
    "a state gone",
    async () => (await svc.listStates({ unitName: "a.service" })).length === 0,
  );
});
