// fleet users' own client against fleetlab: the real fleetctl of coreos/fleet v1.0.0
// (built from its source by fleetctl-v1/build.sh; `npm run test:compat` builds it first)
// drives the /fleet/v1 API of tests/fleet's fixture (a real 3-member etcd, two agents
// with recording systemd, page size 2 so every list is paged) through the verbs a fleet
// user types: list-machines, submit, list-unit-files, start (blocking), list-units, cat,
// submit/start --replace, templates, X-Fleet placement, stop, unload, destroy; over the
// unix socket and over TCP+TLS with a client certificate.
import { execFile } from "child_process";
import { existsSync, writeFileSync } from "fs";
import { homedir } from "os";
import { join } from "path";
import { ApiFixture, startApiFixture, stopApiFixture } from "../fleet/api-fixture";
import { waitFor } from "../support/wait";

jest.setTimeout(180_000);

const BIN =
  process.env.FLEETCTL_V1 ??
  join(
    process.env.FLEETLAB_CACHE ?? join(homedir(), ".cache", "fleetlab"),
    "fleetctl-v1",
    "fleetctl",
  );

let f: ApiFixture;

beforeAll(async () => {
  if (!existsSync(BIN))
    throw new Error(`no fleetctl v1.0.0 at ${BIN}: run tests/compat/fleetctl-v1/build.sh`);
  f = await startApiFixture("compat");
});
afterAll(async () => {
  if (f) await stopApiFixture(f);
});

type Run = { status: number | null; out: string; err: string };
/**
 * Runs fleetctl, asynchronously: the API it talks to is served by this process. Its
 * exit status is not trusted alone (v1.0.0 exits 0 on some errors).
 */
function fleetctl(args: string[], endpoint = [`--endpoint=unix://${f.socket}`]): Promise<Run> {
  return new Promise((resolve) =>
    execFile(
      BIN,
      [...endpoint, ...args],
      {
        encoding: "utf8",
        cwd: f.dir,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: f.dir },
      },
      (e, stdout, stderr) =>
        resolve({
          status: e ? (typeof e.code === "number" ? e.code : null) : 0,
          out: stdout,
          err: stderr + (e && typeof e.code !== "number" ? String(e) : ""),
        }),
    ),
  );
}
/** Runs fleetctl and expects it to succeed; returns its stdout. */
async function ok(args: string[], endpoint?: string[]): Promise<string> {
  const r = await fleetctl(args, endpoint);
  // stderr carries its progress ("Successfully stopped units …"), so only errors fail.
  const errors = r.err.split("\n").filter((l) => /error|panic|failed|fatal/i.test(l));
  expect({ args, status: r.status, errors }).toEqual({ args, status: 0, errors: [] });
  return r.out;
}
/** Rows of a `--no-legend --full` listing, split on fleetctl's tabs. */
const rows = (out: string) =>
  out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t"));
const unitFile = (name: string, text: string) => {
  writeFileSync(join(f.dir, name), text);
  return name;
};
const files = async () =>
  rows(await ok(["list-unit-files", "--no-legend", "--full", "--fields=unit,dstate"])).sort();

test("it is fleet v1.0.0's own client", async () => {
  expect(await ok(["version"])).toBe("fleetctl version v1.0.0\n");
});

test("list-machines shows both agents with their metadata", async () => {
  const ms = rows(await ok(["list-machines", "--no-legend", "--full"]));
  expect(ms.map(([id, ip, meta]) => [id, ip, meta]).sort()).toEqual(
    f.agents.map((a, i) => [a.id, `127.0.0.${i + 2}`, `role=${i === 0 ? "web" : "db"}`]).sort(),
  );
});

