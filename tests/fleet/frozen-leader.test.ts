// A frozen engine leader, without systemd's watchdog (agents as OS processes with the
// recording adapter): SIGSTOP the leader for twice the lease TTL, then SIGCONT. While
// it is frozen, machine 2's engine takes over once the lease expires; no unit ever has
// two placements; on resume the old leader neither leads nor starts anything (past its
// fencing deadline it counts as fenced), it stops what it still had, registers under a
// new lease and runs what it is given. (That its units keep running during the freeze
// is what the watchdog on a real node prevents: tests/fleet/hung-agent.test.ts.)
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { DEFAULT_TIMING } from "../../fleet/agent/config";
import { FleetService } from "../../fleet/api/service";
import { connect, Registry } from "../../fleet/registry/registry";
import { spawnAgent, AgentProcess } from "./agent-process";
import { EtcdCluster } from "./etcd";
import { waitFor } from "../support/wait";
import { machineID, readEvents } from "./harness";

jest.setTimeout(120_000);

const TTL_MS = DEFAULT_TIMING.leaseTTL * 1000;
const etcd = new EtcdCluster();
const dir = mkdtempSync(join(tmpdir(), "fleet-frozen-"));
const logFile = join(dir, "events.jsonl");
let agents: AgentProcess[] = [];
let reg: Registry;
const exec = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await etcd.start();
  reg = new Registry(connect({ endpoints: etcd.endpoints }));
  agents = [spawnAgent(1, dir, etcd.endpoints, { logFile, timing: DEFAULT_TIMING })];
  await waitFor("agent 1 leads", async () => (await reg.leader()) === machineID(1), 60_000, 250);
  agents.push(spawnAgent(2, dir, etcd.endpoints, { logFile, timing: DEFAULT_TIMING }));
  await waitFor("2 machines", async () => (await reg.listMachines()).length === 2, 60_000, 250);
});

afterAll(async () => {
  for (const a of agents) {
    a.proc.kill("SIGCONT");
    await a.kill();
  }
  reg?.client.close();
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a frozen engine leader: nothing placed twice, and it does nothing when it resumes", async () => {
  const svc = new FleetService(reg);
  const units = ["f1.service", "f2.service", "f3.service", "f4.service"];
  for (const u of units) await svc.putUnit(u, { desiredState: "launched", options: exec });
  await waitFor(
    "all running",
    async () =>
      (await reg.listStates()).filter((s) => s.systemdActiveState === "active").length === 4,
    30_000,
  );
  // What the leader's machine runs when it freezes: what it must stop on resume.
  const onLeader = (await reg.listStates())
    .filter((s) => s.machineID === machineID(1) && s.systemdActiveState === "active")
    .map((s) => s.name)
    .sort();
  expect(onLeader.length).toBeGreaterThan(0);
  const [leader] = agents;
  leader.proc.kill("SIGSTOP");
  const frozenAt = Date.now();
  let maxPlacements = 0;
  let resumedAt = 0;
  const leaders = new Set<string>();
  // Bounded: 2 x TTL frozen, then 2 x TTL after SIGCONT, sampled every 100 ms.
  while (Date.now() - frozenAt < 4 * TTL_MS) {
    if (!resumedAt && Date.now() - frozenAt >= 2 * TTL_MS) {
      // Taken before SIGCONT: the resumed agent may fence (and record its stops) before
      // this process runs again, and nothing of a stopped process happens before it.
      resumedAt = Date.now();
      leader.proc.kill("SIGCONT");
    }
    const sched = await reg.listSchedule();
    for (const u of units)
      maxPlacements = Math.max(maxPlacements, sched.filter((p) => p.unit === u).length);
    if (resumedAt) leaders.add((await reg.leader()) ?? "");
    await sleep(100);
  }
  expect(maxPlacements).toBe(1);
  // after SIGCONT the old leader never led again
  expect([...leaders]).toEqual([machineID(2)]);
  // ... started nothing, and stopped what its systemd still ran
  const after = readEvents(logFile).filter((e) => e.machine === machineID(1) && e.t >= resumedAt);
  expect(after.filter((e) => e.event === "start")).toEqual([]);
  expect([...new Set(after.filter((e) => e.event === "stop").map((e) => e.unit))].sort()).toEqual(
    onLeader,
  );
  // every unit runs on machine 2 now
  const states = await reg.listStates();
  for (const u of units)
    expect(states.filter((s) => s.name === u && s.systemdActiveState === "active")).toEqual([
      expect.objectContaining({ machineID: machineID(2) }),
    ]);

  // registered again under a new lease, it runs what it is given
  await waitFor(
    "agent 1 back",
    async () => (await reg.listMachines()).some((m) => m.id === machineID(1)),
    30_000,
    250,
  );
  await svc.putUnit("mine.service", {
    desiredState: "launched",
    options: [...exec, { section: "X-Fleet", name: "MachineID", value: machineID(1) }],
  });
  await waitFor(
    "mine.service started on machine 1",
    () =>
      readEvents(logFile).some(
        (e) => e.unit === "mine.service" && e.machine === machineID(1) && e.event === "start",
      ),
    30_000,
    250,
  );
});
