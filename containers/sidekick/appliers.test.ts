// applyDhcp with `auto`: the interface is resolved from the machine's table when Kea's
// config is rendered. A stand-in for Kea's control socket (a unix socket in a temp
// directory) answers config-reload, so no Kea is needed here; the real one is in
// tests/services/dhcp.test.ts.
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { createServer, Server } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { applyDhcp, ApplyContext } from "./appliers";

const data = JSON.stringify({
  subnet: "10.88.0.0/24",
  pool: { start: "10.88.0.100", end: "10.88.0.199" },
  router: "10.88.0.1",
  dns: [],
  leaseSeconds: 600,
  reservations: [],
});

let dir: string;
let kea: Server;
const commands: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "flt-appliers-"));
  kea = createServer((c) =>
    c.on("data", (d) => {
      commands.push((JSON.parse(d.toString()) as { command: string }).command);
      c.end(JSON.stringify({ result: 0 }));
    }),
  );
  await new Promise<void>((r) => kea.listen(join(dir, "kea4-ctrl.sock"), r));
});

afterAll(async () => {
  await new Promise((r) => kea.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const ctx = (
  interfaces: string[],
  table: ReturnType<NonNullable<ApplyContext["networkInterfaces"]>>,
): ApplyContext => ({
  hostDir: dir,
  containerDir: "/run/fleetlab/dhcp",
  interfaces,
  networkInterfaces: () => table,
  port: 8080,
  nginxMaster: () => 0,
  log: () => undefined,
});

const keaInterfaces = () =>
  (
    JSON.parse(readFileSync(join(dir, "kea-dhcp4.conf"), "utf8")) as {
      Dhcp4: { "interfaces-config": { interfaces: string[] } };
    }
  ).Dhcp4["interfaces-config"].interfaces;

test("auto renders the interface that holds an address in the data's subnet", async () => {
  await applyDhcp(
    data,
    "h1",
    ctx(["auto"], {
      lo: [{ address: "127.0.0.1", family: "IPv4" }],
      ens3: [{ address: "10.88.0.12", family: "IPv4" }],
    }),
  );
  expect(keaInterfaces()).toEqual(["ens3"]);
  expect(commands).toEqual(["config-reload"]);
});

test("auto without such an interface fails before Kea is touched, naming the subnet", async () => {
  commands.length = 0;
  await expect(
    applyDhcp(data, "h2", ctx(["auto"], { eth0: [{ address: "192.168.56.11", family: "IPv4" }] })),
  ).rejects.toThrow(/no interface of this machine has an address in 10\.88\.0\.0\/24/);
  expect(commands).toEqual([]);
  expect(keaInterfaces()).toEqual(["ens3"]); // the last good config stays
});
