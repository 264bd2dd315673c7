// npm run bench:failover — failover with every agent a real OS process running the
// bundle the nodes run (build/fleet-image/lib/fleet.js), on a real 3-member etcd, with
// the default timing (lease TTL 5 s):
//  - 20 SIGKILLs (every fourth the engine leader), each victim replaced afterwards so
//    the pool stays at 5 machines: the time from SIGKILL to each of the victim's units
//    started on another machine (recorded systemd, so the figure is fleet's alone),
//    and where it went, from etcd's own events watched by the benchmark: the victim's
//    lease gone (its machine key deleted), the unit placed on a survivor (its schedule
//    key), started there, and reported active (its state key, what list-units shows);
//  - two copies: whether a unit ever ran on two live machines at once (a killed
//    machine's units count as running until its SIGKILL, as on a dead node);
//  - the floor beside it, in the same run on the same etcd: a bare etcd lease of the
//    same TTL, renewed on the agent's period and then left at a random point of that
//    period, until etcd deletes its key (10 leases at once: they are independent, and
//    one at a time cost a minute). No failover can beat it without a shorter TTL;
//  - the agents' resident memory (VmRSS) once every unit runs;
//  - rebalancing (FLEET_REBALANCE, fleetlab:fleetRebalance): 3 machines, 6 units; one
//    killed, a new one joins, and the units that move back to it: each move's outage
//    (stopped on the old machine -> started on the new) and the time until balanced.
// Writes bench/results/failover.json and prints a table. npm test runs it too, in the
// fleet layer (tests/fleet/failover-bench.test.ts), which checks it ran to the end and
// never saw two copies, never its figures.
import { execFileSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { cpus, tmpdir } from "os";
import { join } from "path";
import { AGENT_NODE_FLAGS, DEFAULT_TIMING } from "../fleet/agent/config";
import { AGENT_ENV } from "../node/env";
import { keys, PREFIX } from "../fleet/registry/keys";
import { connect, Registry } from "../fleet/registry/registry";
import { spawnAgent, type AgentProcess } from "../tests/fleet/agent-process";
import { EtcdCluster } from "../tests/fleet/etcd";
import { intervals, overlaps, readEvents, submitSleepers } from "../tests/fleet/harness";
import { waitFor } from "../tests/support/wait";

const ROOT = join(__dirname, "..");
const BUNDLE = join(ROOT, "build", "fleet-image", "lib", "fleet.js");
const AGENTS = 5;
const UNITS = Array.from({ length: 10 }, (_, i) => `fo-${i + 1}.service`);
const KILLS = 20;
const FLOOR_SAMPLES = 10;
const REBALANCE_ROUNDS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (n: number) => Math.round(n);

/** The p-quantile (nearest rank) of `xs`. */
function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : NaN;
}

/**
 * etcd alone doing what a dead agent's lease does: renewed every renewMs, then left
 * at a random point of the period; the time until etcd deletes the key it carried.
 */
async function leaseFloor(reg: Registry, i: number): Promise<number> {
  const key = `/fleetlab/bench/floor-${i}`;
  const lease = reg.client.lease(DEFAULT_TIMING.leaseTTL, { autoKeepAlive: false });
  await lease.put(key).value("x");
  for (let r = 0; r < 2; r++) {
    await sleep(DEFAULT_TIMING.renewMs);
    await lease.keepaliveOnce();
  }
  await sleep(Math.random() * DEFAULT_TIMING.renewMs);
  const watcher = await reg.client.watch().key(key).create();
  const t0 = Date.now();
  const gone = new Promise<number>((resolve) => watcher.once("delete", () => resolve(Date.now())));
  const t1 = await Promise.race([gone, sleep(60_000).then(() => NaN)]);
  await watcher.cancel();
  if (Number.isNaN(t1)) throw new Error(`etcd did not expire lease ${i} within 60 s`);
  return t1 - t0;
}

/** etcd's changes under the engine's prefix, as the benchmark saw them arrive. */
interface EtcdEvent {
  t: number;
  op: "put" | "delete";
  key: string;
  value: string;
}

async function recordEtcd(reg: Registry, into: EtcdEvent[]) {
  const w = await reg.client.watch().prefix(PREFIX).create();
  const push = (op: EtcdEvent["op"]) => (kv: { key: Buffer; value: Buffer }) =>
    into.push({ t: Date.now(), op, key: kv.key.toString(), value: kv.value.toString() });
  w.on("put", push("put"));
  w.on("delete", push("delete"));
  return w;
}

