// `pulumi up` of the services (real engine, real etcd, real /fleet/v1 API, a real
// nginx container with its sidekick): data sets land in etcd and units in the fleet
// registry; a page edit previews as one in-place LabData update and is served after
// `up`; destroy removes the data and the units.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import type { Stack } from "@pulumi/pulumi/automation";
import { DATA_PREFIX, dataKeys } from "../../labdata/keys";
import { applyWww } from "../../containers/sidekick/appliers";
import { serveApi } from "../../fleet/api/server";
import { FleetService } from "../../fleet/api/service";
import { Registry } from "../../fleet/registry/registry";
import { serviceUnits } from "../../units/services";
import { waitFor } from "../support/wait";
import { changeCounts, ENGINE_TIMEOUT_MS, tempProject, TestProject } from "../pulumi/harness";
import { buildImages, contextFor, inNet, ROOT, Service, ServiceEnv } from "./harness";

jest.setTimeout(ENGINE_TIMEOUT_MS);
const env = new ServiceEnv();
const tmp = mkdtempSync(join(tmpdir(), "flt-pulumi-up-"));
const dataDir = join(tmp, "data");
const socket = join(tmp, "fleet.sock");
let api: { close(): Promise<void> };
let project: TestProject;
let stack: Stack;
let www: Service;
const log: string[] = [];
const page = () => inNet(www.pid, ["curl", "-sS", "http://127.0.0.1:8080/"]).stdout;

beforeAll(async () => {
  buildImages("www");
  cpSync(join(ROOT, "data"), dataDir, { recursive: true });
  await env.startEtcd();
  api = await serveApi(new FleetService(new Registry(env.client)), { socket });
  www = env.runService("www", [], "up");
  await env.sidekick("www", applyWww, contextFor(www, "www", log));
  project = tempProject(join(__dirname, "fixtures/lab-services"));
  stack = await project.open("test");
  await stack.setConfig("dataDir", { value: dataDir });
  await stack.setConfig("etcdEndpoints", { value: env.etcd.endpoints.join(",") });
  await stack.setConfig("fleetSocket", { value: socket });
});

afterAll(async () => {
  await stack?.workspace.removeStack("test", { force: true }).catch(() => undefined);
  project?.cleanup();
  await api?.close();
  await env.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

test("up writes the three data sets into etcd and submits every service unit", async () => {
  const res = await stack.up();
  expect(res.summary.result).toBe("succeeded");
  for (const set of ["dhcp", "www", "ldap"]) {
    expect(await env.client.get(dataKeys(set).current).string()).toMatch(/^[0-9a-f]{20}$/);
  }
  const units = await new Registry(env.client).listUnits();
  expect(units.map((u) => u.name).sort()).toEqual(
    serviceUnits()
      .map((u) => u.name)
      .sort(),
  );
  await waitFor("the site", () => page().includes("<h1>Faculty Lab</h1>"), 30_000, 100);
});

test("a page edit previews as one LabData update and is served after up", async () => {
  writeFileSync(join(dataDir, "www/index.html"), "<h1>edited by the admin</h1>\n");
  const preview = await stack.preview();
  expect(changeCounts(preview)).toEqual({ update: 1, same: expect.any(Number) });
  const res = await stack.up();
  expect(res.summary.resourceChanges).toMatchObject({ update: 1 });
  const t0 = Date.now();
  await waitFor("the edited page", () => page() === "<h1>edited by the admin</h1>\n", 30_000, 20);
  log.push(`served ${Date.now() - t0} ms after pulumi up returned`);
});

test("a unit change previews as an in-place update of that unit alone (fleet's replace), applied by up", async () => {
  await stack.setConfig("wwwPort", { value: "8081" });
  const preview = await stack.preview({ diff: true });
  expect(changeCounts(preview)).toEqual({ update: 1, same: expect.any(Number) });
  expect(preview.stdout).toMatch(/www\.service/);
  expect(preview.stdout).toMatch(/-p 8081:8080/);
  await stack.up();
  const unit = await new Registry(env.client).getUnit("www.service");
  expect(JSON.stringify(unit?.options)).toContain("8081:8080");
});

test("an admin's unit file: added is one create, edited one update (a text diff), a desiredState one update, removed one delete", async () => {
  const reg = new Registry(env.client);
  const units = join(tmp, "units");
  mkdirSync(units);
  const file = join(units, "hello.service");
  const hello = (word: string) =>
    `[Unit]\nDescription=hello\n\n[Service]\nExecStart=/bin/echo ${word}\n\n[X-Fleet]\nMachineOf=www.service\n`;
  writeFileSync(file, hello("one"));
  await stack.setConfig("unitsDir", { value: units });
  // up's own change counts, so only the text diff costs a preview (each engine run ~10 s).
  const changes = async () => (await stack.up()).summary.resourceChanges;
  expect(await changes()).toEqual({ create: 1, same: expect.any(Number) });
  expect(await reg.getUnit("hello.service")).toMatchObject({ desiredState: "launched" });

  writeFileSync(file, hello("two"));
  const edit = await stack.preview({ diff: true });
  expect(changeCounts(edit)).toEqual({ update: 1, same: expect.any(Number) });
  expect(edit.stdout).toMatch(/-\s*ExecStart=\/bin\/echo one/);
  expect(edit.stdout).toMatch(/\+\s*ExecStart=\/bin\/echo two/);
  await stack.up();
  expect(JSON.stringify((await reg.getUnit("hello.service"))?.options)).toContain("echo two");

  await stack.setConfig("units", {
    value: JSON.stringify({ "hello.service": { desiredState: "loaded" } }),
  });
  expect(await changes()).toEqual({ update: 1, same: expect.any(Number) });
  expect(await reg.getUnit("hello.service")).toMatchObject({ desiredState: "loaded" });

  // A bad file stops the preview with its file, line, option and fix, before anything changes.
  writeFileSync(
    join(units, "bad.service"),
    "[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobl=true\n",
  );
  await expect(stack.preview()).rejects.toThrow(
    /units\/bad\.service: line 4 \[X-Fleet\] Globl = "true": is not an \[X-Fleet\] option[^\n]*\n\s*fix: did you mean Global\?/,
  );
  expect(await reg.getUnit("bad.service")).toBeUndefined();
  rmSync(join(units, "bad.service"));

  await stack.removeConfig("units");
  rmSync(file);
  expect(await changes()).toEqual({ delete: 1, same: expect.any(Number) });
  expect(await reg.getUnit("hello.service")).toBeUndefined();
});

test("destroy removes the data sets and the units", async () => {
  const res = await stack.destroy();
  expect(res.summary.result).toBe("succeeded");
  expect(await env.client.getAll().prefix(DATA_PREFIX).keys()).toEqual([]);
  expect(await new Registry(env.client).listUnits()).toEqual([]);
});
