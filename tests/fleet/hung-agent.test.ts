// Fencing a hung agent on the real systemd path: the bundled agent runs as a systemd
// unit (systemd as PID 1 in a container) under the host-side watcher
// (fleet/agent/watchdog.ts), as Ignition renders it on a node (there the agent is a
// `docker run` under the watcher). The agent, which is also the engine leader, is
// frozen with SIGSTOP for twice the lease TTL while it runs a unit; once the deadline
// the agent wrote passes, the watcher stops the units bound to the agent's unit, by
// when the agent would have fenced itself (TTL - margin after its last renewal). From
// systemd's own timestamps: the unit stopped while the agent's lease was still alive,
// so before any other machine could be given it, and before machine 2 started it;
// at no sample was it placed twice. A lease TTL later the watcher finds the agent
// hung and kills it; systemd restarts it, and it registers again, stays a follower,
// and runs what it is given.
import { readFileSync } from "fs";
import { join } from "path";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { FleetService } from "../../fleet/api/service";
import { DEFAULT_TIMING } from "../../fleet/agent/config";
import { watcherCommand, watchdogScript } from "../../fleet/agent/watchdog";
import { connect, Registry } from "../../fleet/registry/registry";
import { EtcdCluster } from "./etcd";
import { waitFor } from "../support/wait";
import { intervals, machineID, readEvents, startAgent, stopAgent } from "./harness";
import { startSystemdContainer, SystemdContainer, unitEvents } from "./systemd-container";

jest.setTimeout(180_000);

const TTL_MS = DEFAULT_TIMING.leaseTTL * 1000;
const etcd = new EtcdCluster();
const dir = mkdtempSync(join(tmpdir(), "fleet-hung-"));
const logFile = join(dir, "events.jsonl");
let box: SystemdContainer | undefined;
let reg: Registry;
let other: Awaited<ReturnType<typeof startAgent>> | undefined;
const inside = (...cmd: string[]) => box!.inside(...cmd);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exec = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];

/** PID of the agent's node process inside the container (the watcher is its parent). */
const agentPid = () =>
  inside(
    "sh",
    "-c",
    'for d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = node ] && grep -q fleet.js $d/cmdline && echo ${d#/proc/}; done',
  );

beforeAll(async () => {
  await etcd.start();
  reg = new Registry(connect({ endpoints: etcd.endpoints }));
  box = await startSystemdContainer("fleet-hung-test");
  inside("sh", "-c", `echo ${machineID(7)} > /etc/fleet-machine-id`);
  box.write("/usr/local/bin/fleet-watchdog", watchdogScript(), "755");
  const env = {
    FLEET_ETCD_ENDPOINTS: etcd.endpoints.join(","),
    FLEET_MACHINE_ID_FILE: "/etc/fleet-machine-id",
    FLEET_PUBLIC_IP: "127.0.0.8",
    FLEET_BINDS_TO: "fleet-agent.service",
    FLEET_HEARTBEAT_FILE: "/run/fleet/heartbeat",
  };
  // The unit's service settings as infra/ignition/fleet.ts renders them, except a
  // RestartSec above the TTL, so the restarted agent comes back only after its old
  // lease expired and the takeover by machine 2 can be observed.
  inside(
    "systemd-run",
    "--unit=fleet-agent",
    "--no-block",
    "-p",
    "Restart=always",
    "-p",
    `RestartSec=${TTL_MS + 1500}ms`,
    ...Object.entries(env).map(([k, v]) => `--setenv=${k}=${v}`),
    ...watcherCommand(
      "/usr/local/bin/fleet-watchdog",
      env.FLEET_HEARTBEAT_FILE,
      DEFAULT_TIMING,
      "fleet-agent.service",
      ["/usr/bin/node", "/usr/lib/fleet/lib/fleet.js", "agent"],
    ),
  );
  await waitFor("agent 7 leads", async () => (await reg.leader()) === machineID(7), 30_000, 250);
});