/**
 * One kill's steps, as ms after the SIGKILL, from etcd's events: the victim's machine key
 * deleted (its lease expired), then per unit its placement on a survivor and its state
 * reported active there; undefined while one has not happened yet.
 */
function stepsAfterKill(ev: EtcdEvent[], t0: number, victim: string, units: string[]) {
  const after = ev.filter((e) => e.t >= t0);
  const leaseGone = after.find((e) => e.op === "delete" && e.key === keys.machine(victim))?.t;
  const placed = units.map(
    (u) =>
      after.find(
        (e) =>
          e.op === "put" &&
          e.key.startsWith(keys.schedulePrefix) &&
          e.key.endsWith(`/${u}`) &&
          !e.key.startsWith(keys.machineSchedulePrefix(victim)),
      )?.t,
  );
  const active = units.map(
    (u) =>
      after.find(
        (e) =>
          e.op === "put" &&
          e.key.startsWith(`${keys.statePrefix}${u}/`) &&
          e.key !== keys.state(u, victim) &&
          (JSON.parse(e.value) as { systemdActiveState?: string }).systemdActiveState === "active",
      )?.t,
  );
  const rel = (t: number | undefined) => (t === undefined ? undefined : t - t0);
  return { leaseGone: rel(leaseGone), placed: placed.map(rel), active: active.map(rel) };
}

/** Instants a unit ran on two machines at once; a killed machine's units end at its kill. */
function twoCopies(logFile: string, units: string[], deaths: Map<string, number>): string[] {
  const events = readEvents(logFile);
  return units.flatMap((u) =>
    overlaps(
      intervals(events, u).map((iv) =>
        deaths.has(iv.machine) ? { ...iv, to: Math.min(iv.to, deaths.get(iv.machine)!) } : iv,
      ),
    ),
  );
}

/**
 * 3 agents that rebalance, 6 units: per round one agent is SIGKILLed (its units go to
 * the two others), a new one joins and gets work back. Returns each move's outage.
 */
async function rebalancing(etcd: EtcdCluster, dir: string) {
  const logFile = join(dir, "rebalance.jsonl");
  const reg = new Registry(connect({ endpoints: etcd.endpoints }));
  await reg.client.delete().prefix("/fleetlab/fleet/").exec();
  let next = 101;
  const spawn = () =>
    spawnAgent(next++, dir, etcd.endpoints, {
      logFile,
      timing: DEFAULT_TIMING,
      entry: [...AGENT_NODE_FLAGS, BUNDLE],
      env: { [AGENT_ENV.rebalance]: "true" },
    });
  let live = [spawn(), spawn(), spawn()];
  const units = Array.from({ length: 6 }, (_, i) => `rb-${i + 1}.service`);
  const balanced = async () => {
    const sched = await reg.listSchedule();
    const states = await reg.listStates();
    return live.every(
      (a) =>
        sched.filter((p) => p.machineID === a.id).length === 2 &&
        states.filter((st) => st.machineID === a.id && st.systemdActiveState === "active")
          .length === 2,
    );
  };
  try {
    await waitFor("3 machines", async () => (await reg.listMachines()).length === 3, 60_000, 250);
    await submitSleepers(reg, units);
    await waitFor("2 units a machine", balanced, 60_000, 100);
    const moves: number[] = [];
    const toBalanced: number[] = [];
    const deaths = new Map<string, number>();
    for (let r = 0; r < REBALANCE_ROUNDS; r++) {
      const victim = live[0];
      deaths.set(victim.id, Date.now());
      await victim.kill("SIGKILL");
      live = live.slice(1);
      await waitFor(
        "the victim's units on the survivors",
        async () => {
          const sched = await reg.listSchedule();
          return units.every((u) => sched.some((p) => p.unit === u && p.machineID !== victim.id));
        },
        60_000,
        100,
      );
      const joined = spawn();
      live.push(joined);
      const t0 = Date.now();
      await waitFor(`round ${r + 1}: balanced again`, balanced, 120_000, 50);
      toBalanced.push(Date.now() - t0);
      // Each unit that came to the new machine: stopped on its old one, started here.
      const ev = readEvents(logFile).filter((e) => e.t >= t0);
      for (const start of ev.filter((e) => e.event === "start" && e.machine === joined.id)) {
        const stop = ev.find((e) => e.event === "stop" && e.unit === start.unit && e.t <= start.t);
        if (stop) moves.push(start.t - stop.t);
      }
      process.stderr.write(
        `rebalance round ${r + 1}: balanced ${Date.now() - t0} ms after the join\n`,
      );
    }
    return { moves, toBalanced, twoCopies: twoCopies(logFile, units, deaths) };
  } finally {
    await Promise.all(live.map((a) => a.kill("SIGKILL")));
    reg.client.close();
  }
}

