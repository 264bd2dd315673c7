// The dashboard's view model: pure functions from what the registry holds to what a
// projected status page shows, and from two such views to what moved between them.
// Nothing here reads etcd or the clock, so every rule is unit-tested with plain data.
//
// The view copies only names, states, machine IDs, IPs, metadata and reasons. Unit
// options never enter it: they can carry tokens in Environment= lines, and the page
// is meant to be put on a projector.
import type { DesiredState } from "../unit";
import type { Placement } from "../engine/scheduler";
import type { Machine, UnitState } from "../registry/registry";
import { currentState } from "../api/service";

/** What one read of the registry returns; unit options deliberately absent. */
export interface RegistrySnapshot {
  machines: Machine[];
  units: Array<{ name: string; desiredState: DesiredState }>;
  schedule: Array<Pick<Placement, "unit" | "machineID" | "target">>;
  states: UnitState[];
  /** why an active unit has no machine (engine leader's words), by unit */
  reasons: Record<string, string>;
  /** machine ID of the engine leader, when there is one */
  leader?: string;
}

/** How a state is coloured: active green, on its way amber, failed red. */
export type Tone = "ok" | "wait" | "bad";

export interface UnitOnMachine {
  name: string;
  /** the unit's desired state; absent when the registry no longer has the unit */
  desiredState?: DesiredState;
  /**
   * What the schedule asks of this machine. Absent when the machine still reports the
   * unit but it is no longer placed there (the agent is stopping or unloading it).
   */
  target?: Placement["target"];
  /** fleet's currentState: the target once this machine has reported the unit, else inactive */
  currentState: DesiredState;
  /** systemd's states as the machine's agent last reported them */
  systemd?: { load: string; active: string; sub: string };
  tone: Tone;
}

export interface MachineView {
  id: string;
  /** the first 8 characters, as fleetctl list-machines prints them */
  shortId: string;
  primaryIP: string;
  metadata: Record<string, string>;
  /**
   * False for a machine whose lease has expired while units are still placed on it:
   * the engine has not moved them yet. Its IP and metadata went with its key.
   */
  present: boolean;
  leader: boolean;
  units: UnitOnMachine[];
}

export interface UnplacedUnit {
  name: string;
  desiredState: DesiredState;
  reason?: string;
}

export interface ClusterView {
  machines: MachineView[];
  /** units with no placement: inactive ones, and active ones the engine could not place */
  unplaced: UnplacedUnit[];
}

export type ChangeKind = "moved" | "placed" | "unplaced" | "added" | "removed" | "joined" | "left";

/** One line of the "what moved" list. `at` is when the dashboard saw it (ms since the epoch). */
export interface Change {
  at: number;
  kind: ChangeKind;
  unit?: string;
  machine?: string;
  from?: string;
  to?: string;
  text: string;
}

export const SHORT_ID_LENGTH = 8;
export const HISTORY_LIMIT = 20;

export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}

/** systemd's ActiveState as a colour; a unit not yet reported is on its way. */
export function tone(activeState: string | undefined): Tone {
  if (activeState === "active") return "ok";
  if (activeState === "failed") return "bad";
  return "wait";
}

const byName = <T extends { name: string }>(a: T, b: T): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
const byId = <T extends { id: string }>(a: T, b: T): number =>
  a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** The view of one snapshot: a card per machine (live, or gone with units still placed on it). */
export function buildView(s: RegistrySnapshot): ClusterView {
  const desired = new Map(s.units.map((u) => [u.name, u.desiredState]));
  const reported = new Map(s.states.map((st) => [`${st.name}\n${st.machineID}`, st]));
  const cards = new Map<string, MachineView>();
  const card = (id: string): MachineView => {
    let c = cards.get(id);
    if (!c) {
      c = {
        id,
        shortId: shortId(id),
        primaryIP: "",
        metadata: {},
        present: false,
        leader: id === s.leader,
        units: [],
      };
      cards.set(id, c);
    }
    return c;
  };
  for (const m of s.machines) {
    Object.assign(card(m.id), {
      primaryIP: m.primaryIP,
      metadata: { ...m.metadata },
      present: true,
    });
  }

  const placed = new Set<string>();
  for (const p of s.schedule) {
    // A placement of a unit destroyed a moment ago: the engine removes it next pass.
    if (!desired.has(p.unit)) continue;
    placed.add(`${p.unit}\n${p.machineID}`);
    const st = reported.get(`${p.unit}\n${p.machineID}`);
    card(p.machineID).units.push({
      name: p.unit,
      desiredState: desired.get(p.unit),
      target: p.target,
      currentState: currentState([p], () => st !== undefined),
      ...systemdOf(st),
    });
  }
  // States with no placement behind them: the unit is leaving this machine. Shown,
  // because during a planned move this is where the unit still runs.
  for (const st of s.states) {
    if (placed.has(`${st.name}\n${st.machineID}`)) continue;
    card(st.machineID).units.push({
      name: st.name,
      desiredState: desired.get(st.name),
      currentState: "inactive",
      ...systemdOf(st),
    });
  }

  const placedUnits = new Set(s.schedule.map((p) => p.unit));
  const unplaced = s.units
    .filter((u) => !placedUnits.has(u.name))
    .map((u): UnplacedUnit => {
      const reason = s.reasons[u.name];
      return reason
        ? { name: u.name, desiredState: u.desiredState, reason }
        : { name: u.name, desiredState: u.desiredState };
    })
    .sort(byName);

  const machines = [...cards.values()].sort(byId);
  for (const m of machines) m.units.sort(byName);
  return { machines, unplaced };
}

