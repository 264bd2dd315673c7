// fleetUnitProvider: the access (URLs, credentials) is not part of a unit, so a new
// access changes nothing; and
// the provider as shipped reaches the API through the next node when the first is
// down. A stand-in API over TLS on 127.0.0.1 (the real one: tests/services/).
import * as https from "https";
import Module from "module";
import { AddressInfo } from "net";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { labSpecFromFile } from "../config";
import { generateLabTls } from "../pki";
import { fleetUnitProvider, FleetUnitInputs } from "./providers";

const spec = labSpecFromFile("local");
const tls = generateLabTls(spec);
const node = tls.nodes.get(spec.nodes[0].name)!;
const creds = { caPem: tls.ca.certPem, certPem: tls.admin.certPem, keyPem: tls.admin.keyPem };

const unit = (api: FleetUnitInputs["api"]): FleetUnitInputs => ({
  name: "www.service",
  text: "[Service]\nExecStart=/bin/true\n",
  options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }],
  desiredState: "launched",
  api,
});

describe("fleetUnitProvider.diff", () => {
  const diff = fleetUnitProvider.diff!;
  const old = unit({ urls: ["https://10.88.0.11:49153"], ...creds });

  it("sees no change when only the access changed", async () => {
    const urls = ["https://10.88.0.11:49153", "https://10.88.0.12:49153"];
    await expect(diff("www.service", old, unit({ urls, ...creds }))).resolves.toMatchObject({
      changes: false,
      replaces: [],
    });
    const rotated = unit({ urls, ...creds, keyPem: "another key" });
    await expect(diff("www.service", old, rotated)).resolves.toMatchObject({ changes: false });
  });

  it("updates a changed unit file or desired state in place; only a new name replaces", async () => {
    const news = unit({ urls: ["https://10.88.0.12:49153"], ...creds });
    await expect(diff("x", old, { ...news, text: "[Service]\n" })).resolves.toMatchObject({
      changes: true,
      replaces: [],
    });
    await expect(diff("x", old, { ...news, name: "web.service" })).resolves.toMatchObject({
      changes: true,
      replaces: ["name"],
    });
    await expect(diff("x", old, { ...news, desiredState: "loaded" })).resolves.toMatchObject({
      changes: true,
      replaces: [],
    });
  });
});

/** The provider as the engine runs it: serialized, then loaded from the text alone. */
async function shipped(): Promise<typeof fleetUnitProvider> {
  const provider = fleetUnitProvider;
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  const file = path.join(__dirname, "__serialized_units__.js");
  const m = new Module(file, module) as Module & { _compile(code: string, file: string): void };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(
    __dirname,
  );
  m._compile(sf.text, file);
  return (m.exports as Record<string, () => typeof fleetUnitProvider>)[sf.exportName]();
}

test("create and delete go to the next node when the first is down (as shipped)", async () => {
  const hits: string[] = [];
  const live = https.createServer(
    { cert: node.cert, key: node.key, ca: tls.ca.certPem, requestCert: true },
    (req, res) => {
      hits.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(req.method === "PUT" ? 201 : 204, { "Content-Type": "application/json" });
      res.end();
    },
  );
  const dead = https.createServer();
  await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
  const deadUrl = `https://127.0.0.1:${(dead.address() as AddressInfo).port}`;
  await new Promise((r) => dead.close(r));
  await new Promise<void>((r) => live.listen(0, "127.0.0.1", r));
  try {
    const liveUrl = `https://127.0.0.1:${(live.address() as AddressInfo).port}`;
    const provider = await shipped();
    const inputs = unit({ urls: [deadUrl, liveUrl], ...creds });
    await expect(provider.create!(inputs)).resolves.toMatchObject({ id: "www.service" });
    // delete uses the access recorded with the unit.
    await provider.delete!("www.service", unit({ urls: [deadUrl, liveUrl], ...creds }));
    expect(hits).toEqual(["PUT /fleet/v1/units/www.service", "DELETE /fleet/v1/units/www.service"]);
  } finally {
    await new Promise((r) => live.close(r));
  }
}, 60_000);
