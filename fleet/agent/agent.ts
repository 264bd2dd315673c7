// The agent: one per machine. Holds the machine lease, runs what the schedule puts
// on this machine, reports unit states, and FENCES: when it has not renewed its
// lease for TTL - margin (measured from when the last successful renewal was SENT,
// which is never later than when etcd restarted the TTL), it stops every unit. The
// lease, and so the machine, can only expire after that; the engine reschedules only
// after expiry; so a cut-off machine never runs a unit while its replacement does.
import { EtcdLeaseInvalidError, Lease, Watcher } from "etcd3";
import { readFileSync, renameSync, rmSync, writeFileSync } from "fs";
import { serializeUnit, unitHash, UnitOption } from "../unit";
import { coalesce } from "../engine/coalesce";
import { Engine } from "../engine/engine";
import { keys } from "../registry/keys";
import { Registry, UnitState } from "../registry/registry";
import {
  InspectAnswer,
  InspectRequest,
  MAX_JOURNAL_LINES,
  serveInspect,
} from "../registry/inspect";
import { AgentConfig } from "./config";
import { SystemdAdapter } from "./systemd";
import { parseUptimeMs, stopAt } from "./watchdog";

export type AgentOptions = Pick<
  AgentConfig,
  | "machineID"
  | "publicIP"
  | "metadata"
  | "leaseTTL"
  | "renewMs"
  | "fenceMarginMs"
  | "bindsTo"
  | "heartbeatFile"
> &
  Partial<Pick<AgentConfig, "watchdogPollMs" | "rebalance">> & {
    reconcileMs?: number;
    /** run the engine candidate in this agent (default true) */
    engine?: boolean;
    log?: (msg: string) => void;
  };

const now = () => performance.now();

/** How long registering (while fenced) may take before the agent gives up and retries. */
export const REGISTER_BOUND_MS = 30_000;

/** The unit as written for systemd: the stored options plus the binding to the agent. */
export function withBinding(options: UnitOption[], agentUnit?: string): UnitOption[] {
  if (!agentUnit) return options;
  const bind = ["BindsTo", "After"].map((name) => ({ section: "Unit", name, value: agentUnit }));
  return [...bind, ...options];
}

/** Bound a call to etcd: a partition must never leave the renew loop hanging. */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no answer from etcd within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

export class Agent {
  private lease?: Lease;
  private leaseID?: string;
  private lastRenewSent = 0;
  private fenced = true;
  private timers: NodeJS.Timeout[] = [];
  private watcher?: Watcher;
  private inspector?: { cancel(): Promise<void> };
  private loaded = new Map<string, string>(); // unit -> hash loaded into systemd
  private reported = new Map<string, string>(); // unit -> last reported state JSON
  /** unit files left by an earlier run of this agent, checked once after start */
  private leftovers?: string[];
  private stopped = false;
  /** the watcher holds this agent to a deadline (it runs units a freeze must stop) */
  private armed = false;
  readonly engine?: Engine;
  /** how many times this agent fenced itself (tests, metrics) */
  fences = 0;

  constructor(
    readonly reg: Registry,
    readonly systemd: SystemdAdapter,
    readonly opts: AgentOptions,
  ) {
    if (opts.engine !== false) {
      this.engine = new Engine(
        reg,
        opts.machineID,
        // past the fencing deadline counts as fenced even before checkFence ran (a
        // process resumed from a freeze must not act as leader on a lost lease)
        () => (this.fenced || this.pastDeadline() ? undefined : this.leaseID),
        {
          reconcileMs: opts.reconcileMs ?? 1000,
          debounceMs: 50,
          rebalance: opts.rebalance,
          log: opts.log,
        },
      );
    }
  }

  private log(msg: string): void {
    this.opts.log?.(`agent ${this.opts.machineID.slice(0, 8)}: ${msg}`);
  }

