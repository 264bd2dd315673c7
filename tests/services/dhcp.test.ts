// DHCP: the real Kea image answers a real busybox udhcpc. DHCP needs layer 2, so the
// client lives in a namespace this test creates, joined by a veth to the Kea
// container's own namespace; the lab subnet exists only in those two namespaces.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { loadDataSet } from "../../labdata/load";
import { applyDhcp } from "../../containers/sidekick/appliers";
import { Sidekick } from "../../containers/sidekick/watch";
import { buildImages, contextFor, inNet, ROOT, Service, ServiceEnv } from "./harness";
import { joinLan, Lan } from "./lan";

jest.setTimeout(300_000);
const env = new ServiceEnv();
const log: string[] = [];
let kea: Service;
let sk: Sidekick;
let lan: Lan;
const dataDir = mkdtempSync(join(tmpdir(), "flt-dhcp-data-"));
const lease = (mac: string) => lan.lease(mac);

beforeAll(async () => {
  buildImages("dhcp");
  cpSync(join(ROOT, "data"), dataDir, { recursive: true });
  await env.startEtcd();
  kea = env.runService("dhcp");
  lan = joinLan(env, kea, () => `sidekick: ${log.join("\n")}`);
  sk = await env.sidekick(
    "dhcp",
    applyDhcp,
    contextFor(kea, "dhcp", log, { interfaces: [lan.serverIf] }),
  );
  await env.publish(sk, loadDataSet("dhcp", dataDir));
});

afterAll(async () => {
  await env.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test("a client with a reserved MAC gets its reserved address", () => {
  expect(lease("52:54:00:aa:00:11")).toBe("192.168.56.21");
  expect(lease("52:54:00:aa:00:01")).toBe("192.168.56.10");
});

test("an unknown client gets an address from the pool", () => {
  const ip = lease("52:54:00:bb:00:01");
  const last = Number(ip.split(".")[3]);
  expect(ip.startsWith("192.168.56.")).toBe(true);
  expect(last).toBeGreaterThanOrEqual(100);
  expect(last).toBeLessThanOrEqual(199);
});

test("a new reservation published through etcd is served without restarting Kea", async () => {
  const mac = "52:54:00:cc:00:07";
  expect(Number(lease(mac).split(".")[3])).toBeGreaterThanOrEqual(100);
  const before = kea.startedAt();
  const file = join(dataDir, "dhcp.yaml");
  writeFileSync(
    file,
    `${readFileSync(file, "utf8")}  - { name: new-host, mac: "${mac}", ip: 192.168.56.77 }\n`,
  );
  await env.publish(sk, loadDataSet("dhcp", dataDir));
  expect(lease(mac)).toBe("192.168.56.77");
  expect(kea.startedAt()).toBe(before);
});

test("Kea runs as _kea, not root", () => {
  const status = inNet(kea.pid, ["true"]); // container still has its namespace
  expect(status.status).toBe(0);
  const uid = readFileSync(`/proc/${kea.pid}/status`, "utf8").match(/^Uid:\s+(\d+)/m)?.[1];
  expect(uid).not.toBe("0");
});
