// The engine: runs beside every agent, acts only while it holds the leader key
// (bound to its machine lease, so a dead leader is replaced within one TTL).
// Reconciles on watch events (debounced) and on an interval.
import { Watcher } from "etcd3";
import { parseXFleet, unitHash } from "../unit";
import { keys } from "../registry/keys";
import { Registry, ScheduledUnit } from "../registry/registry";
import { coalesce } from "./coalesce";
import { schedule, SchedUnit } from "./scheduler";

export interface EngineOptions {
  reconcileMs: number;
  debounceMs: number;
  /** move units to a machine that has fewer (scheduler.ts rebalance); fleet never did */
  rebalance?: boolean;
  log?: (msg: string) => void;
}

export class Engine {
  private timer?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private watchers: Watcher[] = [];
  private stopped = false;
  isLeader = false;
  private run = coalesce(
    () => this.tick(),
    (e) => this.opts.log?.(`engine: ${e.message}`),
    () => this.stopped,
  );
  /** placements written (for tests/bench) */
  placementsWritten = 0;

  constructor(
    private reg: Registry,
    private id: string,
    /** current machine lease, or undefined while the agent is fenced */
    private lease: () => string | undefined,
    private opts: EngineOptions,
  ) {}

  async start(): Promise<void> {
    for (const p of [keys.unitsPrefix, keys.machinesPrefix, keys.leader]) {
      this.watchers.push(await this.reg.watch(p, () => this.kick()));
    }
    // a deleted state ends the first phase of a move (see reconcile)
    this.watchers.push(await this.reg.watch(keys.statePrefix, () => this.kick(), ["delete"]));
    this.timer = setInterval(() => this.kick(0), this.opts.reconcileMs);
    this.kick(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    await Promise.all(this.watchers.map((w) => w.cancel().catch(() => undefined)));
  }

  kick(delay = this.opts.debounceMs): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(this.run, delay);
  }

  private async tick(): Promise<void> {
    const lease = this.lease();
    if (!lease) {
      this.isLeader = false;
      return;
    }
    const was = this.isLeader;
    this.isLeader = await this.reg.tryLead(this.id, lease);
    if (this.isLeader && !was) this.opts.log?.(`engine: ${this.id} is the leader`);
    if (this.isLeader) await this.reconcile();
  }

  /** One reconcile pass: read everything, compute the wanted schedule, write the difference. */
  async reconcile(): Promise<void> {
    const [units, machines, current, oldReasons] = await Promise.all([
      this.reg.listUnits(),
      this.reg.listMachinesWithLease(),
      this.reg.listSchedule(),
      this.reg.listReasons(),
    ]);
    const sched: SchedUnit[] = units.map((u) => ({
      name: u.name,
      desiredState: u.desiredState,
      xfleet: parseXFleet(u.options, u.name),
    }));
    const leaseOf = new Map(machines.map((m) => [m.id, m.lease]));
    // The contents' hash rides on each placement: a replaced unit's agents see it change.
    const hashOf = new Map(units.map((u) => [u.name, unitHash(u.options)]));
    const result = schedule(sched, machines, current, { rebalance: this.opts.rebalance });

    const k = (p: { unit: string; machineID: string }) => `${p.machineID}/${p.unit}`;
    const have = new Map(current.map((p) => [k(p), p]));
    const want = new Map<string, ScheduledUnit>(
      result.placements.map((p) => [
        k(p),
        { ...p, lease: leaseOf.get(p.machineID)!, hash: hashOf.get(p.unit)! },
      ]),
    );
    const changed = [...want.values()].filter((p) => {
      const h = have.get(k(p));
      return !(h && h.target === p.target && h.lease === p.lease && h.hash === p.hash);
    });
    // A planned move (Replaces, a new Conflicts) is two-phase: the new machine gets
    // the unit only once the old, still-live machine has unloaded it (its agent then
    // deletes its state key). Dead machines' states vanish with their lease. States
    // are read only when something is newly placed, so a quiet cluster costs nothing.
    const fresh = changed.filter((p) => !have.has(k(p)));
    const states = fresh.length ? await this.reg.listStates() : [];
    const live = new Set(machines.map((m) => m.id));
    const reportedOn = new Map<string, string[]>();
    for (const s of states) {
      if (live.has(s.machineID))
        reportedOn.set(s.name, [...(reportedOn.get(s.name) ?? []), s.machineID]);
    }
    const stillOn = (p: ScheduledUnit) =>
      (reportedOn.get(p.unit) ?? []).some(
        (m) => m !== p.machineID && !want.has(k({ unit: p.unit, machineID: m })),
      );
    const puts = changed.filter((p) => have.has(k(p)) || !stillOn(p));
    const putSet = new Set(puts);
    for (const p of changed.filter((c) => !putSet.has(c))) {
      result.reasons[p.unit] = `moving to ${p.machineID}: waiting for the old machine to stop it`;
    }
    const deletes = [...have.values()].filter((p) => !want.has(k(p)));
    const set = Object.fromEntries(
      Object.entries(result.reasons).filter(([u, r]) => oldReasons[u] !== r),
    );
    const clear = Object.keys(oldReasons).filter((u) => !(u in result.reasons));
    if (!puts.length && !deletes.length && !Object.keys(set).length && !clear.length) return;
    const ok = await this.reg.applySchedule(this.id, puts, deletes, { set, clear });
    if (ok) this.placementsWritten += puts.filter((p) => !have.has(k(p))).length;
    else this.isLeader = false;
  }
}