  async start(): Promise<void> {
    await this.registerUntilDone();
    if (this.stopped) return;
    this.leftovers = (await this.systemd.list?.()) ?? [];
    this.watcher = await this.reg.watch(keys.machineSchedulePrefix(this.opts.machineID), () =>
      this.kick(),
    );
    this.inspector = await serveInspect(this.reg, this.opts.machineID, (r) => this.inspect(r));
    this.timers.push(setInterval(() => void this.renew(), this.opts.renewMs));
    // Check the fencing deadline often, independent of how long a renewal hangs.
    this.timers.push(
      setInterval(() => void this.checkFence(), Math.min(200, this.opts.renewMs / 2)),
    );
    this.timers.push(setInterval(() => this.kick(), this.opts.reconcileMs ?? 1000));
    await this.engine?.start();
    // The calls above can take seconds on an emulated VM: renew now rather than a
    // whole interval later, so the first unit is armed with a fresh deadline.
    void this.renew();
    this.kick();
  }

  /**
   * The first registration, retried in this process until etcd answers: a member that
   * is still electing, or a slow first TLS connection, must not end the agent, since
   * each restart of its container costs seconds of Node.js start-up on an emulated VM
   * and the wait then starts over. Fenced meanwhile, so nothing runs; stop() ends it.
   */
  private async registerUntilDone(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.register();
        return;
      } catch (e) {
        const waitMs = Math.min(5000, 500 * attempt);
        this.log(
          `register attempt ${attempt} failed (${(e as Error).message}); again in ${waitMs} ms`,
        );
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }

  /**
   * Grant a fresh lease and (re-)register the machine under it. Bounded loosely: the
   * agent is fenced here (runs nothing), so a slow answer endangers no unit, while a
   * tight bound made a slow first connection (TLS to etcd on an emulated VM takes
   * seconds) fail the agent over and over. The short bound guards renewals only.
   */
  private async register(): Promise<void> {
    const bound = Math.max(this.opts.renewMs * 2, REGISTER_BOUND_MS);
    const sent = now();
    const lease = this.reg.client.lease(this.opts.leaseTTL, { autoKeepAlive: false });
    this.reg.requests++;
    const id = await within(bound, "lease grant", lease.grant());
    await within(
      bound,
      "register",
      this.reg.registerMachine(
        { id: this.opts.machineID, primaryIP: this.opts.publicIP, metadata: this.opts.metadata },
        id,
      ),
    );
    this.lease = lease;
    this.leaseID = id;
    this.reported.clear();
    this.lastRenewSent = sent;
    this.fenced = false;
    this.heartbeat(sent);
    this.log(`registered with lease ${id}`);
  }

  private renewing = false;
  private async renew(): Promise<void> {
    if (this.stopped || this.renewing) return;
    this.renewing = true;
    const sent = now();
    try {
      if (!this.lease) {
        await this.register();
        this.kick();
        return;
      }
      this.reg.requests++;
      await within(
        this.opts.renewMs * 2,
        "keepalive",
        this.lease.keepaliveOnce({ deadline: new Date(Date.now() + this.opts.renewMs * 2) }),
      );
      this.lastRenewSent = sent;
      this.heartbeat(sent);
      if (this.fenced) {
        // The lease never expired, so nobody else was given our units: resume.
        this.fenced = false;
        this.log("lease renewed again, unfenced");
        this.engine?.kick(0);
        this.kick();
      }
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      this.log(`renew failed: ${msg}`);
      // Retry soon rather than at the next interval: the client picks another
      // endpoint, so a dead etcd member costs a fraction of the fencing budget.
      setTimeout(() => void this.renew(), Math.min(250, this.opts.renewMs / 4));
      if (e instanceof EtcdLeaseInvalidError || /lease not found|expired or revoked/i.test(msg)) {
        this.log("lease expired: fencing and registering again");
        await this.fence();
        this.lease = undefined;
        this.leaseID = undefined;
      }
    } finally {
      this.renewing = false;
    }
  }

