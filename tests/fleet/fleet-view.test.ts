// The e2e's view of fleet (tests/e2e/fleet-view.ts) against a real etcd over TLS: it
// shows what agents register and report as the /fleet/v1 API would, follows a lease
// that is revoked, and reads as "not answering" once etcd is gone, rather than
// showing the last snapshot for ever. The lister is a real process, stopped by PID.
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { FleetService } from "../../fleet/api/service";
import { connect, Registry } from "../../fleet/registry/registry";
import { FleetView } from "../e2e/fleet-view";
import { waitFor } from "../support/wait";
import { clientTlsCluster, EtcdCluster } from "./etcd";
import { machineID } from "./harness";

jest.setTimeout(90_000);

const dir = mkdtempSync(join(tmpdir(), "fleet-view-"));
let etcd: EtcdCluster;
let view: FleetView | undefined;
let reg: Registry;

beforeAll(async () => {
  const tls = clientTlsCluster(dir, "admin");
  etcd = tls.etcd;
  await etcd.start(1);
  const admin = { ca: tls.ca, cert: tls.client.cert, key: tls.client.key };
  reg = new Registry(
    connect({
      endpoints: etcd.endpoints,
      caFile: admin.ca,
      certFile: admin.cert,
      keyFile: admin.key,
    }),
  );
  view = new FleetView([], { endpoints: etcd.endpoints, ...admin }, 8000);
});

afterAll(async () => {
  await view?.close();
  reg?.client.close();
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("shows machines and running units as the API lists them, follows a revoked lease, and goes stale without etcd", async () => {
  const v = view!;
  const lease = reg.client.lease(30, { autoKeepAlive: false });
  const id = await lease.grant();
  const m = { id: machineID(1), primaryIP: "10.9.0.11", metadata: { lan: "true" } };
  await reg.registerMachine(m, id);
  await reg.putState(
    {
      name: "www.service",
      hash: "h",
      machineID: m.id,
      systemdLoadState: "loaded",
      systemdActiveState: "active",
      systemdSubState: "running",
    },
    id,
  );
  await waitFor(
    "the view shows the machine and the unit",
    () => v.activeUnits()["www.service"],
    20_000,
    100,
  );
  const svc = new FleetService(reg);
  expect(v.machines()).toEqual(await svc.listMachines());
  expect(v.states()).toEqual(await svc.listStates({}));
  expect(v.activeUnits()).toEqual({ "www.service": "10.9.0.11" });
  expect(v.activeUnits(["10.9.0.12"])).toEqual({});
  expect(v.copies(["10.9.0.11"])).toEqual({ "www.service": 1 });

  // Expiry (here: revocation) removes the machine and its states: pushed by the watch.
  await lease.revoke();
  await waitFor("the view drops the machine", () => v.machines()?.length === 0, 20_000, 100);
  expect(v.states()).toEqual([]);

  // No etcd: the lister reports errors, and after staleMs the view says "no answer".
  etcd.killMember(0);
  await waitFor("the view goes stale", () => v.machines() === null, 30_000, 200);
  expect(v.states()).toBeNull();
  expect(v.activeUnits()).toEqual({});
  expect(v.lastError).not.toBe("");
});
