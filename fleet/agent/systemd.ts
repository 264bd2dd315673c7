// What the agent needs from systemd. The D-Bus adapter (dbus.ts) is the real one;
// the recording adapter keeps state in memory and appends every start/stop with a
// timestamp to a shared log, so tests can prove two copies never ran at once.
import { appendFileSync } from "fs";

export interface SystemdUnitState {
  load: string;
  active: string;
  sub: string;
}

export interface SystemdAdapter {
  /** write the unit file and make systemd see it (link; daemon-reload only if needed) */
  load(name: string, contents: string): Promise<void>;
  start(name: string): Promise<void>;
  stop(name: string): Promise<void>;
  /** stop, unlink and remove the file */
  unload(name: string): Promise<void>;
  state(name: string): Promise<SystemdUnitState>;
  /** the states of several units, asked at once */
  states(names: string[]): Promise<Map<string, SystemdUnitState>>;
  /** systemd's status of the unit, as text lines (fleetctl status) */
  status?(name: string): Promise<string[]>;
  /** the last `lines` lines of the unit's journal (fleetctl journal) */
  journal?(name: string, lines: number): Promise<string[]>;
  /** unit files this adapter wrote earlier (e.g. before an agent restart) */
  list?(): Promise<string[]>;
  close?(): Promise<void>;
}

export interface RecordedEvent {
  t: number;
  machine: string;
  unit: string;
  event: "start" | "stop";
}

export class RecordingSystemd implements SystemdAdapter {
  private units = new Map<string, { contents: string; active: boolean }>();
  constructor(
    private machine: string,
    /** JSON-lines file shared by all agents of a test (appends are atomic for small lines) */
    private logFile?: string,
    /** how long a stop takes, like a container that needs time to exit */
    private stopDelayMs = 0,
    /**
     * Units that exist on the host outside fleet (docker.service, ...). When given,
     * start() refuses, as systemd does, a unit whose Requires=/BindsTo= names a unit
     * that is neither loaded here nor one of these.
     */
    private hostUnits?: string[],
  ) {}

  private missingDependency(contents: string): string | undefined {
    if (!this.hostUnits) return undefined;
    const deps = [...contents.matchAll(/^(?:Requires|BindsTo)=(.+)$/gm)].flatMap((m) =>
      m[1].trim().split(/\s+/),
    );
    return deps.find((d) => !this.units.has(d) && !this.hostUnits!.includes(d));
  }

  private events: RecordedEvent[] = [];
  private record(unit: string, event: RecordedEvent["event"]): void {
    // Wall clock, because the agents are separate processes; all on one host.
    const e: RecordedEvent = { t: Date.now(), machine: this.machine, unit, event };
    this.events.push(e);
    if (this.events.length > 1000) this.events.shift();
    if (!this.logFile) return;
    appendFileSync(this.logFile, JSON.stringify(e) + "\n");
  }
  async load(name: string, contents: string): Promise<void> {
    const u = this.units.get(name);
    this.units.set(name, { contents, active: u?.active ?? false });
  }
  async start(name: string): Promise<void> {
    const u = this.units.get(name);
    if (!u) throw new Error(`unit ${name} not loaded`);
    if (u.active) return;
    const missing = this.missingDependency(u.contents);
    if (missing) throw new Error(`Unit ${missing} not found.`);
    u.active = true;
    this.record(name, "start");
  }
  async stop(name: string): Promise<void> {
    const u = this.units.get(name);
    if (!u?.active) return;
    if (this.stopDelayMs) await new Promise((r) => setTimeout(r, this.stopDelayMs));
    // The copy counts as running until the stop is recorded.
    this.record(name, "stop");
    u.active = false;
  }
  async unload(name: string): Promise<void> {
    await this.stop(name);
    this.units.delete(name);
  }
  async state(name: string): Promise<SystemdUnitState> {
    const u = this.units.get(name);
    if (!u) return { load: "not-found", active: "inactive", sub: "dead" };
    return {
      load: "loaded",
      active: u.active ? "active" : "inactive",
      sub: u.active ? "running" : "dead",
    };
  }
  async states(names: string[]): Promise<Map<string, SystemdUnitState>> {
    return new Map(await Promise.all(names.map(async (n) => [n, await this.state(n)] as const)));
  }
  async status(name: string): Promise<string[]> {
    const st = await this.state(name);
    return [`* ${name}`, `   Loaded: ${st.load}`, `   Active: ${st.active} (${st.sub})`];
  }
  /** The recorded start/stop events of this machine's unit, as journal lines. */
  async journal(name: string, lines: number): Promise<string[]> {
    return this.events
      .filter((e) => e.unit === name)
      .slice(-lines)
      .map((e) => `${new Date(e.t).toISOString()} ${this.machine} fleet: ${e.event} ${name}`);
  }
  running(): string[] {
    return [...this.units].filter(([, u]) => u.active).map(([n]) => n);
  }
}
