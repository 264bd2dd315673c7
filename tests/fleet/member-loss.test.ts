// etcd member loss: with one of three members killed, quorum (2 of 3) remains and
// scheduling must go on.
import { FleetService } from "../../fleet/api/service";
import { connect, Registry } from "../../fleet/registry/registry";
import { EtcdCluster } from "./etcd";
import { waitFor } from "../support/wait";
import { DEFAULT_TIMING } from "../../fleet/agent/config";
import { startAgent, stopAgent } from "./harness";

jest.setTimeout(90_000);

const etcd = new EtcdCluster();
let agents: Awaited<ReturnType<typeof startAgent>>[] = [];
let reg: Registry;

beforeAll(async () => {
  await etcd.start();
  agents = await Promise.all(
    [1, 2, 3].map((n) => startAgent(etcd.endpoints, n, {}, DEFAULT_TIMING)),
  );
  reg = new Registry(connect({ endpoints: etcd.endpoints }));
});

afterAll(async () => {
  await Promise.all(agents.map(stopAgent));
  reg?.client.close();
  await etcd.stop();
});

const sleepUnit = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
const runningOn = (u: string) =>
  agents.filter((a) => a.systemd.running().includes(u)).map((a) => a.id);

test("scheduling goes on after one etcd member is killed", async () => {
  const svc = new FleetService(reg);
  await svc.putUnit("before.service", { desiredState: "launched", options: sleepUnit });
  await waitFor("before placed", () => runningOn("before.service").length === 1);

  etcd.killMember(0);
  // Clients that used member 0 fail over to the others (the etcd3 client retries on another host).
  for (const u of ["after1.service", "after2.service", "after3.service"]) {
    await waitFor(
      `submit ${u}`,
      async () => {
        await svc.putUnit(u, { desiredState: "launched", options: sleepUnit });
        return true;
      },
      20_000,
      500,
    );
  }
  for (const u of ["after1.service", "after2.service", "after3.service"]) {
    await waitFor(`${u} placed with 2 of 3 members`, () => runningOn(u).length === 1, 30_000);
  }
  // with the default timings no agent had to fence: leases were renewed through the surviving members
  expect(agents.map((a) => a.agent.fences)).toEqual([0, 0, 0]);
  expect(runningOn("before.service")).toHaveLength(1);
});

test("an agent started while no etcd member answers keeps trying in its own process and registers once etcd is back", async () => {
  etcd.members.forEach((_, i) => etcd.killMember(i));
  const late = startAgent(etcd.endpoints, 9, {}, DEFAULT_TIMING);
  let registered = false;
  void late.then(() => (registered = true));
  // A few failed attempts (connection refused) must not end the agent's start.
  await new Promise((r) => setTimeout(r, 3000));
  expect(registered).toBe(false);
  etcd.members.forEach((_, i) => etcd.startMember(i));
  await etcd.waitHealthy(30_000);
  const a = await late;
  agents.push(a);
  const ids = (await new FleetService(reg).listMachines()).map((m) => m.id);
  expect(ids).toContain(a.id);
});
