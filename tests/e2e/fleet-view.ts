// The e2e's view of fleet: the latest snapshot of machines and unit states that
// fleet-view-main.ts (one process in the test's namespace, one etcd watch) prints.
// Reading it costs the lab nothing, so the test may look as often as it likes; the
// lab's VMs serve only the watch. Started and stopped by PID.
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import type { Machine, UnitState } from "../../fleet/registry/registry";
import type { EtcdClient } from "./checks";

/** A snapshot older than this counts as "fleet is not answering" (the lister refreshes every 5 s). */
const STALE_MS = 20_000;

interface Snapshot {
  at: number;
  machines: Machine[];
  states: UnitState[];
}

export class FleetView {
  private proc: ChildProcess;
  private snap?: Snapshot;
  private buf = "";
  /** The last error the lister reported, and its own stderr: for a wait that gives up. */
  lastError = "";

  /**
   * `prefix`: the argv that enters the test's namespace (Netns.prefix), or [] to run
   * the lister beside the caller.
   */
  constructor(
    prefix: string[],
    c: EtcdClient,
    private readonly staleMs = STALE_MS,
  ) {
    const main = path.join(__dirname, "fleet-view-main.ts");
    const argv = [
      ...prefix,
      process.execPath,
      ...["-r", "ts-node/register/transpile-only", main],
      ...[c.endpoints.join(","), c.ca, c.cert, c.key],
    ];
    this.proc = spawn(argv[0], argv.slice(1), {
      stdio: ["pipe", "pipe", "pipe"],
      cwd: path.join(__dirname, "..", ".."),
    });
    this.proc.stdout!.setEncoding("utf8");
    this.proc.stdout!.on("data", (d: string) => this.take(d));
    this.proc.stderr!.setEncoding("utf8");
    this.proc.stderr!.on("data", (d: string) => (this.lastError = d.trim().slice(-500)));
  }

  private take(chunk: string): void {
    this.buf += chunk;
    const lines = this.buf.split("\n");
    this.buf = lines.pop() ?? "";
    for (const line of lines) {
      try {
        const o = JSON.parse(line) as Partial<Snapshot> & { error?: string; at: number };
        if (o.error) this.lastError = o.error;
        else if (o.machines && o.states)
          this.snap = { at: o.at, machines: o.machines, states: o.states };
      } catch {
        this.lastError = `unreadable line: ${line.slice(0, 200)}`;
      }
    }
  }

  private fresh(): Snapshot | undefined {
    return this.snap && Date.now() - this.snap.at < this.staleMs ? this.snap : undefined;
  }

  /** Machines fleet lists now; null while the view is stale (etcd not answering). */
  machines(): Machine[] | null {
    return this.fresh()?.machines ?? null;
  }

  /** Unit states agents reported; null while the view is stale. */
  states(): UnitState[] | null {
    return this.fresh()?.states ?? null;
  }

  /** unit name -> IP of the machine where it is active (running), among `live` IPs. */
  activeUnits(live?: string[]): Record<string, string> {
    const ipOf = new Map((this.machines() ?? []).map((m) => [m.id, m.primaryIP]));
    const out: Record<string, string> = {};
    for (const s of this.states() ?? []) {
      const ip = ipOf.get(s.machineID);
      if (!ip || (live && !live.includes(ip))) continue;
      if (s.systemdActiveState === "active" && s.systemdSubState === "running") out[s.name] = ip;
    }
    return out;
  }

  /** unit name -> how many listed machines among `live` report it running (never above 1). */
  copies(live: string[]): Record<string, number> {
    const ids = new Set(
      (this.machines() ?? []).filter((m) => live.includes(m.primaryIP)).map((m) => m.id),
    );
    const n: Record<string, number> = {};
    for (const s of this.states() ?? [])
      if (
        ids.has(s.machineID) &&
        s.systemdActiveState === "active" &&
        s.systemdSubState === "running"
      )
        n[s.name] = (n[s.name] ?? 0) + 1;
    return n;
  }

  /** Stops the lister by PID and waits for it (bounded). */
  async close(): Promise<void> {
    const p = this.proc;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  }
}
