// /fleet/v1 against a real etcd: fleet's documented JSON shapes, paging, errors,
// bad input leaving the registry unchanged, TLS client-certificate auth, fleetctl.
import { writeFileSync } from "fs";
import * as https from "https";
import { readFileSync } from "fs";
import { join } from "path";
import { FleetClient } from "../../fleet/api/client";
import { runCli } from "../../fleet/cli/fleetctl";
import { PREFIX } from "../../fleet/registry/keys";
import { Registry } from "../../fleet/registry/registry";
import * as fx from "./api-fixture";
import { waitFor } from "../support/wait";
import { machineID } from "./harness";

jest.setTimeout(90_000);

let f: fx.ApiFixture;
let socket: string;
let reg: Registry;
let agents: fx.ApiFixture["agents"];
let api: fx.ApiFixture["api"];
let tls: fx.ApiFixture["tls"];
let dir: string;
const raw = (method: string, path: string, body?: string) => fx.raw(socket, method, path, body);
const json = (method: string, path: string, body?: unknown) => fx.json(socket, method, path, body);
const sleep = fx.SLEEP;

async function dump(): Promise<Record<string, string>> {
  // everything except what agents refresh on their own (machines, states, leader)
  const all = await reg.client.getAll().prefix(PREFIX).strings();
  return Object.fromEntries(
    Object.entries(all).filter(([k]) => /\/(units|schedule|reasons)\//.test(k)),
  );
}

beforeAll(async () => {
  f = await fx.startApiFixture("api");
  ({ socket, reg, agents, api, tls, dir } = f);
});

afterAll(() => fx.stopApiFixture(f ?? {}));

test("create, read, list: fleet's Unit, UnitState and Machine shapes", async () => {
  const created = await json("PUT", "/fleet/v1/units/hello.service", {
    desiredState: "launched",
    options: sleep,
  });
  expect(created.status).toBe(201);
  expect(created.json).toBeUndefined();
  await waitFor(
    "hello scheduled",
    async () =>
      (await json("GET", "/fleet/v1/units/hello.service")).json.currentState === "launched",
  );
  const u = await json("GET", "/fleet/v1/units/hello.service");
  expect(u.status).toBe(200);
  expect(u.type).toBe("application/json");
  expect(u.json).toEqual({
    name: "hello.service",
    options: sleep,
    desiredState: "launched",
    currentState: "launched",
    machineID: machineID(1),
  });

  const st = await waitFor(
    "state reported",
    async () => (await json("GET", "/fleet/v1/state?unitName=hello.service")).json.states[0],
  );
  expect(Object.keys(st).sort()).toEqual([
    "hash",
    "machineID",
    "name",
    "systemdActiveState",
    "systemdLoadState",
    "systemdSubState",
  ]);
  expect(st).toMatchObject({
    name: "hello.service",
    machineID: machineID(1),
    systemdLoadState: "loaded",
    systemdActiveState: "active",
    systemdSubState: "running",
  });
  expect(st.hash).toMatch(/^[0-9a-f]{40}$/);
  expect((await json("GET", `/fleet/v1/state?machineID=${machineID(2)}`)).json.states).toEqual([]);

  const ms = await json("GET", "/fleet/v1/machines");
  expect(ms.json.machines[0]).toEqual({
    id: machineID(1),
    primaryIP: "127.0.0.2",
    metadata: { role: "web" },
  });

  expect(
    (await json("PUT", "/fleet/v1/units/hello.service", { desiredState: "loaded" })).status,
  ).toBe(204);
  expect((await json("GET", "/fleet/v1/units/hello.service")).json.desiredState).toBe("loaded");
  // the engine follows: the unit's currentState becomes "loaded"
  await waitFor(
    "currentState loaded",
    async () => (await json("GET", "/fleet/v1/units/hello.service")).json.currentState === "loaded",
  );
});

test("paging with nextPageToken", async () => {
  for (const n of ["p1", "p2", "p3", "p4"])
    await json("PUT", `/fleet/v1/units/${n}.service`, { desiredState: "inactive", options: sleep });
  const first = await json("GET", "/fleet/v1/units");
  expect(first.json.units).toHaveLength(2);
  expect(typeof first.json.nextPageToken).toBe("string");
  const names: string[] = first.json.units.map((u: { name: string }) => u.name);
  let token = first.json.nextPageToken;
  for (let i = 0; token && i < 10; i++) {
    const page = await json("GET", `/fleet/v1/units?nextPageToken=${encodeURIComponent(token)}`);
    names.push(...page.json.units.map((u: { name: string }) => u.name));
    token = page.json.nextPageToken;
  }
  expect(names.sort()).toEqual([
    "hello.service",
    "p1.service",
    "p2.service",
    "p3.service",
    "p4.service",
  ]);
  const bad = await json("GET", "/fleet/v1/units?nextPageToken=!!");
  expect(bad).toMatchObject({
    status: 400,
    json: { error: { code: 400, message: "invalid value of nextPageToken query parameter" } },
  });
  // the typed client follows the pages itself
  expect(await new FleetClient({ socket }).listUnits()).toHaveLength(5);
});

test("bad input gets a clear error and leaves the registry unchanged", async () => {
  const before = await dump();
  const cases: Array<[string, string, unknown, number, RegExp]> = [
    ["PUT", "bad.service", "{not json", 400, /not valid JSON/],
    [
      "PUT",
      "bad.service",
      { desiredState: "launched", options: "ExecStart=/bin/true" },
      400,
      /options must be an array/,
    ],
    [
      "PUT",
      "bad.service",
      {
        desiredState: "launched",
        options: [{ section: "X-Fleet", name: "MachineRole", value: "web" }],
      },
      400,
      /unknown \[X-Fleet\] option MachineRole/,
    ],
    [
      "PUT",
      "bad.service",
      {
        desiredState: "launched",
        options: [
          { section: "X-Fleet", name: "Global", value: "true" },
          { section: "X-Fleet", name: "MachineID", value: "abc" },
        ],
      },
      400,
      /cannot be combined with MachineID/,
    ],
    [
      "PUT",
      "bad.service",
      {
        desiredState: "launched",
        options: [{ section: "Service", name: "ExecStart", value: "x".repeat(70_000) }],
      },
      400,
      /over the 65536-byte limit/,
    ],
    [
      "PUT",
      "bad.service",
      { desiredState: "running", options: sleep },
      400,
      /desiredState "running" is invalid/,
    ],
    [
      "PUT",
      "bad.service",
      { name: "other.service", desiredState: "launched", options: sleep },
      400,
      /does not match/,
    ],
    [
      "PUT",
      "bad name.service",
      { desiredState: "launched", options: sleep },
      400,
      /invalid unit name/,
    ],
    ["PUT", "web@.service", { desiredState: "launched", options: sleep }, 400, /is a template/],
    [
      "PUT",
      "missing.service",
      { desiredState: "launched" },
      409,
      /does not exist and the request has no options/,
    ],
    ["PUT", "hello.service", {}, 409, /send desiredState to change it/],
    ["PUT", "hello.service", { options: sleep }, 409, /send desiredState to change it/],
    [
      "PUT",
      "r1.service",
      {
        desiredState: "launched",
        options: [{ section: "X-Fleet", name: "Replaces", value: "r1.service" }],
      },
      400,
      /Replaces names the unit itself/,
    ],
    ["GET", "missing.service", undefined, 404, /missing.service does not exist/],
    ["DELETE", "missing.service", undefined, 404, /missing.service does not exist/],
    ["POST", "hello.service", undefined, 405, /not allowed.*use GET, DELETE, PUT/],
    ["PUT", "bad.service", [], 400, /request body must be a JSON object/],
    ["PUT", "bad.service", "null", 400, /request body must be a JSON object/],
    ["PUT", "bad.service", "42", 400, /request body must be a JSON object/],
    ["PUT", "bad.service", '"launched"', 400, /request body must be a JSON object/],
    ["PUT", "bad.service", "", 400, /request body must be a JSON object/],
    [
      "PUT",
      "bad.service",
      { desiredstate: "launched", options: sleep },
      400,
      /unknown key "desiredstate" .*did you mean desiredState\?/,
    ],
    ["PUT", "bad.service", { option: sleep }, 400, /unknown key "option" .*fleet's Unit has name/],
    ["PUT", "bad.service", { options: {} }, 400, /options must be an array/],
    [
      "PUT",
      "bad.service",
      { options: [null] },
      400,
      /options\[0\] must be \{section, name, value\}/,
    ],
    [
      "PUT",
      "bad.service",
      { options: [{ section: "Service", name: "ExecStart" }] },
      400,
      /options\[0\] must be .*string fields/,
    ],
    [
      "PUT",
      "bad.service",
      { options: [{ section: "Service", name: "ExecStart", value: 1 }] },
      400,
      /options\[0\] must be .*string fields/,
    ],
    ["PUT", "bad.service", { desiredState: 1, options: sleep }, 400, /desiredState 1 is invalid/],
    [
      "PUT",
      "bad.service",
      { desiredState: ["launched"], options: sleep },
      400,
      /desiredState \["launched"\] is invalid/,
    ],
    [
      "PUT",
      "bad.service",
      { options: [{ section: "Service", name: "ExecStart", value: "/bin/true\rUser=root" }] },
      400,
      /options\[0\]: value of ExecStart has a control character/,
    ],
    [
      "PUT",
      "bad.service",
      { options: [{ section: "x-fleet", name: "MachineOf", value: "hello.service" }] },
      400,
      /\[x-fleet\] is not \[X-Fleet\]/,
    ],
    [
      "PUT",
      "bad.service",
      { options: [...sleep, { section: "X-Fleet", name: "MachineOf", value: "../etc" }] },
      400,
      /MachineOf=\.\.\/etc: invalid unit name/,
    ],
    [
      "PUT",
      "bad.service",
      { options: [...sleep, { section: "X-Fleet", name: "MachineMetadata", value: "role=" }] },
      400,
      /MachineMetadata=role= has no value/,
    ],
    ["PUT", "a/b.service", { options: sleep }, 400, /invalid unit name "a\/b.service"/],
    [
      "PUT",
      `${"x".repeat(300)}.service`,
      { options: sleep },
      400,
      /invalid unit name .*at most 255/,
    ],
    [
      "PUT",
      "notes.txt",
      { options: sleep },
      400,
      /invalid unit name "notes.txt".*ending in one of/,
    ],
    ["PUT", "@.service", { options: sleep }, 400, /invalid unit name "@.service"/],
  ];
  for (const [method, name, body, code, msg] of cases) {
    const r = await raw(
      method,
      `/fleet/v1/units/${encodeURIComponent(name)}`,
      typeof body === "string" ? body : body === undefined ? undefined : JSON.stringify(body),
    );
    expect({ name, status: r.status }).toEqual({ name, status: code });
    const e = JSON.parse(r.body);
    expect(e.error.code).toBe(code);
    expect(e.error.message).toMatch(msg);
  }
  expect((await json("GET", "/fleet/v1/nothing")).status).toBe(404);
  expect(await dump()).toEqual(before);
});

test("Replaces cycles are rejected at submit time", async () => {
  const rep = (target: string) => ({
    desiredState: "inactive",
    options: [...sleep, { section: "X-Fleet", name: "Replaces", value: target }],
  });
  expect((await json("PUT", "/fleet/v1/units/ra.service", rep("rb.service"))).status).toBe(201);
  const before = await dump();
  const r = await json("PUT", "/fleet/v1/units/rb.service", rep("ra.service"));
  expect(r.status).toBe(400);
  expect(r.json.error.message).toMatch(/Replaces cycle: (ra|rb).service -> (ra|rb).service/);
  expect(await dump()).toEqual(before);
});

test("TCP needs a client certificate from the lab CA", async () => {
  const url = `https://127.0.0.1:${api.tcpPort}`;
  const ca = readFileSync(tls.ca);
  const get = (opts: https.RequestOptions) =>
    new Promise<number>((resolve, reject) => {
      const req = https.request(`${url}/fleet/v1/machines`, { ca, ...opts }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      });
      req.on("error", reject);
      req.end();
    });
  await expect(get({})).rejects.toThrow(/certificate|handshake|socket hang up|ECONNRESET|alert/i);
  await expect(
    get({ cert: readFileSync(tls.rogue.cert), key: readFileSync(tls.rogue.key) }),
  ).rejects.toThrow();
  expect(
    await get({ cert: readFileSync(tls.client.cert), key: readFileSync(tls.client.key) }),
  ).toBe(200);
  const c = new FleetClient({
    url,
    certFile: tls.client.cert,
    keyFile: tls.client.key,
    caFile: tls.ca,
  });
  expect((await c.listMachines()).map((m) => m.id).sort()).toEqual([machineID(1), machineID(2)]);
});

test("fleetctl: submit, start, list, cat, stop, destroy", async () => {
  const out: string[] = [];
  const ctl = (...args: string[]) => runCli(["--socket", socket, ...args], {}, (s) => out.push(s));
  const file = join(dir, "db.service");
  writeFileSync(
    file,
    "[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nMachineMetadata=role=db\n",
  );
  await ctl("start", file);
  expect(out.pop()).toBe(`Unit db.service launched on ${machineID(2).slice(0, 8)}...`);
  await waitFor("db running", async () =>
    (await reg.listStates()).some(
      (s) => s.name === "db.service" && s.systemdActiveState === "active",
    ),
  );
  await ctl("list-machines");
  expect(out.pop()!.split("\n")[0]).toMatch(/^MACHINE\s+IP\s+METADATA$/);
  await ctl("list-units");
  const units = out.pop()!.split("\n");
  expect(units[0]).toMatch(/^UNIT\s+MACHINE\s+ACTIVE\s+SUB$/);
  expect(units.find((l) => l.startsWith("db.service"))).toMatch(
    new RegExp(`db.service\\s+${machineID(2).slice(0, 8)}.../127.0.0.3\\s+active\\s+running`),
  );
  await ctl("list-unit-files");
  expect(
    out
      .pop()!
      .split("\n")
      .find((l) => l.startsWith("db.service")),
  ).toMatch(/db.service\s+[0-9a-f]{7}\s+launched\s+launched\s+02020202.../);
  await ctl("cat", "db.service");
  expect(out.pop()).toBe(
    "[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nMachineMetadata=role=db",
  );
  await ctl("stop", "db.service");
  await ctl("destroy", "db.service");
  expect(out.pop()).toBe("Destroyed db.service");
  await waitFor("db gone", () => !agents[1].systemd.running().includes("db.service"));
  await expect(ctl("frobnicate")).rejects.toThrow(/unknown command frobnicate/);
});
