// Failover with agents as real OS processes: SIGKILL one (a plain machine, then the
// engine leader) and its units must run elsewhere, each placed exactly once.
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { DEFAULT_TIMING } from "../../fleet/agent/config";
import { connect, Registry } from "../../fleet/registry/registry";
import { spawnAgent, AgentProcess } from "./agent-process";
import { EtcdCluster } from "./etcd";
import { waitFor } from "../support/wait";
import { readEvents, submitSleepers } from "./harness";

jest.setTimeout(180_000);

const etcd = new EtcdCluster();
const dir = mkdtempSync(join(tmpdir(), "fleet-failover-"));
const logFile = join(dir, "events.jsonl");
let agents: AgentProcess[] = [];
let reg: Registry;
const UNITS = ["u1.service", "u2.service", "u3.service", "u4.service", "u5.service", "u6.service"];

beforeAll(async () => {
  await etcd.start();
  reg = new Registry(connect({ endpoints: etcd.endpoints }));
  agents = [1, 2, 3].map((n) =>
    spawnAgent(n, dir, etcd.endpoints, { logFile, timing: DEFAULT_TIMING }),
  );
  await waitFor("3 machines", async () => (await reg.listMachines()).length === 3, 60_000, 250);
  await submitSleepers(reg, UNITS);
  await waitFor(
    "all units active",
    async () =>
      (await reg.listStates()).filter((s) => s.systemdActiveState === "active").length ===
      UNITS.length,
    30_000,
  );
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill()));
  reg?.client.close();
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Kill one agent; wait until each of its units has started on another machine; return seconds. */
async function killAndMeasure(victim: AgentProcess): Promise<number> {
  const mine = (await reg.listSchedule())
    .filter((p) => p.machineID === victim.id)
    .map((p) => p.unit);
  expect(mine.length).toBeGreaterThan(0);
  const killedAt = Date.now();
  await victim.kill("SIGKILL");
  const started = await waitFor(
    `units ${mine.join(",")} restarted elsewhere`,
    () => {
      const ev = readEvents(logFile).filter(
        (e) => e.t >= killedAt && e.event === "start" && e.machine !== victim.id,
      );
      const times = mine.map((u) => ev.find((e) => e.unit === u)?.t);
      return times.every((t) => t !== undefined) && (times as number[]);
    },
    30_000,
    50,
  );
  // nothing placed twice: every unit has exactly one placement, on a live machine
  const sched = await reg.listSchedule();
  const live = new Set((await reg.listMachines()).map((m) => m.id));
  for (const u of UNITS) {
    const at = sched.filter((p) => p.unit === u);
    expect(at).toHaveLength(1);
    expect(live.has(at[0].machineID)).toBe(true);
  }
  // and each moved unit started exactly once after the kill
  const after = readEvents(logFile).filter((e) => e.t >= killedAt && e.event === "start");
  for (const u of mine) expect(after.filter((e) => e.unit === u)).toHaveLength(1);
  return (Math.max(...started) - killedAt) / 1000;
}

test("SIGKILL of a non-leader agent: its units run elsewhere", async () => {
  const leader = await reg.leader();
  const victim = agents.find((a) => a.id !== leader && a.proc.exitCode === null)!;
  const s = await killAndMeasure(victim);
  console.log(
    `failover after SIGKILL of a non-leader agent: ${s.toFixed(2)} s (lease TTL ${DEFAULT_TIMING.leaseTTL} s)`,
  );
});

test("SIGKILL of the engine leader: a new leader takes over, nothing placed twice", async () => {
  const leader = await reg.leader();
  const victim = agents.find((a) => a.id === leader)!;
  expect(victim).toBeDefined();
  const s = await killAndMeasure(victim);
  const next = await waitFor("new leader", async () => {
    const l = await reg.leader();
    return l && l !== leader && l;
  });
  expect(agents.find((a) => a.id === next)!.proc.exitCode).toBeNull();
  console.log(`failover after SIGKILL of the engine leader: ${s.toFixed(2)} s`);
});
