// DHCP: the real Kea image answers a real busybox udhcpc. DHCP needs layer 2, so the
// client lives in a namespace this test creates, joined by a veth to the Kea
// container's own namespace; the lab subnet exists only in those two namespaces.
import { execFileSync, spawnSync } from "child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { loadDataSet } from "../../containers/dataset/load";
import { applyDhcp } from "../../containers/sidekick/appliers";
import { Sidekick } from "../../containers/sidekick/watch";
import { buildImages, inNet, quietLog, ROOT, Service, ServiceEnv } from "./harness";

jest.setTimeout(300_000);
const env = new ServiceEnv();
const log: string[] = [];
let kea: Service;
let sk: Sidekick;
let ns: string;
const dataDir = mkdtempSync(join(tmpdir(), "flt-dhcp-data-"));
const SERVER_IF = `fd${process.pid}s`;
const CLIENT_IF = `fd${process.pid}c`;

const inNs = (...cmd: string[]) =>
  execFileSync("ip", ["netns", "exec", ns, ...cmd], { encoding: "utf8", timeout: 30_000 });

/** One DHCP exchange with busybox udhcpc using `mac`; returns the leased address. */
function lease(mac: string): string {
  inNs("ip", "link", "set", CLIENT_IF, "down");
  inNs("ip", "link", "set", CLIENT_IF, "address", mac);
  inNs("ip", "link", "set", CLIENT_IF, "up");
  // -q: quit after a lease, -n: fail when none, -t/-T/-A: at most 5 tries 1 s apart;
  // the script does nothing, the address stays in the test's namespace.
  const r = spawnSync(
    "ip",
    [
      "netns",
      "exec",
      ns,
      "busybox",
      "udhcpc",
      "-i",
      CLIENT_IF,
      "-f",
      "-q",
      "-n",
      "-t",
      "5",
      "-T",
      "1",
      "-A",
      "1",
      "-s",
      "/bin/true",
    ],
    { encoding: "utf8", timeout: 30_000 },
  );
  const m = /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(r.stdout + r.stderr);
  if (!m) {
    const kealog = spawnSync("/usr/bin/docker", ["logs", "--tail", "8", kea.name], {
      encoding: "utf8",
    });
    throw new Error(
      `udhcpc got no lease for ${mac}: ${r.stdout}${r.stderr}\nsidekick: ${log.join("\n")}\nkea: ${kealog.stdout}`,
    );
  }
  return m[1];
}

beforeAll(async () => {
  buildImages("dhcp");
  cpSync(join(ROOT, "data"), dataDir, { recursive: true });
  await env.startEtcd();
  kea = env.runService("dhcp");
  ns = env.addNetns("dhcp");
  // Create the pair inside the test namespace with its peer directly in Kea's.
  inNs(
    "ip",
    "link",
    "add",
    CLIENT_IF,
    "type",
    "veth",
    "peer",
    "name",
    SERVER_IF,
    "netns",
    String(kea.pid),
  );
  for (const c of [
    ["ip", "link", "set", "lo", "up"],
    ["ip", "addr", "add", "192.168.56.2/24", "dev", SERVER_IF],
    ["ip", "link", "set", SERVER_IF, "up"],
  ]) {
    const r = inNet(kea.pid, c);
    if (r.status !== 0) throw new Error(`${c.join(" ")}: ${r.stderr}`);
  }
  inNs("ip", "link", "set", CLIENT_IF, "up");
  sk = await env.sidekick("dhcp", applyDhcp, {
    hostDir: kea.dir,
    containerDir: "/run/fleetlab/dhcp",
    interfaces: [SERVER_IF],
    port: 0,
    hangup: () => undefined,
    log: quietLog(log),
  });
  await env.publish(sk, loadDataSet("dhcp", dataDir));
});

afterAll(async () => {
  await env.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test("a client with a reserved MAC gets its reserved address", () => {
  expect(lease("52:54:00:aa:00:11")).toBe("192.168.56.21");
  expect(lease("52:54:00:AA:00:01".toLowerCase())).toBe("192.168.56.10");
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
