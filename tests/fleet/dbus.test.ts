// The real D-Bus path: the bundled agent (the production image plus systemd + dbus)
// runs inside a container whose PID 1 is systemd and drives it over D-Bus with
// dbus-next, against a real etcd on 127.0.0.1 (--net=host, loopback only).
// Needs dockerd and the images from scripts/setup.d/45-fleet-image.sh.
import { FleetService } from "../../fleet/api/service";
import { connect, Registry } from "../../fleet/registry/registry";
import { EtcdCluster } from "./etcd";
import { waitFor } from "../support/wait";
import { machineID } from "./harness";
import { startSystemdContainer, SystemdContainer } from "./systemd-container";

jest.setTimeout(180_000);

const etcd = new EtcdCluster();
let box: SystemdContainer | undefined;
let reg: Registry;
const inside = (...cmd: string[]) => box!.inside(...cmd);
/** systemd's daemon-reloads so far: PID 1 logs "Reloading." for each. */
const reloads = () =>
  inside("journalctl", "-b", "_PID=1", "-o", "cat", "--no-pager")
    .split("\n")
    .filter((l) => l.startsWith("Reloading")).length;

beforeAll(async () => {
  await etcd.start();
  reg = new Registry(connect({ endpoints: etcd.endpoints }));
  box = await startSystemdContainer("fleet-dbus-test");
  inside("sh", "-c", `echo ${machineID(7)} > /etc/fleet-machine-id`);
  // A unit left running by an earlier agent run that the schedule no longer has.
  inside(
    "sh",
    "-c",
    "mkdir -p /run/fleet/units && printf '[Service]\\nExecStart=/bin/sleep infinity\\n' >/run/fleet/units/stale.service",
  );
  inside("systemctl", "link", "--runtime", "/run/fleet/units/stale.service");
  inside("systemctl", "start", "stale.service");
  expect(inside("systemctl", "is-active", "stale.service")).toBe("active");
  const env = {
    FLEET_ETCD_ENDPOINTS: etcd.endpoints.join(","),
    FLEET_MACHINE_ID_FILE: "/etc/fleet-machine-id",
    FLEET_PUBLIC_IP: "127.0.0.8",
    FLEET_METADATA: "role=test",
    // The agent's own systemd unit, as on a node; every unit it writes is bound to it.
    FLEET_BINDS_TO: "fleet-agent.service",
  };
  // Run the agent as a systemd unit, as Ignition does on a node (there via docker run).
  inside(
    "systemd-run",
    "--unit=fleet-agent",
    ...Object.entries(env).map(([k, v]) => `--setenv=${k}=${v}`),
    "/usr/bin/node",
    "/usr/lib/fleet/lib/fleet.js",
    "agent",
  );
  await waitFor(
    "agent registered",
    async () => (await reg.listMachines()).some((m) => m.id === machineID(7)),
    30_000,
    250,
  );
});

afterAll(async () => {
  if (box) {
    if (process.env.FLEET_TEST_LOG)
      console.log(inside("journalctl", "-u", "fleet-agent", "--no-pager"));
    box.remove();
  }
  reg?.client.close();
  await etcd.stop();
});

test("a unit left by an earlier agent run and no longer scheduled is stopped and removed", async () => {
  await waitFor(
    "stale unit stopped",
    () => inside("systemctl", "is-active", "stale.service") !== "active",
    30_000,
    250,
  );
  await waitFor(
    "stale unit file removed",
    () => inside("sh", "-c", "test -e /run/fleet/units/stale.service || echo gone") === "gone",
    30_000,
    250,
  );
});

