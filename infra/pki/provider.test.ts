// The engine runs a dynamic provider from its serialized closure in another process.
// Serialize it the same way, load it from text alone, and drive create and diff.
import * as pulumi from "@pulumi/pulumi";
import Module from "module";
import * as path from "path";
import { describeCert, verifySignedBy } from "./certs";
import { caProvider, certProvider } from "./provider";

type Provider = pulumi.dynamic.ResourceProvider;

async function reload(provider: Provider): Promise<Provider> {
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  // Like the engine's requireFromString: a module compiled from text, resolving
  // node_modules from the project.
  const file = path.join(__dirname, "__serialized_provider__.js");
  const m = new Module(file, module) as Module & { _compile(code: string, file: string): void };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(
    __dirname,
  );
  m._compile(sf.text, file);
  return (m.exports as Record<string, () => Provider>)[sf.exportName]();
}

describe("PKI dynamic providers", () => {
  jest.setTimeout(60_000);

  it("serialize to self-contained closures that create a CA and a node cert", async () => {
    const ca = await (await reload(caProvider)).create({ commonName: "lab CA", validityDays: 30 });
    expect(describeCert(ca.outs.certPem).isCa).toBe(true);
    const certs = await reload(certProvider);
    const inputs = {
      caCertPem: ca.outs.certPem,
      caKeyPem: ca.outs.keyPem,
      commonName: "core-01",
      dnsNames: ["core-01"],
      ipAddresses: ["10.88.0.11"],
      usage: "server",
      validityDays: 30,
    };
    const cert = await certs.create(inputs);
    expect(verifySignedBy(cert.outs.certPem, ca.outs.certPem)).toBe(true);
    // The CA key is an input only: it must not be copied into the cert's state.
    expect(cert.outs).not.toHaveProperty("caKeyPem");

    const same = await certs.diff!(cert.id, cert.outs, inputs);
    expect(same).toMatchObject({ changes: false, replaces: [] });
    const moved = await certs.diff!(cert.id, cert.outs, { ...inputs, ipAddresses: ["10.88.0.50"] });
    expect(moved).toMatchObject({ changes: true, replaces: ["ipAddresses"] });
    const newCa = await certs.diff!(cert.id, cert.outs, { ...inputs, caCertPem: "other" });
    expect(newCa.replaces).toEqual(["caCertPem"]);
  });
});
