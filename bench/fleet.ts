// npm run bench:fleet — the engine against a real 3-member etcd with simulated
// agents (real Agent/Engine code, recording systemd adapter, one process):
//  1. placement: 1,000 units on 50 machines and 5,000 on 100 machines — time from
//     engine start to all placed and to all reported running; etcd requests per
//     placement (counted in the registry layer);
//  2. failover: 20 kills (the killed agent stops renewing, like a dead machine) —
//     time from kill to all its units running elsewhere; median and p95.
// Writes bench/results/fleet.json and prints a table. Not part of npm test.
import { Etcd3 } from "etcd3";
import { mkdirSync, writeFileSync } from "fs";
import { cpus } from "os";
import { join } from "path";
import { Agent } from "../fleet/agent/agent";
import { DEFAULT_TIMING } from "../fleet/agent/config";
import { RecordingSystemd } from "../fleet/agent/systemd";
import { Engine } from "../fleet/engine/engine";
import { Registry } from "../fleet/registry/registry";
import { checkUnit } from "../fleet/unit";
import { EtcdCluster } from "../tests/fleet/etcd";
import { waitFor } from "../tests/support/wait";

const timing = { ...DEFAULT_TIMING, reconcileMs: 1000 };
const id = (n: number) => n.toString(16).padStart(32, "0");
const sleepUnit = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];

interface Sim {
  agent: Agent;
  systemd: RecordingSystemd;
  reg: Registry;
}

async function startSims(
  client: Etcd3,
  from: number,
  count: number,
  engine: boolean,
): Promise<Sim[]> {
  const sims: Sim[] = [];
  for (let n = from; n < from + count; n++) {
    const reg = new Registry(client);
    const systemd = new RecordingSystemd(id(n));
    const agent = new Agent(reg, systemd, {
      machineID: id(n),
      publicIP: `127.0.1.${n % 250}`,
      metadata: { rack: `r${n % 4}` },
      ...timing,
      engine,
    });
    await agent.start();
    sims.push({ agent, systemd, reg });
  }
  return sims;
}

async function placement(etcd: EtcdCluster, units: number, machines: number) {
  const client = new Etcd3({ hosts: etcd.endpoints });
  const setup = new Registry(client);
  await client.delete().prefix("/fleetlab/").exec();
  const sims = await startSims(client, 1, machines, false);
  // Submit first, with no engine running, so we time placement alone.
  const t0 = Date.now();
  for (let i = 0; i < units; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, units - i) }, (_, k) => {
        const { unit, xfleet } = checkUnit(`svc-${i + k}.service`, sleepUnit, "launched");
        return setup.createUnit(unit, xfleet);
      }),
    );
  }
  const submitS = (Date.now() - t0) / 1000;
  const engineReg = new Registry(client);
  const leaseID = await client.lease(60).grant();
  const engine = new Engine(engineReg, "bench-engine", () => leaseID, {
    reconcileMs: 1000,
    debounceMs: 50,
  });
  const agentReqs0 = sims.reduce((s, x) => s + x.reg.requests, 0);
  const start = Date.now();
  await engine.start();
  await waitFor(
    "all placed",
    async () => (await setup.listSchedule()).length === units,
    600_000,
    100,
  );
  const placedS = (Date.now() - start) / 1000;
  const engineRequests = engineReg.requests;
  await waitFor(
    "all running",
    () => sims.reduce((s, x) => s + x.systemd.running().length, 0) === units,
    600_000,
    200,
  );
  const runningS = (Date.now() - start) / 1000;
  const agentRequests = sims.reduce((s, x) => s + x.reg.requests, 0) - agentReqs0;
  const perMachine = sims.map((s) => s.systemd.running().length);
  await engine.stop();
  await Promise.all(sims.map((s) => s.agent.stop({ revoke: true })));
  client.close();
  return {
    units,
    machines,
    submitSeconds: submitS,
    secondsToAllPlaced: placedS,
    secondsToAllRunning: runningS,
    engineEtcdRequests: engineRequests,
    engineRequestsPerPlacement: +(engineRequests / units).toFixed(4),
    agentEtcdRequestsPerUnit: +(agentRequests / units).toFixed(2),
    unitsPerMachineMinMax: [Math.min(...perMachine), Math.max(...perMachine)],
  };
}