function systemdOf(st: UnitState | undefined): Pick<UnitOnMachine, "systemd" | "tone"> {
  if (!st) return { tone: tone(undefined) };
  return {
    systemd: {
      load: st.systemdLoadState,
      active: st.systemdActiveState,
      sub: st.systemdSubState,
    },
    tone: tone(st.systemdActiveState),
  };
}

/** unit -> machines the schedule places it on (units leaving a machine excluded) */
function placements(v: ClusterView): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const u of v.unplaced) where.set(u.name, []);
  for (const m of v.machines) {
    for (const u of m.units) {
      if (u.target === undefined) continue;
      where.set(u.name, [...(where.get(u.name) ?? []), m.id]);
    }
  }
  return where;
}

function presentIds(v: ClusterView): Set<string> {
  return new Set(v.machines.filter((m) => m.present).map((m) => m.id));
}

/**
 * What changed from `prev` to `next`, as the "what moved" lines, stamped `at`.
 * Machines first (a node dying explains the moves after it), then units by name.
 * A unit that leaves exactly one machine and lands on exactly one other has moved;
 * anything else (a global unit gaining a machine, a unit losing its only machine) is
 * told as separate placed/unplaced lines.
 */
export function changes(prev: ClusterView | undefined, next: ClusterView, at: number): Change[] {
  if (!prev) return [];
  const out: Change[] = [];
  const was = presentIds(prev);
  const is = presentIds(next);
  for (const id of [...was].filter((m) => !is.has(m)).sort())
    out.push({ at, kind: "left", machine: id, text: `machine ${shortId(id)} left` });
  for (const id of [...is].filter((m) => !was.has(m)).sort())
    out.push({ at, kind: "joined", machine: id, text: `machine ${shortId(id)} joined` });

  const before = placements(prev);
  const after = placements(next);
  const reasons = new Map(next.unplaced.map((u) => [u.name, u.reason]));
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const unit of names) {
    const to = after.get(unit);
    if (!to) {
      out.push({ at, kind: "removed", unit, text: `${unit} destroyed` });
      continue;
    }
    if (!before.has(unit)) out.push({ at, kind: "added", unit, text: `${unit} submitted` });
    const from = before.get(unit) ?? [];
    const gone = from.filter((m) => !to.includes(m)).sort();
    const came = to.filter((m) => !from.includes(m)).sort();
    if (gone.length === 1 && came.length === 1) {
      out.push({
        at,
        kind: "moved",
        unit,
        from: gone[0],
        to: came[0],
        text: `${unit} moved ${shortId(gone[0])} → ${shortId(came[0])}`,
      });
      continue;
    }
    for (const m of gone) {
      const why = to.length === 0 && reasons.get(unit) ? `: ${reasons.get(unit)}` : "";
      out.push({
        at,
        kind: "unplaced",
        unit,
        from: m,
        text: `${unit} taken off ${shortId(m)}${why}`,
      });
    }
    for (const m of came)
      out.push({ at, kind: "placed", unit, to: m, text: `${unit} placed on ${shortId(m)}` });
  }
  return out;
}

/**
 * The bounded history, newest batch first: the latest `limit` changes. Within a batch
 * the order of changes() stays (a machine leaving above the units it lost).
 */
export function remember(
  history: readonly Change[],
  fresh: readonly Change[],
  limit = HISTORY_LIMIT,
): Change[] {
  return [...fresh, ...history].slice(0, limit);
}
