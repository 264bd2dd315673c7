// The scheduler: a pure function from (units, live machines, current schedule) to the
// wanted schedule. fleet's rule: keep a unit where it is while that stays valid;
// otherwise, among the machines that satisfy its [X-Fleet] requirements, pick the
// one with the fewest units, then the lowest machine ID.
//
// As in fleet, the constraints (agent/state.go AbleToRun) are kept apart from the choice
// (engine/scheduler.go Decide): constraintsFor() says which machines may take a unit.
import { DesiredState, globMatch, XFleet } from "../unit";

export interface SchedUnit {
  name: string;
  desiredState: DesiredState;
  xfleet: XFleet;
}
export interface SchedMachine {
  id: string;
  metadata: Record<string, string>;
}
export interface Placement {
  unit: string;
  machineID: string;
  target: Exclude<DesiredState, "inactive">;
}
export interface ScheduleResult {
  placements: Placement[];
  /** why a unit that should run has no machine */
  reasons: Record<string, string>;
}

/** One requirement on a machine; `why` names it when no machine meets it. */
export type Constraint = { why: string; ok: (m: SchedMachine) => boolean };

/** Who is where while a pass runs; put() and evict() keep both maps in step. */
export interface Board {
  /** live machine ID -> units on it */
  onMachine: Map<string, Set<string>>;
  /** unit -> machines it is on */
  placed: Map<string, Set<string>>;
}

/** What the constraints consult besides the unit itself, fixed for one pass. */
export interface Pass {
  /** the live machines, sorted by ID */
  machines: SchedMachine[];
  board: Board;
  /** replaced unit -> the active units that replace it */
  replacers: Map<string, string[]>;
  /** units with Conflicts of their own: the only ones a unit must check it is not banned by */
  withConflicts: SchedUnit[];
}