async function failover(etcd: EtcdCluster, kills: number) {
  const client = new Etcd3({ hosts: etcd.endpoints });
  await client.delete().prefix("/fleetlab/").exec();
  const setup = new Registry(client);
  let sims = await startSims(client, 1000, 8, true);
  for (let i = 0; i < 40; i++) {
    const { unit, xfleet } = checkUnit(`fo-${i}.service`, sleepUnit, "launched");
    await setup.createUnit(unit, xfleet);
  }
  const running = () => sims.flatMap((s) => s.systemd.running());
  await waitFor("40 running", () => running().length === 40, 60_000);
  const samples: Array<{ seconds: number; units: number; leader: boolean }> = [];
  let next = 2000;
  for (let k = 0; k < kills; k++) {
    const leader = await setup.leader();
    // every fourth kill takes out the engine leader
    const victim = sims.find((s) =>
      k % 4 === 3
        ? s.agent.opts.machineID === leader
        : s.agent.opts.machineID !== leader && s.systemd.running().length > 0,
    )!;
    const moved = victim.systemd.running();
    const t0 = Date.now();
    // A dead machine: no renewals, no engine, its units gone with it.
    await victim.agent.stop();
    moved.forEach((u) => void victim.systemd.stop(u));
    sims = sims.filter((s) => s !== victim);
    await waitFor(
      `kill ${k}: units back`,
      () => running().length === 40 && moved.every((u) => running().includes(u)),
      60_000,
      50,
    );
    samples.push({
      seconds: (Date.now() - t0) / 1000,
      units: moved.length,
      leader: victim.agent.opts.machineID === leader,
    });
    // replace the machine so the pool stays at 8
    sims.push(...(await startSims(client, next++, 1, true)));
  }
  await Promise.all(sims.map((s) => s.agent.stop({ revoke: true })));
  client.close();
  const sorted = samples.map((s) => s.seconds).sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  return {
    kills,
    machines: 8,
    units: 40,
    timing,
    medianSeconds: q(0.5),
    p95Seconds: q(0.95),
    maxSeconds: sorted[sorted.length - 1],
    samples,
  };
}

async function main(): Promise<void> {
  const etcd = new EtcdCluster();
  await etcd.start();
  try {
    const placements = [];
    for (const [u, m] of [
      [1000, 50],
      [5000, 100],
    ]) {
      process.stderr.write(`placement: ${u} units on ${m} machines...\n`);
      placements.push(await placement(etcd, u, m));
    }
    process.stderr.write("failover: 20 kills...\n");
    const fo = await failover(etcd, 20);
    const result = {
      date: new Date().toISOString(),
      etcd: "3-member etcd 3.4 on 127.0.0.1",
      cpus: cpus().length,
      placements,
      failover: fo,
    };
    const out = join(__dirname, "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "fleet.json"), JSON.stringify(result, null, 2) + "\n");
    console.table(
      placements.map((p) => ({
        units: p.units,
        machines: p.machines,
        "to all placed (s)": p.secondsToAllPlaced,
        "to all running (s)": p.secondsToAllRunning,
        "engine etcd req/placement": p.engineRequestsPerPlacement,
        "agent etcd req/unit": p.agentEtcdRequestsPerUnit,
        "units/machine min-max": p.unitsPerMachineMinMax.join("-"),
      })),
    );
    console.table([
      {
        kills: fo.kills,
        "median (s)": fo.medianSeconds,
        "p95 (s)": fo.p95Seconds,
        "max (s)": fo.maxSeconds,
        "lease TTL (s)": timing.leaseTTL,
      },
    ]);
    console.log("written bench/results/fleet.json");
  } finally {
    await etcd.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