test("start, stop and destroy a unit through systemd's D-Bus API", async () => {
  const svc = new FleetService(reg);
  const reloadsBefore = reloads();
  await svc.putUnit("hello.service", {
    desiredState: "launched",
    options: [
      { section: "Unit", name: "Description", value: "fleet D-Bus test" },
      { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
    ],
  });
  const st = await waitFor(
    "state active/running from D-Bus",
    async () =>
      (await svc.listStates({ unitName: "hello.service" })).find(
        (s) => s.systemdSubState === "running",
      ),
    30_000,
    250,
  );
  expect(st).toMatchObject({
    machineID: machineID(7),
    systemdLoadState: "loaded",
    systemdActiveState: "active",
  });
  expect(inside("systemctl", "is-active", "hello.service")).toBe("active");
  // linked as a runtime unit from the agent's unit directory
  expect(inside("readlink", "/run/systemd/system/hello.service")).toBe(
    "/run/fleet/units/hello.service",
  );
  expect(inside("fleetctl", "list-units")).toMatch(
    /hello.service\s+07070707...\/127.0.0.8\s+active\s+running/,
  );
  // A new unit needs no daemon-reload (DbusSystemd.load): on an emulated node each one
  // stalls systemd for tens of seconds.
  expect(reloads()).toBe(reloadsBefore);

  await svc.putUnit("hello.service", { desiredState: "loaded" });
  await waitFor(
    "stopped",
    () => inside("systemctl", "is-active", "hello.service") === "inactive",
    30_000,
    250,
  );
  await waitFor(
    "state inactive reported",
    async () =>
      (await svc.listStates({ unitName: "hello.service" }))[0]?.systemdActiveState === "inactive",
    30_000,
    250,
  );

  await svc.deleteUnit("hello.service");
  await waitFor(
    "unit file removed",
    () => inside("sh", "-c", "test -e /run/fleet/units/hello.service || echo gone") === "gone",
    30_000,
    250,
  );
  expect(inside("systemctl", "show", "-p", "LoadState", "--value", "hello.service")).toBe(
    "not-found",
  );
});

test("status and journal come from the agent through the API, not over SSH", async () => {
  const svc = new FleetService(reg);
  await svc.putUnit("talk.service", {
    desiredState: "launched",
    options: [
      { section: "Unit", name: "Description", value: "fleet journal test" },
      {
        section: "Service",
        name: "ExecStart",
        value: "/bin/sh -c 'for i in 1 2 3 4 5; do echo line$i; done; exec sleep infinity'",
      },
    ],
  });
  await waitFor(
    "talk running",
    () => inside("systemctl", "is-active", "talk.service") === "active",
    30_000,
    250,
  );
  const status = await svc.inspectUnit("talk.service", "status", {});
  expect(status.machineID).toBe(machineID(7));
  expect(status.lines.join("\n")).toMatch(
    /talk.service - fleet journal test[\s\S]*Active: active \(running\) since [\s\S]*Main PID: \d+/,
  );
  const journal = await waitFor(
    "line5 in the journal",
    async () => {
      const j = await svc.inspectUnit("talk.service", "journal", { lines: "2" });
      return j.lines.some((l) => l.endsWith("line5")) ? j : undefined;
    },
    30_000,
    500,
  );
  expect(journal.lines).toHaveLength(2);
  expect(journal.lines[0]).toMatch(/line4$/);
  // the transient journalctl units are gone again
  expect(
    inside("sh", "-c", "systemctl list-units --all --no-legend 'fleet-journal-*' | wc -l"),
  ).toBe("0");
});

test("a sidekick bound to a service not yet loaded starts with it, without a daemon-reload", async () => {
  // The agent loads the schedule in name order, so "pair-sidekick" comes first and
  // systemd holds "pair.service" as not-found until its file is linked.
  const svc = new FleetService(reg);
  const before = reloads();
  const sleep = { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" };
  await svc.putUnit("pair-sidekick.service", {
    desiredState: "launched",
    options: [
      { section: "Unit", name: "BindsTo", value: "pair.service" },
      { section: "Unit", name: "After", value: "pair.service" },
      sleep,
    ],
  });
  await svc.putUnit("pair.service", { desiredState: "launched", options: [sleep] });
  await waitFor(
    "both active",
    () =>
      inside("systemctl", "is-active", "pair.service", "pair-sidekick.service") ===
      "active\nactive",
    30_000,
    250,
  );
  expect(reloads()).toBe(before);
  await svc.deleteUnit("pair-sidekick.service");
  await svc.deleteUnit("pair.service");
});

test("new options for a running unit restart it with the new unit file (fleet's --replace)", async () => {
  const svc = new FleetService(reg);
  const exec = (v: string) => [{ section: "Service", name: "ExecStart", value: v }];
  await svc.putUnit("swap.service", { desiredState: "launched", options: exec("/bin/sleep 1001") });
  await waitFor(
    "v1 running",
    () => inside("systemctl", "is-active", "swap.service") === "active",
    30_000,
    250,
  );
  const pid1 = inside("systemctl", "show", "-p", "MainPID", "--value", "swap.service");
  // With its state, as FleetUnit's update sends it (without one, fleet stores it inactive).
  const v2 = { desiredState: "launched", options: exec("/bin/sleep 1002") };
  expect(await svc.putUnit("swap.service", v2)).toBe(204);
  await waitFor(
    "v2 running",
    () =>
      inside("systemctl", "is-active", "swap.service") === "active" &&
      /sleep 1002/.test(inside("systemctl", "show", "-p", "ExecStart", "--value", "swap.service")),
    30_000,
    250,
  );
  expect(inside("systemctl", "show", "-p", "MainPID", "--value", "swap.service")).not.toBe(pid1);
  expect(inside("cat", "/run/fleet/units/swap.service")).toMatch(/ExecStart=\/bin\/sleep 1002/);
  await svc.deleteUnit("swap.service");
});

test("when the agent process dies, systemd stops the units bound to it", async () => {
  const svc = new FleetService(reg);
  await svc.putUnit("bound.service", {
    desiredState: "launched",
    options: [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }],
  });
  await waitFor(
    "bound running",
    () => inside("systemctl", "is-active", "bound.service") === "active",
    30_000,
    250,
  );
  expect(inside("systemctl", "show", "-p", "BindsTo", "--value", "bound.service")).toBe(
    "fleet-agent.service",
  );
  // SIGKILL: the agent gets no chance to fence; systemd's BindsTo does the stopping.
  inside("systemctl", "kill", "-s", "SIGKILL", "fleet-agent.service");
  await waitFor(
    "bound stopped by systemd",
    () => inside("systemctl", "is-active", "bound.service") !== "active",
    30_000,
    250,
  );
});