test("submit stores a unit inactive; start blocks until it runs; list-units and cat show it", async () => {
  const hello = unitFile(
    "hello.service",
    "[Unit]\nDescription=hello\n\n[Service]\nExecStart=/bin/sleep 1000\n",
  );
  await ok(["submit", hello]);
  expect(await files()).toEqual([["hello.service", "inactive"]]);
  const started = await ok(["start", "--block-attempts=60", hello]);
  expect(started).toMatch(/^Unit hello\.service launched on [0-9a-f]+\.\.\.\/127\.0\.0\.\d/m);
  const units = rows(await ok(["list-units", "--no-legend", "--full", "--fields=unit,active,sub"]));
  expect(units).toEqual([["hello.service", "active", "running"]]);
  expect(await ok(["cat", "hello.service"])).toContain("ExecStart=/bin/sleep 1000");
});

test("--replace: submit replaces only an inactive unit (as v1.0.0), start replaces a running one", async () => {
  unitFile("hello.service", "[Unit]\nDescription=hello v2\n\n[Service]\nExecStart=/bin/sleep 2\n");
  // Without --replace, different options leave what is stored.
  await fleetctl(["submit", "hello.service"]);
  expect(await ok(["cat", "hello.service"])).toContain("sleep 1000");
  // fleetctl v1.0.0 lets submit --replace touch only an inactive unit: it warns.
  const sub = await fleetctl(["submit", "--replace", "hello.service"]);
  expect(sub.err).toMatch(/can not replace Unit\(hello\.service\) in state 'launched'/);
  expect(await ok(["cat", "hello.service"])).toContain("sleep 1000");
  await ok(["start", "--replace", "--block-attempts=60", "hello.service"]);
  expect(await ok(["cat", "hello.service"])).toContain("ExecStart=/bin/sleep 2");
  expect(rows(await ok(["list-units", "--no-legend", "--full", "--fields=unit,active"]))).toEqual([
    ["hello.service", "active"],
  ]);
});

test("a template's instance is started from the template; X-Fleet metadata picks the machine", async () => {
  unitFile(
    "db@.service",
    "[Service]\nExecStart=/bin/sleep 1000\n\n[X-Fleet]\nMachineMetadata=role=db\n",
  );
  await ok(["submit", "db@.service"]);
  await ok(["start", "--block-attempts=60", "db@1.service"]);
  const at = rows(await ok(["list-units", "--no-legend", "--full", "--fields=unit,machine"]));
  const dbMachine = f.agents[1].id;
  expect(at.find(([u]) => u === "db@1.service")?.[1]).toMatch(new RegExp(`^${dbMachine}/`));
  // Three unit files and a page size of 2: fleetctl follows the next-page token.
  expect((await files()).map(([u]) => u)).toEqual(["db@.service", "db@1.service", "hello.service"]);
});

test("stop, unload and destroy take a unit back down and out of the registry", async () => {
  expect(await ok(["stop", "--block-attempts=60", "hello.service"])).toMatch(/hello\.service/);
  expect(await files()).toContainEqual(["hello.service", "loaded"]);
  await ok(["unload", "--block-attempts=60", "hello.service"]);
  expect(await files()).toContainEqual(["hello.service", "inactive"]);
  await ok(["destroy", "hello.service", "db@1.service", "db@.service"]);
  expect(await files()).toEqual([]);
  // The agents stop what was destroyed and withdraw its state: asynchronously.
  await waitFor("no unit listed", async () =>
    rows(await ok(["list-units", "--no-legend"])).length === 0 ? true : undefined,
  );
});

test("over TCP+TLS with the admin certificate; a certificate of another CA is refused", async () => {
  const https = `--endpoint=https://127.0.0.1:${f.api.tcpPort}`;
  const tls = (c: { cert: string; key: string }) => [
    https,
    `--ca-file=${f.tls.ca}`,
    `--cert-file=${c.cert}`,
    `--key-file=${c.key}`,
  ];
  expect(rows(await ok(["list-machines", "--no-legend"], tls(f.tls.client)))).toHaveLength(2);
  const rogue = await fleetctl(["list-machines", "--no-legend"], tls(f.tls.rogue));
  expect(rogue.out).toBe("");
  expect(rogue.err).toMatch(/certificate|tls|handshake|connection/i);
});
