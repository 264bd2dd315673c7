// The wait for the lab's fleet engine is bounded and says what is missing. Real
// sockets on 127.0.0.1 only: a closed port, and a TLS server that answers /machines.
import * as https from "https";
import Module from "module";
import { AddressInfo } from "net";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { labSpecFromFile } from "../config";
import { generateLabTls } from "../pki";
import { fleetReadyProvider, FleetReadyInputs, waitForFleet } from "./ready";

const spec = labSpecFromFile("local");
const tls = generateLabTls(spec);
const node = tls.nodes.get(spec.nodes[0].name)!;
const api = (url: string) => ({
  urls: [url],
  caPem: tls.ca.certPem,
  certPem: tls.admin.certPem,
  keyPem: tls.admin.keyPem,
});

/** A JSON server over TLS with the lab's node cert, client certs required; body per URL. */
async function labTlsServer(body: (url: string) => unknown): Promise<https.Server> {
  const s = https.createServer(
    {
      cert: node.cert,
      key: node.key,
      ca: tls.ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(body(req.url ?? "")));
    },
  );
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return s;
}

/** A /fleet/v1/machines that lists `ips()`. */
const machinesServer = (ips: () => string[]): Promise<https.Server> =>
  labTlsServer(() => ({
    machines: ips().map((ip, n) => ({ id: `m${n}`, primaryIP: ip, metadata: {} })),
  }));

const close = (s: https.Server) => new Promise((r) => s.close(r));
const base = { nodeIps: ["10.1.0.11", "10.1.0.12"], machineIds: [], pollMs: 50 };

test("gives up after its timeout, naming the endpoint and what to check", async () => {
  const s = await machinesServer(() => []);
  const port = (s.address() as AddressInfo).port;
  await close(s); // nothing listens there any more
  const url = `https://127.0.0.1:${port}`;
  await expect(waitForFleet({ ...base, api: api(url), timeoutMs: 300 })).rejects.toThrow(
    new RegExp(
      `not ready after 0 s: cannot reach the fleet API at ${url}[^]*fleet-agent\\.service`,
    ),
  );
});

test("waits until every node's agent has registered, with the admin cert", async () => {
  let calls = 0;
  const s = await machinesServer(() => (++calls < 3 ? ["10.1.0.11"] : ["10.1.0.12", "10.1.0.11"]));
  try {
    const url = `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
    await expect(waitForFleet({ ...base, api: api(url), timeoutMs: 10_000 })).resolves.toEqual([
      "10.1.0.11",
      "10.1.0.12",
    ]);
    expect(calls).toBe(3);
    await expect(
      waitForFleet({ ...base, nodeIps: ["10.1.0.13"], api: api(url), timeoutMs: 200 }),
    ).rejects.toThrow(/no agent registered for 10\.1\.0\.13/);
  } finally {
    await close(s);
  }
});

/** The provider as the engine runs it: serialized, then loaded from the text alone. */
async function shipped(): Promise<typeof fleetReadyProvider> {
  const provider = fleetReadyProvider;
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  const file = path.join(__dirname, "__serialized_ready__.js");
  const m = new Module(file, module) as Module & { _compile(code: string, file: string): void };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(
    __dirname,
  );
  m._compile(sf.text, file);
  return (m.exports as Record<string, () => typeof fleetReadyProvider>)[sf.exportName]();
}

test("asks the next node when the first one is down (the provider as shipped)", async () => {
  const dead = await machinesServer(() => []);
  const deadUrl = `https://127.0.0.1:${(dead.address() as AddressInfo).port}`;
  await close(dead);
  const s = await machinesServer(() => ["10.1.0.11", "10.1.0.12"]);
  try {
    const url = `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const inputs = { ...base, api: { ...api(url), urls: [deadUrl, url] }, timeoutMs: 5_000 };
    const provider = await shipped();
    await expect(provider.create!(inputs)).resolves.toMatchObject({ id: "fleet-ready" });
    // With every node down, the error names each URL and why.
    const down = { ...inputs, api: { ...inputs.api, urls: [deadUrl, deadUrl] }, timeoutMs: 100 };
    await expect(provider.create!(down)).rejects.toThrow(
      `cannot reach the fleet API at any of 2 endpoints: ${deadUrl}: connect ECONNREFUSED 127.0.0.1:${deadUrl.split(":")[2]}; ${deadUrl}`,
    );
  } finally {
    await close(s);
  }
}, 60_000);

test("a change of access alone (URLs, credentials) or of the bound is no change", async () => {
  const olds: FleetReadyInputs = {
    ...base,
    machineIds: ["a", "b"],
    timeoutMs: 1,
    api: { urls: ["https://10.88.0.11:49153"], caPem: "old", certPem: "old", keyPem: "old" },
  };
  const news = { ...olds, api: api("https://10.88.0.12:49153"), timeoutMs: 2 };
  const diff = fleetReadyProvider.diff!;
  await expect(diff("fleet-ready", olds, news)).resolves.toMatchObject({ changes: false });
  await expect(
    diff("fleet-ready", olds, { ...news, machineIds: ["a", "c"] }),
  ).resolves.toMatchObject({ changes: true, replaces: [] });
});

test("a wait that gives up says, per node, whether its agent registered and what its etcd member says", async () => {
  // One TLS server plays both: the fleet API (one agent registered) and an etcd
  // member's /health that sees no leader. A second member's port is closed.
  const s = await labTlsServer((url) =>
    url === "/health"
      ? { health: "false", reason: "RAFT NO LEADER" }
      : { machines: [{ id: "m0", primaryIP: "10.1.0.11", metadata: {} }] },
  );
  const closed = await machinesServer(() => []);
  const closedUrl = `https://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await close(closed);
  try {
    const url = `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const err = await waitForFleet({
      ...base,
      api: api(url),
      etcdUrls: { "10.1.0.11": url, "10.1.0.12": closedUrl },
      timeoutMs: 200,
    }).catch((e: Error) => e);
    expect(String(err)).toContain(
      "10.1.0.11: agent registered; etcd member unhealthy (RAFT NO LEADER)",
    );
    expect(String(err)).toMatch(
      /10\.1\.0\.12: agent NOT registered; etcd member not answering \(connect ECONNREFUSED/,
    );
  } finally {
    await close(s);
  }
});
