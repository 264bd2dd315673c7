// In-process agents (recording systemd) against the real etcd, and helpers to read
// the shared start/stop log.
import { readFileSync } from "fs";
import { Agent } from "../../fleet/agent/agent";
import { RecordedEvent, RecordingSystemd } from "../../fleet/agent/systemd";
import { connect, Registry } from "../../fleet/registry/registry";
import { FleetService } from "../../fleet/api/service";

export const FAST = { leaseTTL: 3, renewMs: 500, fenceMarginMs: 1000, reconcileMs: 500 };

// FLEET_TEST_LOG=1 prints the agents' and engines' decisions while a test runs.
const log = process.env.FLEET_TEST_LOG
  ? (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`)
  : undefined;

export function machineID(n: number): string {
  return n.toString(16).padStart(2, "0").repeat(16);
}

export async function startAgent(
  endpoints: string[],
  n: number,
  metadata: Record<string, string> = {},
  opts: Partial<typeof FAST> & {
    logFile?: string;
    engine?: boolean;
    stopDelayMs?: number;
    hostUnits?: string[];
  } = {},
): Promise<{ agent: Agent; systemd: RecordingSystemd; reg: Registry; id: string }> {
  const id = machineID(n);
  const reg = new Registry(connect({ endpoints }));
  const systemd = new RecordingSystemd(id, opts.logFile, opts.stopDelayMs, opts.hostUnits);
  const agent = new Agent(reg, systemd, {
    machineID: id,
    publicIP: `127.0.0.${n + 1}`,
    metadata,
    ...FAST,
    ...opts,
    log,
  });
  await agent.start();
  return { agent, systemd, reg, id };
}

export async function stopAgent(a: { agent: Agent; reg: Registry }): Promise<void> {
  await a.agent.stop({ stopUnits: true, revoke: true });
  a.reg.client.close();
}

export function readEvents(file: string): RecordedEvent[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RecordedEvent);
}

/** Running intervals per (unit, machine) from the log; an open interval ends at +Inf. */
export function intervals(
  events: RecordedEvent[],
  unit: string,
): Array<{ machine: string; from: number; to: number }> {
  const open = new Map<string, number>();
  const out: Array<{ machine: string; from: number; to: number }> = [];
  for (const e of events.filter((x) => x.unit === unit).sort((a, b) => a.t - b.t)) {
    if (e.event === "start") open.set(e.machine, e.t);
    else if (open.has(e.machine)) {
      out.push({ machine: e.machine, from: open.get(e.machine)!, to: e.t });
      open.delete(e.machine);
    }
  }
  for (const [machine, from] of open) out.push({ machine, from, to: Infinity });
  return out;
}

/** Pairs of running intervals of one unit on different machines that overlap in time. */
export function overlaps(iv: ReturnType<typeof intervals>): string[] {
  const bad: string[] = [];
  for (let i = 0; i < iv.length; i++) {
    for (let j = i + 1; j < iv.length; j++) {
      const a = iv[i];
      const b = iv[j];
      if (a.machine !== b.machine && a.from < b.to && b.from < a.to)
        bad.push(`${a.machine}[${a.from},${a.to}] vs ${b.machine}[${b.from},${b.to}]`);
    }
  }
  return bad;
}

/** Submits each name as a launched unit that only sleeps, through the API's service layer. */
export async function submitSleepers(reg: Registry, names: readonly string[]): Promise<void> {
  const svc = new FleetService(reg);
  for (const u of names)
    await svc.putUnit(u, {
      desiredState: "launched",
      options: [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }],
    });
}
