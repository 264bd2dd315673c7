// The LabData and FleetUnit dynamic providers, serialized the way the Pulumi engine
// ships them and run against a real etcd and the real /fleet/v1 API (unix socket).
import * as pulumi from "@pulumi/pulumi";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import Module from "module";
import { tmpdir } from "os";
import { join } from "path";
import { dataKeys } from "../../labdata/keys";
import { loadDataSet } from "../../labdata/load";
import { serveApi } from "../../fleet/api/server";
import { FleetService } from "../../fleet/api/service";
import { Registry } from "../../fleet/registry/registry";
import { parseUnitFile } from "../../fleet/unit/unit";
import {
  fleetUnitProvider,
  FleetUnitInputs,
  LabDataInputs,
  labDataProvider,
} from "../../infra/services/providers";
import { serviceUnits } from "../../units/services";
import { ROOT, ServiceEnv } from "./harness";

jest.setTimeout(120_000);
type Provider<T> = pulumi.dynamic.ResourceProvider<T, T>;
const env = new ServiceEnv();
const tmp = mkdtempSync(join(tmpdir(), "flt-pulumi-prov-"));
let api: { close(): Promise<void> };

/** Serializes a provider like the engine does and loads it back from the text alone. */
async function shipped<T>(provider: Provider<T>): Promise<Provider<T>> {
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  const file = join(__dirname, "__serialized__.js");
  const m = new Module(file, module) as Module & { _compile(code: string, file: string): void };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(
    __dirname,
  );
  m._compile(sf.text, file);
  return (m.exports as Record<string, () => Provider<T>>)[sf.exportName]();
}

beforeAll(async () => {
  cpSync(join(ROOT, "data"), join(tmp, "data"), { recursive: true });
  await env.startEtcd();
  api = await serveApi(new FleetService(new Registry(env.client)), {
    socket: join(tmp, "fleet.sock"),
  });
});

afterAll(async () => {
  await api?.close();
  await env.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

test("LabData: create writes the blob and current, update moves current, delete removes the set", async () => {
  const p = await shipped(labDataProvider);
  const dataDir = join(tmp, "data");
  const inputs: LabDataInputs = {
    set: "dhcp",
    data: dataDir,
    hash: loadDataSet("dhcp", dataDir).manifest.hash,
    etcd: { endpoints: env.etcd.endpoints },
  };
  await p.create!(inputs);
  const k = dataKeys("dhcp");
  expect(await env.client.get(k.current).string()).toBe(inputs.hash);

  writeFileSync(
    join(dataDir, "dhcp.yaml"),
    `${readFileSync(join(dataDir, "dhcp.yaml"), "utf8")}  - { name: x, mac: "52:54:00:dd:00:01", ip: 192.168.56.90 }\n`,
  );
  const next = { ...inputs, hash: loadDataSet("dhcp", dataDir).manifest.hash };
  const diff = await p.diff!("labdata-dhcp", inputs, next);
  expect(diff).toMatchObject({ changes: true, replaces: [] });
  await p.update!("labdata-dhcp", inputs, next);
  expect(await env.client.get(k.current).string()).toBe(next.hash);
  const blobs = (await env.client.getAll().prefix(k.blobsPrefix).keys()).map(String);
  expect(blobs.every((b) => b.includes(next.hash))).toBe(true); // the old blob is gone

  await expect(p.update!("labdata-dhcp", next, inputs)).rejects.toThrow(/changed while pulumi ran/);
  await p.delete!("labdata-dhcp", next);
  expect(await env.client.getAll().prefix(k.prefix).keys()).toEqual([]);
});

test("FleetUnit: submit, diff (state change = update, text change = replace), destroy", async () => {
  const p = await shipped(fleetUnitProvider);
  const unit = serviceUnits().find((u) => u.name === "www.service")!;
  const inputs: FleetUnitInputs = {
    name: unit.name,
    text: unit.text,
    options: parseUnitFile(unit.text),
    desiredState: "loaded",
    api: { socket: join(tmp, "fleet.sock") },
  };
  const reg = new Registry(env.client);
  await p.create!(inputs);
  expect((await reg.listUnits()).map((u) => [u.name, u.desiredState])).toEqual([
    ["www.service", "loaded"],
  ]);

  const launched = { ...inputs, desiredState: "launched" as const };
  expect(await p.diff!(unit.name, inputs, launched)).toMatchObject({ changes: true, replaces: [] });
  await p.update!(unit.name, inputs, launched);
  expect((await reg.listUnits())[0].desiredState).toBe("launched");

  // A changed unit file is an in-place update (fleet's --replace), not delete + create.
  const other = serviceUnits({ wwwPort: 8081 }).find((u) => u.name === "www.service")!;
  const changed = { ...launched, text: other.text, options: parseUnitFile(other.text) };
  expect(await p.diff!(unit.name, launched, changed)).toMatchObject({
    changes: true,
    replaces: [],
  });
  await p.update!(unit.name, launched, changed);
  expect(await reg.listUnits()).toEqual([
    { name: unit.name, options: changed.options, desiredState: "launched" },
  ]);
  expect(await p.diff!(unit.name, changed, changed)).toMatchObject({ changes: false });

  await p.delete!(unit.name, changed);
  expect(await reg.listUnits()).toEqual([]);
});
