// The rebalance step (fleetlab's, off unless the lab asks): a machine that comes back
// gets work again, one move per pass, a service with its sidekick, within every
// constraint, and never back and forth.
import fc from "fast-check";
import { XFleet } from "../unit";
import { Placement, schedule, SchedMachine, SchedUnit } from "./scheduler";

const unit = (name: string, x: Partial<XFleet> = {}): SchedUnit => ({
  name,
  desiredState: "launched",
  xfleet: { machineOf: [], machineMetadata: {}, conflicts: [], global: false, replaces: [], ...x },
});
const m = (id: string, metadata: Record<string, string> = {}): SchedMachine => ({ id, metadata });
const on = (machineID: string, ...units: string[]): Placement[] =>
  units.map((u) => ({ unit: u, machineID, target: "launched" }));
const loads = (ps: Placement[]) =>
  Object.fromEntries(
    [...new Set(ps.map((p) => p.machineID))]
      .sort()
      .map((id) => [id, ps.filter((p) => p.machineID === id).length]),
  );

/** Passes of the engine until nothing changes (bounded), each on the last one's result. */
function settle(units: SchedUnit[], machines: SchedMachine[], current: Placement[]) {
  let ps = current;
  const moves: string[] = [];
  for (let i = 0; i < 50; i++) {
    const next = schedule(units, machines, ps, { rebalance: true }).placements;
    const key = (p: Placement) => `${p.unit}@${p.machineID}`;
    const before = new Set(ps.map(key));
    const fresh = next.filter((p) => !before.has(key(p)));
    if (fresh.length === 0) return { placements: next, moves, passes: i + 1 };
    moves.push(...fresh.map(key));
    ps = next;
  }
  throw new Error("did not settle in 50 passes");
}

// A service and its sidekick, as units/services.ts writes them.
const pair = (s: string) => [
  unit(`${s}.service`),
  unit(`${s}-sidekick.service`, { machineOf: [`${s}.service`] }),
];

test("off by default: fleet's rule, a returning machine stays empty", () => {
  const units = [unit("a.service"), unit("b.service")];
  const r = schedule(units, [m("m1"), m("m2")], on("m1", "a.service", "b.service"));
  expect(loads(r.placements)).toEqual({ m1: 2 });
});

test("a returning machine gets one unit back, and the rest stays", () => {
  const units = [unit("a.service"), unit("b.service"), unit("c.service")];
  const r = schedule(
    units,
    [m("m1"), m("m2"), m("m3")],
    [...on("m1", "a.service", "b.service"), ...on("m2", "c.service")],
    {
      rebalance: true,
    },
  );
  expect(loads(r.placements)).toEqual({ m1: 1, m2: 1, m3: 1 });
  expect(r.placements).toEqual(expect.arrayContaining(on("m2", "c.service")));
});

test("one move per pass", () => {
  const units = ["a", "b", "c", "d"].map((n) => unit(`${n}.service`));
  const r = schedule(units, [m("m1"), m("m2"), m("m3")], on("m1", ...units.map((u) => u.name)), {
    rebalance: true,
  });
  expect(loads(r.placements)).toEqual({ m1: 3, m2: 1 });
});

test("a service moves with its sidekick, and a lone pair is never moved", () => {
  const units = [...pair("www"), ...pair("ldap")];
  const all = units.map((u) => u.name);
  const r = settle(units, [m("m1"), m("m2")], on("m1", ...all));
  expect(loads(r.placements)).toEqual({ m1: 2, m2: 2 });
  const machineOf = (u: string) => r.placements.find((p) => p.unit === u)!.machineID;
  expect(machineOf("www-sidekick.service")).toBe(machineOf("www.service"));
  expect(machineOf("ldap-sidekick.service")).toBe(machineOf("ldap.service"));
  // one pair on m1, m2 empty: moving the pair would only swap the imbalance
  const lone = schedule(
    pair("www"),
    [m("m1"), m("m2")],
    on("m1", "www.service", "www-sidekick.service"),
    {
      rebalance: true,
    },
  );
  expect(loads(lone.placements)).toEqual({ m1: 2 });
});

test("constraints hold: metadata, Conflicts, and what may not move (MachineID, Global, Replaces)", () => {
  const units = [
    unit("dhcp.service", { machineMetadata: { lan: ["true"] } }),
    unit("pinned.service", { machineID: "m1" }),
    unit("everywhere.service", { global: true }),
    unit("new.service", { replaces: ["old.service"] }),
    unit("old.service"),
    unit("x.service", { conflicts: ["y.service"] }),
    unit("y.service"),
  ];
  const machines = [m("m1", { lan: "true" }), m("m2"), m("m3")];
  const current = [
    ...on("m1", "dhcp.service", "pinned.service", "everywhere.service", "new.service", "x.service"),
    ...on("m2", "everywhere.service", "old.service", "y.service"),
    ...on("m3", "everywhere.service"),
  ];
  const r = settle(units, machines, current);
  const at = (u: string) => r.placements.filter((p) => p.unit === u).map((p) => p.machineID);
  expect(at("dhcp.service")).toEqual(["m1"]);
  expect(at("pinned.service")).toEqual(["m1"]);
  expect(at("everywhere.service").sort()).toEqual(["m1", "m2", "m3"]);
  expect(at("new.service")).toEqual(["m1"]);
  expect(at("x.service")).not.toEqual(at("y.service"));
});

test("property: rebalancing ends, keeps every unit placed once, and never worsens the spread", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 12 }),
      (machines, homes) => {
        const ms = Array.from({ length: machines }, (_, i) => m(`m${i + 1}`));
        const units = homes.map((_, i) => unit(`u${i}.service`));
        const current = homes.map((h, i) => ({
          unit: `u${i}.service`,
          machineID: `m${(h % machines) + 1}`,
          target: "launched" as const,
        }));
        const spread = (ps: Placement[]) => {
          const l = ms.map((x) => ps.filter((p) => p.machineID === x.id).length);
          return Math.max(...l) - Math.min(...l);
        };
        const r = settle(units, ms, current);
        expect(r.placements).toHaveLength(units.length);
        expect(spread(r.placements)).toBeLessThanOrEqual(Math.max(1, spread(current)));
        expect(spread(r.placements)).toBeLessThanOrEqual(1);
      },
    ),
    { numRuns: 200 },
  );
});