  /**
   * Tell the host-side watcher (watchdog.ts) its deadline: derived from when the
   * renewal that succeeded was sent, on the clock the watcher reads, so a frozen
   * agent's units are stopped by when it would have fenced itself. Unarmed, the file
   * is removed and the watcher only waits: an agent that runs nothing has nothing to
   * fence, and killing it for a slow registration (seconds on an emulated VM) would
   * only start that registration over, again and again.
   */
  private heartbeat(sent: number): void {
    const { heartbeatFile: file, watchdogPollMs } = this.opts;
    if (!file || watchdogPollMs === undefined) return;
    try {
      if (!this.armed) return rmSync(file, { force: true });
      const t0 = parseUptimeMs(readFileSync("/proc/uptime", "utf8")) - (now() - sent);
      writeFileSync(`${file}.tmp`, `${stopAt(t0, { ...this.opts, watchdogPollMs })}\n`);
      renameSync(`${file}.tmp`, file);
    } catch (e) {
      this.log(`heartbeat ${file}: ${(e as Error).message}`);
    }
  }

  /**
   * Put the agent under the watcher's deadline before it loads or starts a unit. The
   * deadline must leave a renewal interval of room, or a healthy agent's units would be
   * stopped for a renewal that is merely due: renew first, and if that does not help, wait for
   * the next pass. False: do not act now.
   */
  private async arm(): Promise<boolean> {
    const { heartbeatFile, watchdogPollMs } = this.opts;
    if (this.armed || !heartbeatFile || watchdogPollMs === undefined) return true;
    // The watcher's deadline, on this process's clock, less now.
    const room = () => stopAt(this.lastRenewSent, { ...this.opts, watchdogPollMs }) - now();
    if (room() < this.opts.renewMs) await this.renew();
    if (this.fenced || room() < this.opts.renewMs) return false;
    this.armed = true;
    this.heartbeat(this.lastRenewSent);
    return true;
  }