afterAll(async () => {
  if (box) {
    if (process.env.FLEET_TEST_LOG)
      console.log(inside("journalctl", "-u", "fleet-agent", "--no-pager"));
    box.remove();
  }
  if (other) await stopAgent(other);
  reg?.client.close();
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The watcher's deadline, or undefined while the agent is unarmed (no heartbeat file). */
const heartbeat = (): number | undefined => {
  const text = inside("sh", "-c", "cat /run/fleet/heartbeat 2>/dev/null || true");
  return text === "" ? undefined : Number(text);
};

test("an agent that runs nothing is not held to a deadline; one that runs a unit is", async () => {
  // Registered and leading, but nothing placed here: no heartbeat, so a slow
  // registration or renewal cannot get an agent killed that has nothing to fence.
  expect(heartbeat()).toBeUndefined();
  await new FleetService(reg).putUnit("victim.service", {
    desiredState: "launched",
    options: exec,
  });
  await waitFor(
    "victim running on 7",
    () => inside("systemctl", "is-active", "victim.service") === "active",
    30_000,
    250,
  );
  const deadline = heartbeat();
  expect(deadline).toBeGreaterThan(0);
  // the deadline moves with the renewals
  await waitFor("a later deadline", () => (heartbeat() ?? 0) > deadline!, 10_000, 100);
});

test("a frozen agent and engine leader: its unit stops before its lease expires, nothing runs twice", async () => {
  // A healthy agent is left alone by its watcher: several renewals of calm.
  await sleep(DEFAULT_TIMING.renewMs * 3);
  expect(inside("systemctl", "show", "-p", "NRestarts", "--value", "fleet-agent")).toBe("0");
  expect(inside("journalctl", "-u", "fleet-agent", "--no-pager")).not.toMatch(
    /fleet-watchdog: the agent/,
  );
  other = await startAgent(etcd.endpoints, 2, {}, { logFile });
  const oldLease = (await reg.listMachinesWithLease()).find((m) => m.id === machineID(7))!.lease;

  const pid = agentPid();
  expect(pid).toMatch(/^\d+$/);
  // the shell's kill: the image has no kill binary
  inside("sh", "-c", `kill -STOP ${pid}`);
  const frozenAt = Date.now();
  // Sample until 2 x TTL: when the old lease was last seen alive, and how many
  // placements the unit had (bounded loop, 50 ms apart).
  let aliveUntil = 0;
  let maxPlacements = 0;
  while (Date.now() - frozenAt < 2 * TTL_MS) {
    const [ttl, sched] = await Promise.all([
      reg.client.leaseClient.leaseTimeToLive({ ID: oldLease }),
      reg.listSchedule(),
    ]);
    // etcd answers TTL -1 once the lease has expired (0 while under a second remains)
    if (Number(ttl.TTL) >= 0) aliveUntil = Date.now();
    maxPlacements = Math.max(
      maxPlacements,
      sched.filter((p) => p.unit === "victim.service").length,
    );
    await sleep(50);
  }
  inside("sh", "-c", `kill -CONT ${pid} 2>/dev/null || true`); // it is gone if systemd killed it

  const startedOn2 = intervals(readEvents(logFile), "victim.service").find(
    (i) => i.machine === machineID(2),
  );
  const stoppedAt = unitEvents(box!, "victim.service", "Stopped").find((t) => t > frozenAt);
  if (stoppedAt === undefined) throw new Error("victim.service never stopped on machine 7");
  expect(stoppedAt).toBeGreaterThan(frozenAt);
  // stopped while the old lease still lived: nobody else could have been given it yet
  expect(stoppedAt).toBeLessThan(aliveUntil);
  expect(startedOn2).toBeDefined();
  expect(stoppedAt).toBeLessThan(startedOn2!.from);
  expect(maxPlacements).toBe(1);
  expect(inside("journalctl", "-u", "fleet-agent", "--no-pager")).toMatch(
    /fleet-watchdog: the agent missed its deadline: stopping the units bound to fleet-agent.service: victim.service/,
  );
  // the frozen leader lost the lead with its lease; machine 2's engine took over
  expect(await reg.leader()).toBe(machineID(2));
  console.log(
    `frozen at 0 ms: unit stopped at +${Math.round(stoppedAt - frozenAt)} ms, old lease last alive at +${aliveUntil - frozenAt} ms, machine 2 started it at +${Math.round(startedOn2!.from - frozenAt)} ms`,
  );
});

test("found hung and restarted by systemd, the agent registers again, follows, and runs what it is given", async () => {
  const svc = new FleetService(reg);
  await waitFor(
    "the watcher killed the hung agent and systemd restarted it",
    () => inside("systemctl", "show", "-p", "NRestarts", "--value", "fleet-agent") === "1",
    30_000,
    250,
  );
  expect(inside("journalctl", "-u", "fleet-agent", "--no-pager")).toMatch(/it is hung, killing it/);
  await waitFor(
    "agent 7 registered again",
    async () => (await reg.listMachines()).some((m) => m.id === machineID(7)),
    30_000,
    250,
  );
  await svc.putUnit("back.service", {
    desiredState: "launched",
    options: [...exec, { section: "X-Fleet", name: "MachineID", value: machineID(7) }],
  });
  await waitFor(
    "back running on 7",
    () => inside("systemctl", "is-active", "back.service") === "active",
    30_000,
    250,
  );
  // the old leader, back, does not lead and moves nothing: victim stays on machine 2
  expect(await reg.leader()).toBe(machineID(2));
  const victim = (await reg.listSchedule()).filter((p) => p.unit === "victim.service");
  expect(victim.map((p) => p.machineID)).toEqual([machineID(2)]);
  expect(inside("systemctl", "is-active", "victim.service")).not.toBe("active");
  expect(readFileSync(logFile, "utf8")).not.toMatch(/"machine":"07/);
});
