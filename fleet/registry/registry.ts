// The registry: every read and write of fleet state in etcd goes through here, so
// the benchmark can count etcd requests and the engine, agent and API share one
// definition of each operation. Multi-key changes are single transactions.
import { Etcd3, IOptions, Watcher } from "etcd3";
import { noop } from "cockatiel";
import { readFileSync } from "fs";
import { checkReplacesCycles, parseXFleet, Unit, UnitError, XFleet } from "../unit";
import { DesiredState } from "../unit/unit";
import { Placement } from "../engine/scheduler";
import { keys, tail } from "./keys";

/**
 * A placement as stored: bound to the machine's lease incarnation (see agent fencing)
 * and to the unit's contents (`hash`, empty in entries written before it existed), so
 * a unit replaced with new options reaches its agent through the schedule it watches.
 */
export interface ScheduledUnit extends Placement {
  lease: string;
  hash: string;
}

export interface Machine {
  id: string;
  primaryIP: string;
  metadata: Record<string, string>;
}

/** fleet's UnitState entity, as agents report it. */
export interface UnitState {
  name: string;
  hash: string;
  machineID: string;
  systemdLoadState: string;
  systemdActiveState: string;
  systemdSubState: string;
}

export interface EtcdConfig {
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** etcd caps a transaction at 128 operations by default (--max-txn-ops). */
const MAX_TXN_OPS = 120;

function decodeTarget(v: string): { target: Placement["target"]; lease: string; hash: string } {
  const [target, lease, hash] = v.split(" ");
  return { target: target as Placement["target"], lease: lease ?? "", hash: hash ?? "" };
}

export class ConflictError extends Error {}
export class NotFoundError extends Error {}

/** With more than one endpoint (connect): gRPC keepalive, and each call's deadline. */
export const KEEPALIVE_MS = 10_000;
export const KEEPALIVE_TIMEOUT_MS = 5_000;
export const CALL_DEADLINE_MS = 5_000;

export function connect(cfg: EtcdConfig): Etcd3 {
  const opts: IOptions = { hosts: cfg.endpoints, dialTimeout: 3000 };
  // etcd3's default opens a circuit breaker on a host after 3 failed calls in a row and
  // fails every call for 5 s. That helps only when there is another host to go to. A
  // node's agent and sidekicks talk to their own member alone, so one slow answer from
  // an overloaded etcd became 5 s of instant failures, and the agent fenced although
  // etcd answered again (seen in an e2e node's journal: "circuit breaker is open").
  if (cfg.endpoints.length === 1) {
    opts.faultHandling = { host: () => noop };
  } else {
    // With more than one member to go to, leave a dead one in seconds. A member whose host
    // vanished (no RST, as a destroyed VM) held every call on its connection until TCP gave
    // up: the e2e's fleet view saw a killed node's lease expire 101 s after the kill, while
    // the survivor had started the moved unit at 25 s. So a call has a deadline, after which
    // etcd3 retries it on another member (a missed deadline is one of its recoverable
    // errors), and a stream (a watch, a lease's keepalive) has gRPC's keepalive: a ping
    // every 10 s (etcd refuses them more often than every 5 s), the connection dropped after
    // 5 s without an answer, and opened again elsewhere. A lone endpoint gets neither: there
    // is nowhere else to go, and a slow answer from an emulated node's own member is better
    // than a call given up.
    opts.grpcOptions = {
      "grpc.keepalive_time_ms": KEEPALIVE_MS,
      "grpc.keepalive_timeout_ms": KEEPALIVE_TIMEOUT_MS,
    };
    opts.defaultCallOptions = (c) =>
      c.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS };
  }
  if (cfg.caFile) {
    opts.credentials = {
      rootCertificate: readFileSync(cfg.caFile),
      certChain: cfg.certFile ? readFileSync(cfg.certFile) : undefined,
      privateKey: cfg.keyFile ? readFileSync(cfg.keyFile) : undefined,
    };
  }
  return new Etcd3(opts);
}

export class Registry {
  /** etcd requests issued through this registry (each range/put/txn/delete/lease call counts 1) */
  requests = 0;
  constructor(readonly client: Etcd3) {}

  private count<T>(p: Promise<T>): Promise<T> {
    this.requests++;
    return p;
  }