  /** Nothing of this agent's runs any more: the watcher may stop holding it to a deadline. */
  private disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    this.heartbeat(this.lastRenewSent);
  }

  /** Has the last successful renewal become too old to act on? */
  private pastDeadline(): boolean {
    return now() - this.lastRenewSent > this.opts.leaseTTL * 1000 - this.opts.fenceMarginMs;
  }

  private async checkFence(): Promise<void> {
    if (this.fenced || this.stopped) return;
    if (this.pastDeadline()) {
      this.log("lease not renewed in time: fencing (stopping all units)");
      await this.fence();
    }
  }

  /** Stop every unit now; they stay loaded so a renewed lease can resume them. */
  private async fence(): Promise<void> {
    if (!this.fenced) this.fences++;
    this.fenced = true;
    const t0 = now();
    await Promise.all(
      [...this.loaded.keys()].map((u) =>
        this.systemd.stop(u).catch((e) => this.log(`stop ${u}: ${e}`)),
      ),
    );
    const took = now() - t0;
    // Stopped: a freeze from here on leaves nothing running, and a renewed lease
    // resumes the units in place (arming again first).
    this.disarm();
    // The guarantee holds only if stopping fits in the margin before lease expiry.
    if (took > this.opts.fenceMarginMs / 2) {
      this.log(`fencing took ${Math.round(took)} ms: give units a shorter TimeoutStopSec`);
    }
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  /** reconcile soon (coalesced: at most one pass running and one queued) */
  readonly kick = coalesce(
    () => this.reconcile(),
    (e) => this.log(`reconcile: ${e.message}`),
    () => this.stopped,
  );

  private async reconcile(): Promise<void> {
    if (this.fenced || !this.leaseID) return;
    // Resumed after a freeze (timers fire late, in any order): fence first, act never.
    if (this.pastDeadline()) return this.checkFence();
    const lease = this.leaseID;
    // Only placements made for this lease incarnation count: entries left from an
    // expired lease may already have been moved elsewhere.
    const mine = (await this.reg.machineSchedule(this.opts.machineID)).filter(
      (p) => p.lease === lease,
    );
    const wanted = new Map(mine.map((p) => [p.unit, p.target]));
    // A unit replaced with new options (fleet's --replace): stop the old version and
    // load the new one, which the loop below then starts if it should run, as fleet's
    // agent did on a hash mismatch (a restart with the new file, on the same machine).
    for (const p of mine) {
      const had = this.loaded.get(p.unit);
      if (had && p.hash && had !== p.hash) {
        this.log(
          `${p.unit} replaced (hash ${had.slice(0, 7)} -> ${p.hash.slice(0, 7)}): reloading`,
        );
        await this.systemd.stop(p.unit);
        this.loaded.delete(p.unit);
      }
    }
    for (const unit of this.leftovers?.splice(0) ?? []) {
      if (!wanted.has(unit)) await this.systemd.unload(unit);
    }
    for (const unit of [...this.loaded.keys()]) {
      if (!wanted.has(unit)) {
        await this.systemd.unload(unit);
        this.loaded.delete(unit);
        this.reported.delete(unit);
        await this.reg.deleteState(unit, this.opts.machineID);
      }
    }
    if (wanted.size === 0) return this.disarm();
    if (!(await this.arm())) return;
    // Load every unit before starting any: a sidekick BindsTo its service, and systemd
    // refuses to start it ("Unit www.service not found") until that file is loaded too.
    // Schedule order is by name, and "www-sidekick" sorts before "www".
    for (const unit of wanted.keys()) {
      if (this.loaded.has(unit)) continue;
      const u = await this.reg.getUnit(unit);
      if (!u) continue;
      await this.systemd.load(unit, serializeUnit(withBinding(u.options, this.opts.bindsTo)));
      this.loaded.set(unit, unitHash(u.options));
    }
    const failed: string[] = [];
    const now = await this.systemd.states([...wanted.keys()].filter((u) => this.loaded.has(u)));
    for (const [unit, target] of wanted) {
      const st = now.get(unit);
      if (!st) continue;
      // Re-check just before acting: fencing may have begun while we awaited.
      if (this.fenced || this.leaseID !== lease) return;
      try {
        if (target === "launched" && st.active !== "active" && st.active !== "activating")
          await this.systemd.start(unit);
        if (target === "loaded" && st.active === "active") await this.systemd.stop(unit);
      } catch (e) {
        // One unit systemd refuses must not keep the others from starting: go on,
        // report, and say which failed (the next pass retries it).
        failed.push(`${unit}: ${(e as Error).message}`);
      }
    }
    await this.report(lease);
    if (failed.length > 0) throw new Error(failed.join("; "));
  }

  private async report(lease: string): Promise<void> {
    const now = await this.systemd.states([...this.loaded.keys()]);
    for (const [unit, hash] of this.loaded) {
      const st = now.get(unit);
      if (!st) continue;
      const s: UnitState = {
        name: unit,
        hash,
        machineID: this.opts.machineID,
        systemdLoadState: st.load,
        systemdActiveState: st.active,
        systemdSubState: st.sub,
      };
      const json = JSON.stringify(s);
      if (this.reported.get(unit) === json) continue;
      await this.reg.putState(s, lease);
      this.reported.set(unit, json);
    }
  }

  /** Answer a status/journal request, for the units this agent runs only. */
  private async inspect(r: InspectRequest): Promise<InspectAnswer> {
    if (!this.loaded.has(r.unit)) return { error: `${r.unit} is not loaded on this machine` };
    const sd = this.systemd;
    if (r.kind === "status" && sd.status) return { lines: await sd.status(r.unit) };
    const lines = Math.min(Math.max(1, Math.floor(r.lines)), MAX_JOURNAL_LINES);
    if (r.kind === "journal" && sd.journal) return { lines: await sd.journal(r.unit, lines) };
    return { error: `this agent's systemd adapter cannot give ${r.kind}` };
  }

  /** Graceful stop (tests, SIGTERM): stop the loops; units keep running unless told. */
  async stop(opts: { stopUnits?: boolean; revoke?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    await this.engine?.stop();
    await this.watcher?.cancel().catch(() => undefined);
    await this.inspector?.cancel().catch(() => undefined);
    if (opts.stopUnits) await this.fence();
    if (opts.revoke) await this.lease?.revoke().catch(() => undefined);
  }
}
