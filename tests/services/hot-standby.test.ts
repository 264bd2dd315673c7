// Hot standby, its data half: the warm renderers (`sidekick warm <set>`) keep a data
// set rendered from etcd in a directory of their own, touching no daemon; a service
// container whose run directory was filled from that copy (the service unit's
// ExecStartPre, units/services.ts warmCopy) serves the data with no sidekick running
// at all. Real etcd, the real slapd and nginx images, Kea's own checker.
import {
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
  cpSync,
  mkdtempSync,
  rmSync,
} from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { loadDataSet } from "../../labdata/load";
import { parseDhcpData } from "../../labdata/dhcp/parse";
import { renderKeaConfig } from "../../containers/dhcp/render";
import { ApplyContext } from "../../containers/sidekick/appliers";
import { waitFor } from "../support/wait";
import { buildImages, copyWarm, docker, inNet, ldapSearch, ROOT, ServiceEnv } from "./harness";

jest.setTimeout(300_000);
const env = new ServiceEnv();
const log: string[] = [];
const dataDir = mkdtempSync(join(tmpdir(), "flt-standby-data-"));

beforeAll(async () => {
  buildImages("ldap", "www");
  cpSync(join(ROOT, "data"), dataDir, { recursive: true });
  await env.startEtcd();
});
afterAll(async () => {
  await env.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

const warm = (set: "dhcp" | "www" | "ldap", extra: Partial<ApplyContext> = {}) =>
  env.warm(set, log, extra);

test("LDAP: slapd started on the warm copy answers with the directory, no sidekick running", async () => {
  const ds = loadDataSet("ldap", dataDir);
  const w = await warm("ldap");
  await env.publish(w.sk, ds, 30_000);
  // Root's alone: the seed holds password hashes.
  expect(statSync(join(w.dir, "seed.ldif")).mode & 0o777).toBe(0o600);
  expect(readFileSync(join(w.dir, "slapd.conf"), "utf8")).toContain('suffix "dc=lab,dc=example"');

  const s = env.runService("ldap", [], "standby", copyWarm(w.dir));
  const dns = await waitFor(
    "slapd answering on the warm copy",
    () => {
      const out = ldapSearch(s, "(objectClass=*)");
      return out.includes("uid=alice") && out;
    },
    60_000,
  );
  expect(dns).toContain("uid=bob");
  expect(docker("logs", s.name)).toMatch(/fleetlab-ldap: starting on ready data \(\d+ entries/);
});

test("WWW: nginx started on the warm copy serves the site, and the copy follows a change", async () => {
  const w = await warm("www");
  await env.publish(w.sk, loadDataSet("www", dataDir), 30_000);
  const s = env.runService("www", [], "standby", copyWarm(w.dir));
  const page = () =>
    inNet(s.pid, ["curl", "-sS", "-w", " %{http_code}", "http://127.0.0.1:8080/"]).stdout;
  const index = readFileSync(join(ROOT, "data/www/index.html"), "utf8");
  expect(await waitFor("the site on the warm copy", () => page() === `${index} 200`)).toBe(true);
  expect(docker("logs", s.name)).toContain("fleetlab-www: starting on ready data");

  // The warm copy follows the data in etcd: a new version is unpacked and `current`
  // flipped to it; the running service is not touched (it is not the copy's).
  const before = readlinkSync(join(w.dir, "site/current"));
  writeFileSync(join(dataDir, "www/index.html"), "<h1>changed</h1>\n");
  const next = loadDataSet("www", dataDir);
  await env.publish(w.sk, next, 30_000);
  expect(readlinkSync(join(w.dir, "site/current"))).toBe(next.manifest.hash);
  expect(next.manifest.hash).not.toBe(before);
  expect(readFileSync(join(w.dir, "site/current/index.html"), "utf8")).toBe("<h1>changed</h1>\n");
  expect(page()).toBe(`${index} 200`);
});

test("DHCP: the warm copy is the Kea config the service's sidekick renders on this machine", async () => {
  const ds = loadDataSet("dhcp", dataDir);
  // The machine's interfaces, as os.networkInterfaces() lists them on a node.
  const table = {
    lo: [{ address: "127.0.0.1", family: "IPv4" }],
    ens3: [{ address: "192.168.56.12", family: "IPv4" }], // in data/dhcp.yaml's subnet
  };
  const w = await warm("dhcp", { interfaces: ["auto"], networkInterfaces: () => table });
  await env.publish(w.sk, ds, 30_000);
  // Byte for byte what kea-dhcp4 -t accepts in checkers.test.ts: this machine's LAN
  // interface, the paths of the service's container (not of the warm directory).
  expect(readFileSync(join(w.dir, "kea-dhcp4.conf"), "utf8")).toBe(
    renderKeaConfig(parseDhcpData(readFileSync(join(dataDir, "dhcp.yaml"), "utf8")), {
      runDir: "/run/fleetlab/dhcp",
      interfaces: ["ens3"],
    }),
  );
  expect(log).toContainEqual(
    expect.stringMatching(/^warm dhcp [0-9a-f]+: \d+ reservations on ens3$/),
  );
});
