// The scheduler's steps one by one (scheduler.test.ts tests schedule() as a whole).
import { XFleet } from "../unit";
import {
  ableMachines,
  chooseMachines,
  constraintsFor,
  keepValid,
  leastLoaded,
  placementOrder,
  placeRest,
  put,
  resolveReplaces,
  SchedMachine,
  SchedUnit,
  startPass,
} from "./scheduler";

const unit = (name: string, x: Partial<XFleet> = {}): SchedUnit => ({
  name,
  desiredState: "launched",
  xfleet: { machineOf: [], machineMetadata: {}, conflicts: [], global: false, replaces: [], ...x },
});
const m = (id: string, metadata: Record<string, string> = {}): SchedMachine => ({ id, metadata });
const ids = (ms: SchedMachine[]) => ms.map((x) => x.id);
const where = (pass: ReturnType<typeof startPass>, u: string) => [
  ...(pass.board.placed.get(u) ?? []),
];

test("constraintsFor lists every X-Fleet constraint, in the order reasons name them", () => {
  const u = unit("a.service", {
    machineID: "m1",
    machineOf: ["p.service"],
    machineMetadata: { role: ["web", "db"] },
    conflicts: ["b*"],
  });
  const units = [u, unit("c.service", { conflicts: ["a.*"], replaces: ["a.service"] })];
  expect(constraintsFor(u, startPass(units, [m("m1")])).map((c) => c.why)).toEqual([
    "MachineID=m1",
    "MachineOf=p.service",
    "MachineMetadata role=web|db",
    "Conflicts=b*",
    "no conflict with c.service",
    "not beside c.service (Replaces)",
  ]);
  expect(constraintsFor(unit("x.service", { global: true }), startPass(units, []))).toEqual([]);
});

test("ableMachines: the machines meeting every constraint, else the first unmet one", () => {
  const machines = [m("m2", { role: "web" }), m("m1", { role: "db" }), m("m3", { role: "web" })];
  const web = unit("a.service", { machineMetadata: { role: ["web"] } });
  expect(ids(ableMachines(web, startPass([web], machines)).ok)).toEqual(["m2", "m3"]);
  const both = unit("a.service", { machineID: "m1", machineMetadata: { role: ["web"] } });
  expect(ableMachines(both, startPass([both], machines))).toEqual({
    ok: [],
    why: "no machine satisfies MachineMetadata role=web",
  });
  expect(ableMachines(web, startPass([web], [])).why).toBe("no machines are registered");
});

test("leastLoaded and chooseMachines: fewest units, ties to the lowest ID; global takes all", () => {
  const pass = startPass([], [m("m3"), m("m1"), m("m2")]);
  expect(leastLoaded(pass.machines, pass.board)).toBe("m1");
  put(pass.board, "x.service", "m1");
  expect(leastLoaded(pass.machines, pass.board)).toBe("m2");
  expect(chooseMachines(unit("a.service"), pass.machines, pass.board)).toEqual(["m2"]);
  const g = unit("g.service", { global: true });
  expect(chooseMachines(g, pass.machines, pass.board)).toEqual(["m1", "m2", "m3"]);
});

test("placementOrder: replacers first, then by name", () => {
  const order = placementOrder([unit("c"), unit("b", { replaces: ["c"] }), unit("a")]);
  expect(order.map((u) => u.name)).toEqual(["b", "a", "c"]);
});

test("keepValid keeps a MachineOf follower once its peer is kept, though it comes first", () => {
  const units = [unit("a.service", { machineOf: ["b.service"] }), unit("b.service")];
  const pass = startPass(units, [m("m1"), m("m2")]);
  const current = [
    { unit: "a.service", machineID: "m2", target: "launched" as const },
    { unit: "b.service", machineID: "m2", target: "launched" as const },
  ];
  expect([...keepValid(units, current, pass)].sort()).toEqual(["a.service", "b.service"]);
  expect(where(pass, "a.service")).toEqual(["m2"]);
});

test("placeRest: a follower waits for its peer; a missing peer is the reason", () => {
  const units = [
    unit("a.service", { machineOf: ["b.service"] }),
    unit("b.service"),
    unit("c.service", { machineOf: ["nope.service"] }),
  ];
  const pass = startPass(units, [m("m1"), m("m2")]);
  put(pass.board, "x.service", "m1");
  const reasons: Record<string, string> = {};
  placeRest(units, pass, reasons);
  expect(where(pass, "b.service")).toEqual(["m2"]);
  expect(where(pass, "a.service")).toEqual(["m2"]);
  expect(reasons).toEqual({ "c.service": "MachineOf unit nope.service is not scheduled" });
});

test("resolveReplaces moves the replaced unit off its replacer's machine, or says why not", () => {
  const units = [unit("old.service"), unit("new.service", { replaces: ["old.service"] })];
  const pass = startPass(units, [m("m1"), m("m2")]);
  put(pass.board, "new.service", "m1");
  put(pass.board, "old.service", "m1");
  const reasons: Record<string, string> = {};
  resolveReplaces(units, pass, reasons);
  expect(where(pass, "old.service")).toEqual(["m2"]);
  expect(reasons).toEqual({});

  const alone = startPass(units, [m("m1")]);
  put(alone.board, "new.service", "m1");
  put(alone.board, "old.service", "m1");
  resolveReplaces(units, alone, reasons);
  expect(where(alone, "old.service")).toEqual([]);
  expect(reasons).toEqual({
    "old.service": "no machine satisfies not beside new.service (Replaces)",
  });
});
