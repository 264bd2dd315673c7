// The scheduler: a pure function from (units, live machines, current schedule) to the
// wanted schedule. fleet's rule: keep a unit where it is while that stays valid;
// otherwise, among the machines that satisfy its [X-Fleet] requirements, pick the
// one with the fewest units, then the lowest machine ID.
//
// As in fleet, the constraints (agent/state.go AbleToRun) are kept apart from the choice
// (engine/scheduler.go Decide). schedule() runs the steps in order on one Board:
// keepValid, placeRest, resolveReplaces (and rebalance, when the lab asks); each asks constraintsFor() which machines may
// take a unit, and only schedule()'s own board is ever written.
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
export function constraintsFor(u: SchedUnit, pass: Pass): Constraint[] {
  // Global= is no constraint: it says how many able machines get u (chooseMachines).
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

// fleet's Decide: a global unit goes on every able machine, any other on the least loaded.
export function chooseMachines(
  u: SchedUnit,
  able: readonly SchedMachine[],
  board: Board,
): string[] {
  return u.xfleet.global ? able.map((m) => m.id) : [leastLoaded(able, board)];
}

// Replacers first, so the units they replace see where they landed; then by name.
export function placementOrder(active: readonly SchedUnit[]): SchedUnit[] {
  return [...active].sort(
    (a, b) =>
      Number(b.xfleet.replaces.length > 0) - Number(a.xfleet.replaces.length > 0) ||
      (a.name < b.name ? -1 : 1),
  );
}

// The current schedule by unit, so each unit finds its machines at once.
function machinesByUnit(current: readonly Placement[]): Map<string, string[]> {
  const currentOf = new Map<string, string[]>();
  for (const p of current)
    (currentOf.get(p.unit) ?? currentOf.set(p.unit, []).get(p.unit)!).push(p.machineID);
  return currentOf;
}

// Step 1, stability: never move a running unit needlessly; returns the units kept.
export function keepValid(
  order: readonly SchedUnit[],
  current: readonly Placement[],
  pass: Pass,
): Set<string> {
  const currentOf = machinesByUnit(current);
  const byId = new Map(pass.machines.map((m) => [m.id, m]));
  const kept = new Set<string>();
  let changed = true;
  // Iterate because MachineOf validity depends on the peer having been kept.
  for (let round = 0; changed && round <= order.length; round++) {
    changed = false;
    for (const u of order) {
      if (kept.has(u.name)) continue;
      const ms = (currentOf.get(u.name) ?? []).filter((id) => pass.board.onMachine.has(id));
      if (ms.length === 0) continue;
      const cs = constraintsFor(u, pass);
      const valid = ms.filter((id) => cs.every((c) => c.ok(byId.get(id)!)));
      const keep = u.xfleet.global ? valid : valid.slice(0, 1); // a non-global unit: the first
      if (keep.length === 0) continue;
      keep.forEach((id) => put(pass.board, u.name, id));
      kept.add(u.name);
      changed = true;
    }
  }
  return kept;
}

// Step 2: place what step 1 did not keep (and global units anew), with reasons for failures.
export function placeRest(
  pending: readonly SchedUnit[],
  pass: Pass,
  reasons: Record<string, string>,
): void {
  // MachineOf followers wait for their peers, hence the rounds; each round leaves fewer
  // units waiting or is the last, so the bound is only a guard.
  const rounds = pending.length;
  for (let round = 0; pending.length && round <= rounds; round++) {
    const next: SchedUnit[] = [];
    for (const u of pending) {
      const waitsFor = u.xfleet.machineOf.filter((p) => !pass.board.placed.has(p));
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
      chooseMachines(u, able.ok, pass.board).forEach((id) => put(pass.board, u.name, id));
    }
    if (next.length === pending.length) break;
    pending = next;
  }
}

// Step 3: a replacer that landed beside the unit it replaces pushes that unit elsewhere.
export function resolveReplaces(
  active: readonly SchedUnit[],
  pass: Pass,
  reasons: Record<string, string>,
): void {
  const { board } = pass;
  for (const [replaced, by] of pass.replacers) {
    const at = [...(board.placed.get(replaced) ?? [])].filter((id) =>
      by.some((r) => board.onMachine.get(id)!.has(r)),
    );
    if (at.length === 0) continue;
    at.forEach((id) => evict(board, replaced, id));
    const unit = active.find((a) => a.name === replaced)!;
    const able = ableMachines(unit, pass);
    // one machine, the least loaded, even for a global unit (so not chooseMachines)
    if (able.ok.length) put(board, replaced, leastLoaded(able.ok, board));
    else reasons[replaced] = able.why!;
  }
}

// Units whose MachineOf names `name`, and theirs in turn: they move with it.
// `direct` maps a unit to the units whose MachineOf names it (built once per pass).
function followersOf(name: string, direct: ReadonlyMap<string, string[]>): string[] {
  const out: string[] = [];
  for (let i = -1; i < out.length; i++) {
    for (const f of direct.get(i < 0 ? name : out[i]) ?? [])
      if (f !== name && !out.includes(f)) out.push(f);
  }
  return out;
}

// A unit the rebalance may move: one machine of its own choosing, no peers it must
// follow, no Replaces either way (those already move by their own rule).
function movable(u: SchedUnit, pass: Pass): boolean {
  const x = u.xfleet;
  return (
    !x.global &&
    !x.machineID &&
    x.machineOf.length === 0 &&
    x.replaces.length === 0 &&
    !pass.replacers.has(u.name)
  );
}

/**
 * Step 4, only when asked (fleet never moved a healthy unit): at most one move per
 * pass, of a unit with the units that follow it (MachineOf), from the most loaded
 * machine to the least loaded able one, and only when the target would still hold
 * fewer units than the source held before. Every move lowers the sum of the squared
 * loads, so moves end, and two machines can never hand a unit back and forth. A
 * machine that comes back after a failure gets work again this way.
 */
export function rebalance(active: readonly SchedUnit[], pass: Pass): void {
  const { board } = pass;
  const load = (id: string) => board.onMachine.get(id)!.size;
  const loads = pass.machines.map((m) => load(m.id));
  // A move needs the target below the source after the source gave up at least one
  // unit: with a spread under 2 none can help, and a balanced lab stops here each pass.
  if (loads.length < 2 || Math.max(...loads) - Math.min(...loads) < 2) return;
  const byName = new Map(active.map((u) => [u.name, u]));
  const direct = new Map<string, string[]>();
  for (const u of active)
    for (const peer of u.xfleet.machineOf) direct.set(peer, [...(direct.get(peer) ?? []), u.name]);
  const sources = [...pass.machines].sort((a, b) => load(b.id) - load(a.id));
  for (const from of sources) {
    for (const name of [...board.onMachine.get(from.id)!].sort()) {
      const u = byName.get(name)!;
      if (!movable(u, pass)) continue;
      const group = [name, ...followersOf(name, direct)];
      if (!group.every((g) => board.onMachine.get(from.id)!.has(g))) continue;
      group.forEach((g) => evict(board, g, from.id));
      const targets = ableMachines(u, pass).ok.filter(
        (m) => m.id !== from.id && load(m.id) < load(from.id),
      );
      if (targets.length > 0) {
        const to = leastLoaded(targets, board);
        put(board, name, to);
        const followersFit = group
          .slice(1)
          .every((f) => ableMachines(byName.get(f)!, pass).ok.some((m) => m.id === to));
        if (followersFit) {
          group.slice(1).forEach((f) => put(board, f, to));
          return;
        }
        evict(board, name, to);
      }
      group.forEach((g) => put(board, g, from.id));
    }
  }
}

// The board as the registry's placements, in unit order.
function toPlacements(active: readonly SchedUnit[], board: Board): Placement[] {
  return active.flatMap((u) =>
    [...(board.placed.get(u.name) ?? [])].map((id) => ({
      unit: u.name,
      machineID: id,
      target: u.desiredState as Placement["target"],
    })),
  );
}

// The public entry: the steps in order on one fresh pass.
export function schedule(
  units: readonly SchedUnit[],
  machines: readonly SchedMachine[],
  current: readonly Placement[],
  opts: { rebalance?: boolean } = {},
): ScheduleResult {
  const pass = startPass(units, machines);
  const reasons: Record<string, string> = {};
  const active = units.filter((u) => u.desiredState !== "inactive");
  const order = placementOrder(active);
  const kept = keepValid(order, current, pass);
  const pending = order.filter((u) => u.xfleet.global || !kept.has(u.name));
  placeRest(pending, pass, reasons);
  resolveReplaces(active, pass, reasons);
  if (opts.rebalance) rebalance(active, pass);
  return { placements: toPlacements(active, pass.board), reasons };
}