// Sorting by ID is what makes every later tie go to the lowest machine ID.
function sortById(machines: readonly SchedMachine[]): SchedMachine[] {
  return [...machines].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// A pass starts from an empty board over the live machines and the unit set's facts.
export function startPass(units: readonly SchedUnit[], machines: readonly SchedMachine[]): Pass {
  const sorted = sortById(machines);
  return {
    machines: sorted,
    board: { onMachine: new Map(sorted.map((m) => [m.id, new Set()])), placed: new Map() },
    replacers: replacersOf(units),
    withConflicts: units.filter((u) => u.xfleet.conflicts.length > 0),
  };
}

// The one way a unit lands on a machine, so the two maps never disagree.
export function put(board: Board, unit: string, machine: string): void {
  board.onMachine.get(machine)!.add(unit);
  if (!board.placed.has(unit)) board.placed.set(unit, new Set());
  board.placed.get(unit)!.add(machine);
}

// The one way a unit leaves a machine (Replaces pushing it off).
function evict(board: Board, unit: string, machine: string): void {
  board.onMachine.get(machine)!.delete(unit);
  board.placed.get(unit)!.delete(machine);
}

// Replaces is declared by the replacer but constrains the replaced unit, so invert it.
function replacersOf(units: readonly SchedUnit[]): Map<string, string[]> {
  const replacers = new Map<string, string[]>();
  for (const u of units) {
    if (u.desiredState === "inactive") continue;
    for (const r of u.xfleet.replaces) replacers.set(r, [...(replacers.get(r) ?? []), u.name]);
  }
  return replacers;
}

// MachineID=: only that machine.
function machineIDConstraint(x: XFleet): Constraint[] {
  return x.machineID ? [{ why: `MachineID=${x.machineID}`, ok: (m) => m.id === x.machineID }] : [];
}

// MachineOf=: only a machine that already holds each peer.
function machineOfConstraints(x: XFleet, board: Board): Constraint[] {
  return x.machineOf.map((peer) => ({
    why: `MachineOf=${peer}`,
    ok: (m) => board.onMachine.get(m.id)!.has(peer),
  }));
}

// MachineMetadata=: each key must have one of its accepted values.
function metadataConstraints(x: XFleet): Constraint[] {
  return Object.entries(x.machineMetadata).map(([key, values]) => ({
    why: `MachineMetadata ${key}=${values.join("|")}`,
    ok: (m) => values.includes(m.metadata[key]),
  }));
}

// Conflicts=: not beside a unit the unit's own globs match.
function conflictsConstraint(u: SchedUnit, board: Board): Constraint[] {
  const x = u.xfleet;
  if (!x.conflicts.length) return [];
  return [
    {
      why: `Conflicts=${x.conflicts.join(" ")}`,
      ok: (m) =>
        ![...board.onMachine.get(m.id)!].some(
          (other) => other !== u.name && x.conflicts.some((g) => globMatch(g, other)),
        ),
    },
  ];
}

// Conflicts= the other way: not beside a unit whose globs match this one.
function conflictedByConstraint(
  u: SchedUnit,
  withConflicts: readonly SchedUnit[],
  board: Board,
): Constraint[] {
  const blockers = withConflicts.filter(
    (o) => o.name !== u.name && o.xfleet.conflicts.some((g) => globMatch(g, u.name)),
  );
  if (!blockers.length) return [];
  return [
    {
      why: `no conflict with ${blockers.map((b) => b.name).join(", ")}`,
      ok: (m) => !blockers.some((b) => board.onMachine.get(m.id)!.has(b.name)),
    },
  ];
}

// Replaces= seen from the replaced unit: not beside what replaces it.
function replacedByConstraint(
  u: SchedUnit,
  replacers: Pass["replacers"],
  board: Board,
): Constraint[] {
  const by = replacers.get(u.name) ?? [];
  if (!by.length) return [];
  return [
    {
      why: `not beside ${by.join(", ")} (Replaces)`,
      ok: (m) => !by.some((r) => board.onMachine.get(m.id)!.has(r)),
    },
  ];
}

// Everything a machine must meet to run u, in the order reasons report the first unmet one.
// (Global= is no constraint: it says how many able machines get the unit, see chooseMachines.)
export function constraintsFor(u: SchedUnit, pass: Pass): Constraint[] {
  return [
    ...machineIDConstraint(u.xfleet),
    ...machineOfConstraints(u.xfleet, pass.board),
    ...metadataConstraints(u.xfleet),
    ...conflictsConstraint(u, pass.board),
    ...conflictedByConstraint(u, pass.withConflicts, pass.board),
    ...replacedByConstraint(u, pass.replacers, pass.board),
  ];
}

// fleet's AbleToRun over every live machine: the able ones, or why there are none.
export function ableMachines(u: SchedUnit, pass: Pass): { ok: SchedMachine[]; why?: string } {
  let pool = pass.machines;
  if (pool.length === 0) return { ok: [], why: "no machines are registered" };
  for (const c of constraintsFor(u, pass)) {
    const next = pool.filter(c.ok);
    if (next.length === 0) return { ok: [], why: `no machine satisfies ${c.why}` };
    pool = next;
  }
  return { ok: pool };
}

// Given machines sorted by ID, the one with the fewest units, ties to the lowest ID.
export function leastLoaded(ms: readonly SchedMachine[], board: Board): string {
  return ms.reduce((a, b) =>
    board.onMachine.get(b.id)!.size < board.onMachine.get(a.id)!.size ? b : a,
  ).id;
}

export function schedule(
  units: readonly SchedUnit[],
  machines: readonly SchedMachine[],
  current: readonly Placement[],
): ScheduleResult {
  const pass = startPass(units, machines);
  const { board } = pass;
  const reasons: Record<string, string> = {};
  const machineById = new Map(pass.machines.map((m) => [m.id, m]));

  const active = units.filter((u) => u.desiredState !== "inactive");
  // Replacers go first so the units they replace see where they landed; then by name
  // for a deterministic result.
  const order = [...active].sort(
    (a, b) =>
      Number(b.xfleet.replaces.length > 0) - Number(a.xfleet.replaces.length > 0) ||
      (a.name < b.name ? -1 : 1),
  );

  // 1. keep current placements that are still valid (stability: never move a running unit needlessly)
  const currentOf = new Map<string, string[]>();
  for (const p of current)
    (currentOf.get(p.unit) ?? currentOf.set(p.unit, []).get(p.unit)!).push(p.machineID);
  let changed = true;
  const kept = new Set<string>();
  // Iterate because MachineOf validity depends on the peer having been kept.
  for (let round = 0; changed && round <= order.length; round++) {
    changed = false;
    for (const u of order) {
      if (kept.has(u.name)) continue;
      const ms = (currentOf.get(u.name) ?? []).filter((id) => board.onMachine.has(id));
      if (ms.length === 0) continue;
      const cs = constraintsFor(u, pass);
      const valid = ms.filter((id) => cs.every((c) => c.ok(machineById.get(id)!)));
      const keep = u.xfleet.global ? valid : valid.slice(0, 1);
      if (keep.length === 0) continue;
      keep.forEach((id) => put(board, u.name, id));
      kept.add(u.name);
      changed = true;
    }
  }

  // 2. place the rest; MachineOf followers wait for their peers, hence the rounds
  let pending = order.filter((u) => u.xfleet.global || !kept.has(u.name));
  for (let round = 0; pending.length && round <= order.length; round++) {
    const next: SchedUnit[] = [];
    for (const u of pending) {
      const waitsFor = u.xfleet.machineOf.filter((p) => !board.placed.has(p));
      if (waitsFor.length) {
        next.push(u);
        reasons[u.name] = `MachineOf unit ${waitsFor.join(", ")} is not scheduled`;
        continue;
      }
      const able = ableMachines(u, pass);
      if (able.ok.length === 0) {
        reasons[u.name] = able.why!;
        continue;
      }
      delete reasons[u.name];
      if (u.xfleet.global) {
        able.ok
          .filter((m) => !board.placed.get(u.name)?.has(m.id))
          .forEach((m) => put(board, u.name, m.id));
      } else {
        put(board, u.name, leastLoaded(able.ok, board));
      }
    }
    if (next.length === pending.length) break;
    pending = next;
  }

  // A replacer that landed beside the unit it replaces pushes that unit elsewhere.
  for (const [replaced, by] of pass.replacers) {
    const at = [...(board.placed.get(replaced) ?? [])].filter((id) =>
      by.some((r) => board.onMachine.get(id)!.has(r)),
    );
    if (at.length === 0) continue;
    at.forEach((id) => evict(board, replaced, id));
    const able = ableMachines(
      active.find((a) => a.name === replaced)!,
      pass,
    );
    if (able.ok.length) put(board, replaced, leastLoaded(able.ok, board));
    else reasons[replaced] = able.why!;
  }

  const placements: Placement[] = [];
  for (const u of active) {
    for (const id of board.placed.get(u.name) ?? []) {
      placements.push({
        unit: u.name,
        machineID: id,
        target: u.desiredState as Placement["target"],
      });
    }
  }
  return { placements, reasons };
}