  private async listJSON<T>(prefix: string): Promise<Array<{ key: string; value: T }>> {
    const res = await this.count(this.client.getAll().prefix(prefix).exec());
    return res.kvs.map((kv) => ({
      key: kv.key.toString(),
      value: JSON.parse(kv.value.toString()) as T,
    }));
  }

  // ---- units
  async getUnit(name: string): Promise<Unit | undefined> {
    const v = await this.count(this.client.get(keys.unit(name)).string());
    return v === null ? undefined : (JSON.parse(v) as Unit);
  }
  async listUnits(): Promise<Unit[]> {
    return (await this.listJSON<Unit>(keys.unitsPrefix)).map((e) => e.value);
  }

  /** Refuse options whose Replaces would close a cycle with the stored units. */
  private async checkCycles(name: string, xfleet: XFleet): Promise<void> {
    if (!xfleet.replaces.length) return;
    const graph = new Map<string, XFleet>();
    for (const u of await this.listUnits()) graph.set(u.name, parseXFleet(u.options, u.name));
    graph.set(name, xfleet);
    checkReplacesCycles(graph);
  }

  /** Create a unit; fails if the name exists or it would close a Replaces cycle. */
  async createUnit(unit: Unit, xfleet: XFleet): Promise<void> {
    await this.checkCycles(unit.name, xfleet);
    const res = await this.count(
      this.client
        .if(keys.unit(unit.name), "Create", "==", 0)
        .then(this.client.put(keys.unit(unit.name)).value(JSON.stringify(unit)))
        .commit(),
    );
    if (!res.succeeded)
      throw new ConflictError(
        `unit ${unit.name} already exists: destroy it first to change its contents`,
      );
  }

  /**
   * Replace a unit with new options and the desired state it carries (fleet's
   * `--replace`); compare-and-swap on the revision read, like setDesiredState.
   */
  async replaceUnit(unit: Unit, xfleet: XFleet): Promise<void> {
    const res = await this.count(this.client.get(keys.unit(unit.name)).exec());
    const kv = res.kvs[0];
    if (!kv) throw new NotFoundError(`unit ${unit.name} does not exist`);
    await this.checkCycles(unit.name, xfleet);
    const ok = await this.count(
      this.client
        .if(keys.unit(unit.name), "Mod", "==", kv.mod_revision)
        .then(this.client.put(keys.unit(unit.name)).value(JSON.stringify(unit)))
        .commit(),
    );
    if (!ok.succeeded) throw new ConflictError(`unit ${unit.name} changed concurrently: retry`);
  }

  /** Change only the desired state, compare-and-swap on the unit's revision. */
  async setDesiredState(name: string, state: DesiredState): Promise<void> {
    const res = await this.count(this.client.get(keys.unit(name)).exec());
    const kv = res.kvs[0];
    if (!kv) throw new NotFoundError(`unit ${name} does not exist`);
    const unit = JSON.parse(kv.value.toString()) as Unit;
    if (unit.desiredState === state) return;
    const ok = await this.count(
      this.client
        .if(keys.unit(name), "Mod", "==", kv.mod_revision)
        .then(
          this.client.put(keys.unit(name)).value(JSON.stringify({ ...unit, desiredState: state })),
        )
        .commit(),
    );
    if (!ok.succeeded) throw new ConflictError(`unit ${name} changed concurrently: retry`);
  }

  async destroyUnit(name: string): Promise<void> {
    const res = await this.count(
      this.client
        .if(keys.unit(name), "Create", ">", 0)
        .then(
          this.client.delete().key(keys.unit(name)),
          this.client.delete().key(keys.reason(name)),
        )
        .commit(),
    );
    if (!res.succeeded) throw new NotFoundError(`unit ${name} does not exist`);
  }

  // ---- machines (present only while their lease lives)
  async listMachines(): Promise<Machine[]> {
    return (await this.listMachinesWithLease()).map(({ id, primaryIP, metadata }) => ({
      id,
      primaryIP,
      metadata,
    }));
  }
  /** Machines with the lease they registered under (the API strips `lease`). */
  async listMachinesWithLease(): Promise<Array<Machine & { lease: string }>> {
    return (await this.listJSON<Machine & { lease: string }>(keys.machinesPrefix)).map(
      (e) => e.value,
    );
  }
  async registerMachine(m: Machine, leaseID: string): Promise<void> {
    const rec = { id: m.id, primaryIP: m.primaryIP, metadata: m.metadata, lease: leaseID };
    await this.count(
      this.client.put(keys.machine(m.id)).value(JSON.stringify(rec)).lease(leaseID).exec(),
    );
  }

