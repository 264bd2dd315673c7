// fleetlab:fleetRebalance with agents as real OS processes: a machine that dies and a
// new one that joins. Off (fleet's rule) the newcomer stays empty; on, it gets work
// back, a unit at a time, and no unit ever runs on two live machines at once.
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { connect, Registry } from "../../fleet/registry/registry";
import { AGENT_ENV } from "../../node/env";
import { waitFor } from "../support/wait";
import { spawnAgent, AgentProcess } from "./agent-process";
import { EtcdCluster } from "./etcd";
import { FAST, intervals, overlaps, readEvents, submitSleepers } from "./harness";

jest.setTimeout(180_000);

const etcd = new EtcdCluster();
const dir = mkdtempSync(join(tmpdir(), "fleet-rebalance-"));
const UNITS = Array.from({ length: 6 }, (_, i) => `rb-${i + 1}.service`);
let reg: Registry;
const agents: AgentProcess[] = [];
let next = 1;

beforeAll(async () => {
  await etcd.start(1);
  reg = new Registry(connect({ endpoints: etcd.endpoints }));
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill("SIGKILL")));
  reg?.client.close();
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Units placed per live machine, in the order of `live`. */
async function loads(live: AgentProcess[]): Promise<number[]> {
  const sched = await reg.listSchedule();
  return live.map((a) => sched.filter((p) => p.machineID === a.id).length);
}

async function round(rebalance: boolean): Promise<{ live: AgentProcess[]; logFile: string }> {
  await reg.client.delete().prefix("/fleetlab/fleet/").exec();
  const logFile = join(dir, `events-${rebalance}.jsonl`);
  const spawn = () =>
    spawnAgent(next++, dir, etcd.endpoints, {
      logFile,
      timing: FAST,
      env: { [AGENT_ENV.rebalance]: String(rebalance) },
    });
  const live = [spawn(), spawn(), spawn()];
  agents.push(...live);
  await waitFor("3 machines", async () => (await reg.listMachines()).length === 3, 60_000, 250);
  await submitSleepers(reg, UNITS);
  await waitFor("2 units a machine", async () => (await loads(live)).join() === "2,2,2", 30_000);
  const victim = live.shift()!;
  const killedAt = Date.now();
  await victim.kill("SIGKILL");
  await waitFor(
    "3 units on each survivor",
    async () => (await loads(live)).join() === "3,3",
    30_000,
  );
  const joined = spawn();
  agents.push(joined);
  live.push(joined);
  await waitFor(
    "the newcomer registered",
    async () => (await reg.listMachines()).length === 3,
    60_000,
    250,
  );
  // The victim's units were running until its SIGKILL, as on a dead machine.
  const twoCopies = () =>
    UNITS.flatMap((u) =>
      overlaps(
        intervals(readEvents(logFile), u).map((iv) =>
          iv.machine === victim.id ? { ...iv, to: Math.min(iv.to, killedAt) } : iv,
        ),
      ),
    );
  expect(twoCopies()).toEqual([]);
  return { live, logFile };
}

test("off (fleet's rule): a machine that joins after a failure stays empty", async () => {
  const { live } = await round(false);
  // Several reconcile passes of the engine (FAST: every 500 ms) change nothing.
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 500));
    expect(await loads(live)).toEqual([3, 3, 0]);
  }
  await Promise.all(live.map((a) => a.kill("SIGKILL")));
});

test("on: the newcomer gets two units back, one move at a time, never two copies", async () => {
  const { live, logFile } = await round(true);
  await waitFor("balanced again", async () => (await loads(live)).join() === "2,2,2", 60_000, 100);
  const newcomer = live[2].id;
  await waitFor(
    "both moved units running on the newcomer",
    () =>
      readEvents(logFile).filter((e) => e.event === "start" && e.machine === newcomer).length === 2,
    30_000,
  );
  const events = readEvents(logFile);
  const starts = events.filter((e) => e.event === "start" && e.machine === newcomer);
  // Each moved unit stopped on its old machine before it started on the newcomer.
  for (const s of starts) {
    const stop = events.find(
      (e) => e.event === "stop" && e.unit === s.unit && e.machine !== newcomer,
    );
    expect(stop && stop.t <= s.t).toBe(true);
  }
  const killed = new Set(
    agents.filter((a) => a.proc.exitCode !== null || a.proc.signalCode !== null).map((a) => a.id),
  );
  const copies = UNITS.flatMap((u) =>
    overlaps(intervals(events, u).filter((iv) => !killed.has(iv.machine))),
  );
  expect(copies).toEqual([]);
});
