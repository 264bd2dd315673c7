// The scheduler: a pure function from (units, live machines, current schedule) to the
// wanted schedule. fleet's rule: keep a unit where it is while that stays valid;
// otherwise, among the machines that satisfy its [X-Fleet] requirements, pick the
// one with the fewest units, then the lowest machine ID.
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

type Filter = { why: string; ok: (m: SchedMachine) => boolean };

export function schedule(
  units: readonly SchedUnit[],
  machines: readonly SchedMachine[],
  current: readonly Placement[],
): ScheduleResult {
  const sortedMachines = [...machines].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const onMachine = new Map<string, Set<string>>(sortedMachines.map((m) => [m.id, new Set()]));
  const placed = new Map<string, Set<string>>(); // unit -> machines
  const reasons: Record<string, string> = {};

  const put = (unit: string, machine: string) => {
    onMachine.get(machine)!.add(unit);
    if (!placed.has(unit)) placed.set(unit, new Set());
    placed.get(unit)!.add(machine);
  };
  const replacers = new Map<string, string[]>();
  for (const u of units) {
    if (u.desiredState === "inactive") continue;
    for (const r of u.xfleet.replaces) replacers.set(r, [...(replacers.get(r) ?? []), u.name]);
  }
  // Units whose own Conflicts could match others; only these need the reverse check.
  const withConflicts = units.filter((u) => u.xfleet.conflicts.length > 0);
  const machineById = new Map(sortedMachines.map((m) => [m.id, m]));

  // machines arrive sorted by ID, so ties go to the lowest ID
  const leastLoaded = (ms: SchedMachine[]) =>
    ms.reduce((a, b) => (onMachine.get(b.id)!.size < onMachine.get(a.id)!.size ? b : a)).id;
  const filtersFor = (u: SchedUnit): Filter[] => {
    const x = u.xfleet;
    const f: Filter[] = [];
    if (x.machineID) f.push({ why: `MachineID=${x.machineID}`, ok: (m) => m.id === x.machineID });
    for (const peer of x.machineOf) {
      f.push({ why: `MachineOf=${peer}`, ok: (m) => onMachine.get(m.id)!.has(peer) });
    }
    for (const [key, values] of Object.entries(x.machineMetadata)) {
      f.push({
        why: `MachineMetadata ${key}=${values.join("|")}`,
        ok: (m) => values.includes(m.metadata[key]),
      });
    }
    if (x.conflicts.length) {
      f.push({
        why: `Conflicts=${x.conflicts.join(" ")}`,
        ok: (m) =>
          ![...onMachine.get(m.id)!].some(
            (other) => other !== u.name && x.conflicts.some((g) => globMatch(g, other)),
          ),
      });
    }
    const blockers = withConflicts.filter(
      (o) => o.name !== u.name && o.xfleet.conflicts.some((g) => globMatch(g, u.name)),
    );
    if (blockers.length) {
      f.push({
        why: `no conflict with ${blockers.map((b) => b.name).join(", ")}`,
        ok: (m) => !blockers.some((b) => onMachine.get(m.id)!.has(b.name)),
      });
    }
    const by = replacers.get(u.name) ?? [];
    if (by.length) {
      f.push({
        why: `not beside ${by.join(", ")} (Replaces)`,
        ok: (m) => !by.some((r) => onMachine.get(m.id)!.has(r)),
      });
    }
    return f;
  };
  const candidates = (u: SchedUnit): { ok: SchedMachine[]; why?: string } => {
    let pool = sortedMachines;
    if (pool.length === 0) return { ok: [], why: "no machines are registered" };
    for (const f of filtersFor(u)) {
      const next = pool.filter(f.ok);
      if (next.length === 0) return { ok: [], why: `no machine satisfies ${f.why}` };
      pool = next;
    }
    return { ok: pool };
  };

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
      const ms = (currentOf.get(u.name) ?? []).filter((id) => onMachine.has(id));
      if (ms.length === 0) continue;
      const filters = filtersFor(u);
      const valid = ms.filter((id) => filters.every((f) => f.ok(machineById.get(id)!)));
      const keep = u.xfleet.global ? valid : valid.slice(0, 1);
      if (keep.length === 0) continue;
      keep.forEach((id) => put(u.name, id));
      kept.add(u.name);
      changed = true;
    }
  }

  // 2. place the rest; MachineOf followers wait for their peers, hence the rounds
  let pending = order.filter((u) => u.xfleet.global || !kept.has(u.name));
  for (let round = 0; pending.length && round <= order.length; round++) {
    const next: SchedUnit[] = [];
    for (const u of pending) {
      const waitsFor = u.xfleet.machineOf.filter((p) => !placed.has(p));
      if (waitsFor.length) {
        next.push(u);
        reasons[u.name] = `MachineOf unit ${waitsFor.join(", ")} is not scheduled`;
        continue;
      }
      const c = candidates(u);
      if (c.ok.length === 0) {
        reasons[u.name] = c.why!;
        continue;
      }
      delete reasons[u.name];
      if (u.xfleet.global) {
        c.ok.filter((m) => !placed.get(u.name)?.has(m.id)).forEach((m) => put(u.name, m.id));
      } else {
        put(u.name, leastLoaded(c.ok));
      }
    }
    if (next.length === pending.length) break;
    pending = next;
  }

  // A replacer that landed beside the unit it replaces pushes that unit elsewhere.
  for (const [replaced, by] of replacers) {
    const at = [...(placed.get(replaced) ?? [])].filter((id) =>
      by.some((r) => onMachine.get(id)!.has(r)),
    );
    if (at.length === 0) continue;
    at.forEach((id) => {
      onMachine.get(id)!.delete(replaced);
      placed.get(replaced)!.delete(id);
    });
    const c = candidates(active.find((a) => a.name === replaced)!);
    if (c.ok.length) put(replaced, leastLoaded(c.ok));
    else reasons[replaced] = c.why!;
  }

  const placements: Placement[] = [];
  for (const u of active) {
    for (const id of placed.get(u.name) ?? []) {
      placements.push({
        unit: u.name,
        machineID: id,
        target: u.desiredState as Placement["target"],
      });
    }
  }
  return { placements, reasons };
}