  // ---- schedule: /schedule/<machine>/<unit> = "<target> <lease>"
  async listSchedule(): Promise<ScheduledUnit[]> {
    const res = await this.count(this.client.getAll().prefix(keys.schedulePrefix).exec());
    return res.kvs.map((kv) => {
      const [machineID, unit] = tail(kv.key.toString(), keys.schedulePrefix);
      return { unit, machineID, ...decodeTarget(kv.value.toString()) };
    });
  }
  async machineSchedule(machineID: string): Promise<ScheduledUnit[]> {
    const prefix = keys.machineSchedulePrefix(machineID);
    const res = await this.count(this.client.getAll().prefix(prefix).exec());
    return res.kvs.map((kv) => ({
      unit: kv.key.toString().slice(prefix.length),
      machineID,
      ...decodeTarget(kv.value.toString()),
    }));
  }

  /**
   * Apply schedule changes as the engine leader. Every transaction compares the
   * leader key with our ID, so a deposed leader can never write a placement.
   * Returns false when leadership was lost.
   */
  async applySchedule(
    leaderID: string,
    puts: ScheduledUnit[],
    deletes: Array<{ unit: string; machineID: string }>,
    reasons: { set: Record<string, string>; clear: string[] },
  ): Promise<boolean> {
    const ops = [
      // Deletes first: when a unit moves, its old placement goes in the same or an earlier transaction.
      ...deletes.map((d) => this.client.delete().key(keys.schedule(d.machineID, d.unit))),
      ...puts.map((p) =>
        this.client
          .put(keys.schedule(p.machineID, p.unit))
          .value(`${p.target} ${p.lease} ${p.hash}`),
      ),
      ...Object.entries(reasons.set).map(([u, r]) => this.client.put(keys.reason(u)).value(r)),
      ...reasons.clear.map((u) => this.client.delete().key(keys.reason(u))),
    ];
    for (let i = 0; i < ops.length; i += MAX_TXN_OPS) {
      const res = await this.count(
        this.client
          .if(keys.leader, "Value", "==", leaderID)
          .then(...ops.slice(i, i + MAX_TXN_OPS))
          .commit(),
      );
      if (!res.succeeded) return false;
    }
    return true;
  }

  async listReasons(): Promise<Record<string, string>> {
    const res = await this.count(this.client.getAll().prefix(keys.reasonsPrefix).strings());
    return Object.fromEntries(
      Object.entries(res).map(([k, v]) => [k.slice(keys.reasonsPrefix.length), v]),
    );
  }

  // ---- unit states reported by agents (bound to the machine lease)
  async listStates(): Promise<UnitState[]> {
    return (await this.listJSON<UnitState>(keys.statePrefix)).map((e) => e.value);
  }
  async putState(s: UnitState, leaseID: string): Promise<void> {
    await this.count(
      this.client
        .put(keys.state(s.name, s.machineID))
        .value(JSON.stringify(s))
        .lease(leaseID)
        .exec(),
    );
  }
  async deleteState(unit: string, machineID: string): Promise<void> {
    await this.count(this.client.delete().key(keys.state(unit, machineID)).exec());
  }

  // ---- engine leadership: a key bound to the leader machine's lease
  async tryLead(id: string, leaseID: string): Promise<boolean> {
    const res = await this.count(
      this.client
        .if(keys.leader, "Create", "==", 0)
        .then(this.client.put(keys.leader).value(id).lease(leaseID))
        .else(this.client.get(keys.leader))
        .commit(),
    );
    if (res.succeeded) return true;
    const kv = res.responses[0]?.response_range?.kvs?.[0];
    return kv?.value.toString() === id;
  }
  async leader(): Promise<string | undefined> {
    return (await this.count(this.client.get(keys.leader).string())) ?? undefined;
  }

  /** Watch a prefix; calls back on every change (the caller debounces). */
  async watch(
    prefix: string,
    onChange: () => void,
    events: Array<"put" | "delete"> = ["put", "delete"],
  ): Promise<Watcher> {
    const w = await this.count(this.client.watch().prefix(prefix).create());
    if (events.includes("put")) w.on("put", onChange);
    if (events.includes("delete")) w.on("delete", onChange);
    return w;
  }
}

export { UnitError };
