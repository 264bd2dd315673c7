// A contract test per method of the discovery document (request, status code,
// body shape), the document checked against what the server routes, fleet v1.0.0's
// seven methods checked present with fleet's verbs and paths, fleet's media-type and
// method errors, and fleet's --replace of a running unit.
import { writeFileSync } from "fs";
import { join } from "path";
import { SCHEMAS } from "../../fleet/api/discovery";
import { runCli } from "../../fleet/cli/fleetctl";
import { unitHash } from "../../fleet/unit";
import {
  ApiFixture,
  json as _json,
  raw as _raw,
  SLEEP,
  startApiFixture,
  stopApiFixture,
} from "./api-fixture";
import { waitFor } from "../support/wait";
import { machineID } from "./harness";

jest.setTimeout(120_000);

let f: ApiFixture;
const raw = (m: string, p: string, b?: string, t?: string | null) => _raw(f.socket, m, p, b, t);
const json = (m: string, p: string, b?: unknown) => _json(f.socket, m, p, b);
const V1 = "/fleet/v1/";

/** Does `v` fit schema `ref` of the discovery document (types; no unknown keys)? */
function shapeErrors(v: unknown, schema: Record<string, unknown>, at = "$"): string[] {
  if (schema.$ref) return shapeErrors(v, SCHEMAS[schema.$ref as string], at);
  const type = schema.type as string;
  if (type === "string") {
    if (typeof v !== "string") return [`${at}: not a string`];
    const e = schema.enum as string[] | undefined;
    return e && !e.includes(v) ? [`${at}: ${v} not in ${e}`] : [];
  }
  if (type === "integer") return Number.isInteger(v) ? [] : [`${at}: not an integer`];
  if (type === "array") {
    if (!Array.isArray(v)) return [`${at}: not an array`];
    return v.flatMap((x, i) =>
      shapeErrors(x, schema.items as Record<string, unknown>, `${at}[${i}]`),
    );
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return [`${at}: not an object`];
  const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
  const extra = schema.additionalProperties as Record<string, unknown> | undefined;
  return Object.entries(v).flatMap(([k, x]) => {
    const s = props?.[k] ?? extra;
    return s ? shapeErrors(x, s, `${at}.${k}`) : props ? [`${at}.${k}: not in the schema`] : [];
  });
}
const expectShape = (v: unknown, ref: string) => expect(shapeErrors(v, { $ref: ref })).toEqual([]);
const expectError = (r: { status: number; json?: unknown }, code: number) => {
  expect(r.status).toBe(code);
  expectShape(r.json, "Error");
  expect((r.json as { error: { code: number } }).error.code).toBe(code);
};

/** fleet v1.0.0's schema/v1.json: resource.method -> verb and path */
const FLEET_METHODS: Record<string, [string, string]> = {
  "Machines.List": ["GET", "machines"],
  "Units.List": ["GET", "units"],
  "Units.Get": ["GET", "units/{unitName}"],
  "Units.Delete": ["DELETE", "units/{unitName}"],
  "Units.Set": ["PUT", "units/{unitName}"],
  "UnitState.List": ["GET", "state"],
  "UnitState.Get": ["GET", "state/{unitName}"],
};

type Method = { httpMethod: string; path: string; response?: { $ref: string } };
let served: { resources: Record<string, { methods: Record<string, Method> }> };
const methods = () =>
  Object.entries(served.resources).flatMap(([r, { methods: ms }]) =>
    Object.entries(ms).map(([m, d]) => ({ key: `${r}.${m}`, ...d })),
  );

beforeAll(async () => {
  f = await startApiFixture("contract");
  // web.service runs on machine 1 (role=web) for the methods that need a placed unit
  const put = await json("PUT", `${V1}units/web.service`, {
    desiredState: "launched",
    options: [...SLEEP, { section: "X-Fleet", name: "MachineMetadata", value: "role=web" }],
  });
  expect(put.status).toBe(201);
  await waitFor("web.service running", async () =>
    (await f.reg.listStates()).some(
      (s) => s.name === "web.service" && s.systemdActiveState === "active",
    ),
  );
  const d = await json("GET", `${V1}discovery`);
  expect(d.status).toBe(200);
  expect(d.type).toBe("application/json");
  served = d.json;
});

afterAll(() => stopApiFixture(f ?? {}));

test("the discovery document lists fleet v1.0.0's seven methods with fleet's verbs and paths", () => {
  const byKey = new Map(methods().map((m) => [m.key, m]));
  for (const [key, [verb, path]] of Object.entries(FLEET_METHODS)) {
    expect({ key, verb: byKey.get(key)?.httpMethod, path: byKey.get(key)?.path }).toEqual({
      key,
      verb,
      path,
    });
  }
});

test("every method in the document is routed, and other verbs on its path are 405", async () => {
  const verbs = ["GET", "PUT", "DELETE", "POST"];
  const paths = new Map<string, Set<string>>();
  for (const m of methods()) {
    paths.set(m.path, (paths.get(m.path) ?? new Set()).add(m.httpMethod));
  }
  for (const [path, allowed] of paths) {
    const concrete = V1 + path.replace("{unitName}", "nosuch.service");
    for (const verb of verbs) {
      // a body only for PUT, so the routed answer is about the unit, not the body
      const r = await raw(verb, concrete, verb === "PUT" ? "{}" : undefined);
      if (allowed.has(verb))
        expect({ path, verb, routed: r.status !== 405 }).toEqual({ path, verb, routed: true });
      else {
        expect({ path, verb, status: r.status }).toEqual({ path, verb, status: 405 });
        expect(r.allow?.split(", ").sort()).toEqual([...allowed].sort());
      }
    }
  }
  expectError(await json("GET", `${V1}nothing`), 404);
});

// One request per method of the document: status and body shape.
const CONTRACT: Record<string, () => Promise<void>> = {
  "Machines.List": async () => {
    const r = await json("GET", `${V1}machines`);
    expect(r.status).toBe(200);
    expectShape(r.json, "MachinePage");
    expect(r.json.machines.map((m: { id: string }) => m.id).sort()).toEqual([
      machineID(1),
      machineID(2),
    ]);
  },
  "Units.List": async () => {
    const r = await json("GET", `${V1}units`);
    expect(r.status).toBe(200);
    expectShape(r.json, "UnitPage");
    expectError(await json("GET", `${V1}units?nextPageToken=!!`), 400);
  },
  "Units.Get": async () => {
    const r = await json("GET", `${V1}units/web.service`);
    expect(r.status).toBe(200);
    expectShape(r.json, "Unit");
    expect(r.json).toMatchObject({ currentState: "launched", machineID: machineID(1) });
    const missing = await json("GET", `${V1}units/nosuch.service`);
    expectError(missing, 404);
    expect(missing.json.error.message).toMatch(/nosuch.service does not exist/);
  },
  "Units.Set": async () => {
    // options and no desiredState: stored inactive (fleetctl submit)
    const sub = await raw("PUT", `${V1}units/sub.service`, JSON.stringify({ options: SLEEP }));
    expect([sub.status, sub.body]).toEqual([201, ""]);
    expect((await json("GET", `${V1}units/sub.service`)).json).toMatchObject({
      desiredState: "inactive",
      currentState: "inactive",
    });
    expect((await json("PUT", `${V1}units/sub.service`, { desiredState: "loaded" })).status).toBe(
      204,
    );
    const other = [{ section: "Service", name: "ExecStart", value: "/bin/sleep 1000" }];
    // new options replace the unit; with no desiredState it is inactive, as fleet
    // v1.0.0 stored a new unit entry (fleetctl's --replace then sets the state)
    expect((await json("PUT", `${V1}units/sub.service`, { options: other })).status).toBe(204);
    expect((await json("GET", `${V1}units/sub.service`)).json).toMatchObject({
      options: other,
      desiredState: "inactive",
    });
    // fleet's media-type rule: one Content-Type, application/json
    const body = JSON.stringify({ desiredState: "inactive" });
    for (const type of ["text/plain", null]) {
      const r = await raw("PUT", `${V1}units/sub.service`, body, type);
      expect(r.status).toBe(415);
      expectError({ status: r.status, json: JSON.parse(r.body) }, 415);
    }
    expect(
      (await raw("PUT", `${V1}units/sub.service`, body, "application/json; charset=utf-8")).status,
    ).toBe(204);
  },
  "Units.Delete": async () => {
    await json("PUT", `${V1}units/gone.service`, { options: SLEEP });
    const r = await raw("DELETE", `${V1}units/gone.service`);
    expect([r.status, r.body]).toEqual([204, ""]);
    expectError(await json("DELETE", `${V1}units/gone.service`), 404);
  },
  "UnitState.List": async () => {
    const r = await json("GET", `${V1}state?unitName=web.service&machineID=${machineID(1)}`);
    expect(r.status).toBe(200);
    expectShape(r.json, "UnitStatePage");
    expect(r.json.states).toHaveLength(1);
    expect(
      (await json("GET", `${V1}state?machineID=${machineID(2)}&unitName=web.service`)).json.states,
    ).toEqual([]);
  },
  "UnitState.Get": async () => {
    const r = await json("GET", `${V1}state/web.service`);
    expect(r.status).toBe(200);
    expectShape(r.json, "UnitState");
    expect(r.json).toMatchObject({ name: "web.service", machineID: machineID(1) });
    // fleet's 404 until the unit's machine reports it; 400 for a name that is not one
    expectError(await json("GET", `${V1}state/nosuch.service`), 404);
    expectError(await json("GET", `${V1}state/no%20unit`), 400);
  },
  "Units.Status": async () => {
    const r = await json("GET", `${V1}units/web.service/status`);
    expect(r.status).toBe(200);
    expectShape(r.json, "UnitText");
    expect(r.json.machineID).toBe(machineID(1));
    expect(r.json.lines.join("\n")).toMatch(/Active: active \(running\)/);
    expectError(await json("GET", `${V1}units/nosuch.service/status`), 404);
    // a unit placed nowhere has nobody to ask
    await json("PUT", `${V1}units/idle.service`, { options: SLEEP });
    expectError(await json("GET", `${V1}units/idle.service/status`), 404);
  },
  "Units.Journal": async () => {
    const r = await json("GET", `${V1}units/web.service/journal?lines=1`);
    expect(r.status).toBe(200);
    expectShape(r.json, "UnitText");
    expect(r.json.lines).toHaveLength(1);
    expect(r.json.lines[0]).toMatch(/start web.service/);
    expectError(await json("GET", `${V1}units/web.service/journal?lines=0`), 400);
    expectError(await json("GET", `${V1}units/web.service/journal?lines=5000`), 400);
  },
  "Discovery.Get": async () => {
    const r = await json("GET", `${V1}discovery`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual(served);
    expect(r.json.kind).toBe("discovery#restDescription");
  },
};

test("there is a contract test for every method in the document, and only for those", () => {
  expect(Object.keys(CONTRACT).sort()).toEqual(
    methods()
      .map((m) => m.key)
      .sort(),
  );
});

test.each(Object.keys(CONTRACT))("contract: %s", async (key) => {
  await CONTRACT[key]();
});

test("replacing a running unit restarts it on its machine with the new options", async () => {
  const next = [{ section: "Service", name: "ExecStart", value: "/bin/sleep 99999" }];
  const web = (await json("GET", `${V1}units/web.service`)).json;
  const options = [
    ...next,
    ...web.options.filter((o: { section: string }) => o.section === "X-Fleet"),
  ];
  const sd = f.agents[0].systemd;
  const starts = async () =>
    (await sd.journal("web.service", 1000)).filter((l) => / start /.test(l));
  const before = (await starts()).length;
  // new options with the state it should keep, as FleetUnit's update sends them
  const body = { options, desiredState: "launched" };
  expect((await json("PUT", `${V1}units/web.service`, body)).status).toBe(204);
  await waitFor("new version reported", async () =>
    (await f.reg.listStates()).some(
      (s) =>
        s.name === "web.service" &&
        s.hash === unitHash(options) &&
        s.systemdActiveState === "active",
    ),
  );
  const u = (await json("GET", `${V1}units/web.service`)).json;
  expect(u).toMatchObject({ desiredState: "launched", machineID: machineID(1), options });
  // stopped once and started again, on the same machine; never on the other
  expect((await starts()).length).toBe(before + 1);
  expect(f.agents[1].systemd.running()).not.toContain("web.service");
});

test("fleetctl: submit, --replace, blocking start, status, journal, blocking stop", async () => {
  const out: string[] = [];
  const ctl = (...args: string[]) =>
    runCli(["--socket", f.socket, ...args], {}, (s) => out.push(s));
  const file = join(f.dir, "cli.service");
  const write = (exec: string) =>
    writeFileSync(file, `[Service]\nExecStart=${exec}\n\n[X-Fleet]\nMachineMetadata=role=db\n`);
  write("/bin/sleep infinity");
  await ctl("submit", file);
  expect(out.pop()).toBe("Unit cli.service submitted");
  expect((await json("GET", `${V1}units/cli.service`)).json.desiredState).toBe("inactive");

  write("/bin/sleep 12345");
  await expect(ctl("submit", file)).rejects.toThrow(/differs from .*use --replace/);
  await ctl("submit", "--replace", file);
  expect(out.splice(0)).toEqual(["Unit cli.service replaced", "Unit cli.service submitted"]);
  expect((await json("GET", `${V1}units/cli.service`)).json.options[0].value).toBe(
    "/bin/sleep 12345",
  );

  // blocking start: returns once the unit is active on its machine
  await ctl("start", "--block-attempts", "40", "cli.service");
  expect(out.pop()).toBe(`Unit cli.service launched on ${machineID(2).slice(0, 8)}...`);
  expect(f.agents[1].systemd.running()).toContain("cli.service");

  write("/bin/sleep 54321");
  await ctl("start", "--replace", file);
  expect(out.splice(0)).toEqual([
    "Unit cli.service replaced",
    `Unit cli.service launched on ${machineID(2).slice(0, 8)}...`,
  ]);

  await ctl("status", "cli.service");
  expect(out.pop()).toMatch(/cli.service[\s\S]*Active: active \(running\)/);
  await ctl("journal", "--lines", "2", "cli.service");
  expect(out.pop()!.split("\n")).toHaveLength(2);
  await expect(ctl("journal", "--lines", "0", "cli.service")).rejects.toThrow(/positive integer/);

  await ctl("stop", "cli.service");
  expect(out.pop()).toBe(`Unit cli.service loaded on ${machineID(2).slice(0, 8)}...`);
  expect(f.agents[1].systemd.running()).not.toContain("cli.service");
  await ctl("start", "--no-block", "cli.service");
  expect(out.pop()).toMatch(/Unit cli.service launched/);
  await ctl("destroy", "cli.service");
});
