// A service and its sidekick, as units/services.ts renders them: the sidekick BindsTo
// its service and is placed MachineOf it. systemd refuses to start a unit whose
// BindsTo= target is not loaded, and the schedule lists "www-sidekick" before "www";
// the recording adapter here refuses the same way (hostUnits), so the agent must load
// every unit before starting any. Found in the lab VMs: the sidekick's start failed
// forever and the service was never even loaded.
import { FleetService } from "../../fleet/api/service";
import { connect, Registry } from "../../fleet/registry/registry";
import { UnitOption } from "../../fleet/unit";
import { EtcdCluster } from "./etcd";
import { waitFor } from "../support/wait";
import { startAgent, stopAgent } from "./harness";

jest.setTimeout(90_000);

const etcd = new EtcdCluster();
let agent: Awaited<ReturnType<typeof startAgent>>;
let reg: Registry;
let svc: FleetService;

const unit = (entries: [string, string, string][]): UnitOption[] =>
  entries.map(([section, name, value]) => ({ section, name, value }));

beforeAll(async () => {
  await etcd.start(1);
  agent = await startAgent(etcd.endpoints, 1, {}, { hostUnits: ["docker.service"] });
  reg = new Registry(connect({ endpoints: etcd.endpoints }));
  svc = new FleetService(reg);
});

afterAll(async () => {
  await stopAgent(agent);
  reg?.client.close();
  await etcd.stop();
});

test("a sidekick bound to its service starts once both are loaded, whatever the name order", async () => {
  await svc.putUnit("www.service", {
    desiredState: "launched",
    options: unit([
      ["Unit", "Requires", "docker.service"],
      ["Service", "ExecStart", "/usr/bin/docker run --name=www nginx"],
    ]),
  });
  await svc.putUnit("www-sidekick.service", {
    desiredState: "launched",
    options: unit([
      ["Unit", "BindsTo", "www.service"],
      ["Unit", "After", "www.service"],
      ["Service", "ExecStart", "/usr/bin/docker run --name=www-sidekick sidekick"],
      ["X-Fleet", "MachineOf", "www.service"],
    ]),
  });
  await waitFor(
    "www.service and www-sidekick.service running",
    () => ["www.service", "www-sidekick.service"].every((u) => agent.systemd.running().includes(u)),
    20_000,
  );
});

test("a unit systemd refuses does not keep the machine's other units from starting", async () => {
  // Named to sort first: the old loop stopped at the first refusal.
  await svc.putUnit("aa-broken.service", {
    desiredState: "launched",
    options: unit([
      ["Unit", "BindsTo", "nowhere.service"],
      ["Service", "ExecStart", "/bin/true"],
    ]),
  });
  await svc.putUnit("zz-other.service", {
    desiredState: "launched",
    options: unit([["Service", "ExecStart", "/bin/sleep infinity"]]),
  });
  await waitFor(
    "zz-other.service running",
    () => agent.systemd.running().includes("zz-other.service"),
    20_000,
  );
  expect(agent.systemd.running()).not.toContain("aa-broken.service");
});