async function main(): Promise<void> {
  // The bundle of this checkout's fleet/, as the nodes get it (rebuilt only when changed).
  execFileSync("bash", [join(ROOT, "fleet", "build-image.sh")], { stdio: ["ignore", 2, 2] });
  if (!existsSync(BUNDLE)) throw new Error(`fleet/build-image.sh did not write ${BUNDLE}`);
  const etcd = new EtcdCluster();
  const dir = mkdtempSync(join(tmpdir(), "flt-bench-failover-"));
  const logFile = join(dir, "events.jsonl");
  let live: AgentProcess[] = [];
  let next = 1;
  const spawn = () =>
    spawnAgent(next++, dir, etcd.endpoints, {
      logFile,
      timing: DEFAULT_TIMING,
      entry: [...AGENT_NODE_FLAGS, BUNDLE],
    });
  await etcd.start();
  const reg = new Registry(connect({ endpoints: etcd.endpoints }));
  try {
    const machines = async () => (await reg.listMachines()).length;
    live = Array.from({ length: AGENTS }, spawn);
    await waitFor(`${AGENTS} machines`, async () => (await machines()) === AGENTS, 60_000, 250);
    await submitSleepers(reg, UNITS);
    await waitFor(
      "every unit active",
      async () =>
        (await reg.listStates()).filter((s) => s.systemdActiveState === "active").length ===
        UNITS.length,
      60_000,
      250,
    );
    const rss = live.map((a) => rssMiB(a.proc.pid!));

    const deaths = new Map<string, number>();
    const samples: {
      kill: number;
      leader: boolean;
      units: number;
      ms: number[];
      steps: ReturnType<typeof stepsAfterKill>;
    }[] = [];
    const etcdEvents: EtcdEvent[] = [];
    const watcher = await recordEtcd(reg, etcdEvents);
    for (let k = 0; k < KILLS; k++) {
      const leader = await reg.leader();
      const sched = await reg.listSchedule();
      const holders = live.filter((a) => sched.some((p) => p.machineID === a.id));
      const victim =
        k % 4 === 3
          ? live.find((a) => a.id === leader)!
          : (holders.find((a) => a.id !== leader) ?? holders[0]);
      const mine = sched.filter((p) => p.machineID === victim.id).map((p) => p.unit);
      const t0 = Date.now();
      await victim.kill("SIGKILL");
      deaths.set(victim.id, t0);
      live = live.filter((a) => a !== victim);
      const started = await waitFor(
        `kill ${k + 1}: ${mine.join(", ")} started elsewhere`,
        () => {
          const ev = readEvents(logFile).filter(
            (e) => e.t >= t0 && e.event === "start" && e.machine !== victim.id,
          );
          const ts = mine.map((u) => ev.find((e) => e.unit === u)?.t);
          return ts.every((t) => t !== undefined) && (ts as number[]);
        },
        60_000,
        20,
      );
      const steps = await waitFor(
        `kill ${k + 1}: ${mine.join(", ")} reported active elsewhere`,
        () => {
          const st = stepsAfterKill(etcdEvents, t0, victim.id, mine);
          return [st.leaseGone, ...st.placed, ...st.active].every((x) => x !== undefined) && st;
        },
        60_000,
        20,
      );
      samples.push({
        kill: k + 1,
        leader: victim.id === leader,
        units: mine.length,
        ms: started.map((t) => t - t0),
        steps,
      });
      process.stderr.write(
        `kill ${k + 1}/${KILLS}${victim.id === leader ? " (leader)" : ""}: ${mine.length} units, last started after ${ms(Math.max(0, ...started.map((t) => t - t0)))} ms\n`,
      );
      live.push(spawn());
      await waitFor(
        "the replacement registered",
        async () => (await machines()) === AGENTS,
        60_000,
        250,
      );
    }

    await watcher.cancel();
    const copies = twoCopies(logFile, UNITS, deaths);
    await Promise.all(live.map((a) => a.kill("SIGKILL")));
    live = [];
    const floors = await Promise.all(
      Array.from({ length: FLOOR_SAMPLES }, (_, i) => leaseFloor(reg, i)),
    );
    process.stderr.write(
      "rebalancing: 3 machines, 6 units, one killed and one joining a round...\n",
    );
    const rb = await rebalancing(etcd, dir);

    const perKill = samples.map((s) => Math.max(...s.ms));
    const perUnit = samples.flatMap((s) => s.ms);
    // Per unit moved: each step after the kill, and what each part of the engine added.
    const moved = samples.flatMap((s) =>
      s.ms.map((started, i) => ({
        leaseGone: s.steps.leaseGone!,
        placed: s.steps.placed[i]!,
        started,
        active: s.steps.active[i]!,
      })),
    );
    const figure = (xs: number[]) => ({
      medianMs: ms(quantile(xs, 0.5)),
      p95Ms: ms(quantile(xs, 0.95)),
      maxMs: ms(Math.max(...xs)),
    });
    const result = {
      date: new Date().toISOString(),
      etcd: "3-member etcd on 127.0.0.1",
      agent: `node ${process.version} ${AGENT_NODE_FLAGS.join(" ")} running build/fleet-image/lib/fleet.js (the nodes' bundle and flags), recorded systemd`,
      cpus: cpus().length,
      timing: DEFAULT_TIMING,
      machines: AGENTS,
      units: UNITS.length,
      kills: KILLS,
      killToAllStartedElsewhere: figure(perKill),
      killToEachStartedElsewhere: figure(perUnit),
      killToEachReportedActive: figure(moved.map((m) => m.active)),
      steps: {
        killToLeaseGone: figure(moved.map((m) => m.leaseGone)),
        leaseGoneToPlaced: figure(moved.map((m) => m.placed - m.leaseGone)),
        placedToStarted: figure(moved.map((m) => m.started - m.placed)),
        startedToReportedActive: figure(moved.map((m) => m.active - m.started)),
      },
      floorLeaseExpiry: figure(floors),
      overheadMedianMs: ms(quantile(perKill, 0.5) - quantile(floors, 0.5)),
      twoCopies: copies,
      rebalance: {
        rounds: REBALANCE_ROUNDS,
        moveOutage: figure(rb.moves),
        joinToBalanced: figure(rb.toBalanced),
        twoCopies: rb.twoCopies,
      },
      agentRssMiB: { median: quantile(rss, 0.5), max: Math.max(...rss), each: rss },
      samples,
    };
    const out = join(__dirname, "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "failover.json"), JSON.stringify(result, null, 2) + "\n");
    const row = (what: string, f: ReturnType<typeof figure>) => ({
      what,
      "median (ms)": f.medianMs,
      "p95 (ms)": f.p95Ms,
      "max (ms)": f.maxMs,
    });
    console.table([
      row(
        `SIGKILL -> all its units started elsewhere (${KILLS} kills)`,
        result.killToAllStartedElsewhere,
      ),
      row("SIGKILL -> each unit started elsewhere", result.killToEachStartedElsewhere),
      row("SIGKILL -> each reported active (list-units)", result.killToEachReportedActive),
      row("  step: SIGKILL -> its lease gone (machine key deleted)", result.steps.killToLeaseGone),
      row("  step: lease gone -> placed on a survivor (engine)", result.steps.leaseGoneToPlaced),
      row("  step: placed -> started there (agent)", result.steps.placedToStarted),
      row("  step: started -> reported active (agent)", result.steps.startedToReportedActive),
      row(
        `floor: bare etcd lease expiry, TTL ${DEFAULT_TIMING.leaseTTL} s`,
        result.floorLeaseExpiry,
      ),
      row(
        `rebalance: a move's outage (stop -> start), ${rb.moves.length} moves`,
        result.rebalance.moveOutage,
      ),
      row("rebalance: a machine joins -> balanced again", result.rebalance.joinToBalanced),
    ]);
    console.table([
      {
        "overhead over the floor, median (ms)": result.overheadMedianMs,
        "instants with two copies": copies.length + rb.twoCopies.length,
        "agent RSS median / max (MiB)": `${result.agentRssMiB.median} / ${result.agentRssMiB.max}`,
      },
    ]);
    console.log("written bench/results/failover.json");
  } finally {
    await Promise.all(live.map((a) => a.kill("SIGKILL")));
    reg.client.close();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
