import fc from "fast-check";
import { globMatch, XFleet } from "../unit";
import { Placement, schedule, SchedMachine, SchedUnit } from "./scheduler";

const none = (): XFleet => ({
  machineOf: [],
  machineMetadata: {},
  conflicts: [],
  global: false,
  replaces: [],
});
const unit = (
  name: string,
  x: Partial<XFleet> = {},
  desiredState: SchedUnit["desiredState"] = "launched",
): SchedUnit => ({ name, desiredState, xfleet: { ...none(), ...x } });
const m = (id: string, metadata: Record<string, string> = {}): SchedMachine => ({ id, metadata });
const where = (ps: Placement[], u: string) =>
  ps.filter((p) => p.unit === u).map((p) => p.machineID);

test("least loaded, then lowest machine ID", () => {
  const r = schedule(
    [unit("a.service"), unit("b.service"), unit("c.service")],
    [m("m2"), m("m1")],
    [],
  );
  expect(where(r.placements, "a.service")).toEqual(["m1"]);
  expect(where(r.placements, "b.service")).toEqual(["m2"]);
  expect(where(r.placements, "c.service")).toEqual(["m1"]);
});

test("stable: a valid current placement is kept", () => {
  const r = schedule(
    [unit("a.service")],
    [m("m1"), m("m2")],
    [{ unit: "a.service", machineID: "m2", target: "launched" }],
  );
  expect(where(r.placements, "a.service")).toEqual(["m2"]);
});

test("inactive units are not placed; a dead machine's units move", () => {
  const r = schedule(
    [unit("a.service", {}, "inactive"), unit("b.service")],
    [m("m1")],
    [{ unit: "b.service", machineID: "gone", target: "launched" }],
  );
  expect(r.placements).toEqual([{ unit: "b.service", machineID: "m1", target: "launched" }]);
});

test("reasons for unsatisfiable units", () => {
  const r = schedule([unit("a.service", { machineID: "nope" })], [m("m1")], []);
  expect(r.placements).toEqual([]);
  expect(r.reasons["a.service"]).toBe("no machine satisfies MachineID=nope");
  expect(schedule([unit("a.service")], [], []).reasons["a.service"]).toBe(
    "no machines are registered",
  );
});

test("conflicts block in both directions", () => {
  const r = schedule(
    [unit("a.service", { conflicts: ["b.service"] }), unit("b.service")],
    [m("m1")],
    [],
  );
  expect(r.placements).toHaveLength(1);
  expect(Object.keys(r.reasons)).toHaveLength(1);
});

test("Replaces evicts the replaced unit from the replacer's machine", () => {
  const r = schedule(
    [unit("old.service"), unit("new.service", { machineID: "m1", replaces: ["old.service"] })],
    [m("m1"), m("m2")],
    [{ unit: "old.service", machineID: "m1", target: "launched" }],
  );
  expect(where(r.placements, "new.service")).toEqual(["m1"]);
  expect(where(r.placements, "old.service")).toEqual(["m2"]);
});

// Property: every placement satisfies its unit's constraints, non-global units are
// placed at most once, and nobody is placed beside a unit it conflicts with.
test("placements always satisfy the constraints", () => {
  const names = ["a", "b", "c", "d", "e", "f"].map((n) => `${n}.service`);
  const arbUnit = fc.record({
    name: fc.constantFrom(...names),
    role: fc.option(fc.constantFrom("web", "db"), { nil: undefined }),
    conflicts: fc.subarray(["a.service", "b*", "*.service"], { maxLength: 1 }),
    machineOf: fc.option(fc.constantFrom(...names), { nil: undefined }),
    global: fc.boolean(),
  });
  fc.assert(
    fc.property(
      fc.uniqueArray(arbUnit, { selector: (u) => u.name, maxLength: 6 }),
      fc.integer({ min: 0, max: 4 }),
      (raw, nMachines) => {
        const units = raw.map((r) =>
          unit(r.name, {
            machineMetadata: r.role ? { role: [r.role] } : {},
            conflicts: r.conflicts,
            machineOf: !r.global && r.machineOf && r.machineOf !== r.name ? [r.machineOf] : [],
            global: r.global && !(r.machineOf && r.machineOf !== r.name),
          }),
        );
        const machines = Array.from({ length: nMachines }, (_, i) =>
          m(`m${i}`, { role: i % 2 ? "web" : "db" }),
        );
        const { placements, reasons } = schedule(units, machines, []);
        const on = (id: string) => placements.filter((p) => p.machineID === id).map((p) => p.unit);
        for (const u of units) {
          const at = where(placements, u.name);
          if (!u.xfleet.global) expect(at.length).toBeLessThanOrEqual(1);
          if (at.length === 0) expect(reasons[u.name]).toBeDefined();
          for (const id of at) {
            const mach = machines.find((x) => x.id === id)!;
            for (const [k, vs] of Object.entries(u.xfleet.machineMetadata))
              expect(vs).toContain(mach.metadata[k]);
            for (const peer of u.xfleet.machineOf) expect(on(id)).toContain(peer);
            for (const other of on(id)) {
              if (other !== u.name)
                expect(u.xfleet.conflicts.some((g) => globMatch(g, other))).toBe(false);
            }
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});
