// The wait for the lab's fleet engine is bounded and says what is missing. Real
// sockets on 127.0.0.1 only: a closed port, and a TLS server that answers /machines.
import * as https from "https";
import { AddressInfo } from "net";
import { labSpecFromFile } from "../config";
import { generateLabTls } from "../pki";
import { waitForFleet } from "./ready";

const spec = labSpecFromFile("local");
const tls = generateLabTls(spec);
const node = tls.nodes.get(spec.nodes[0].name)!;
const api = (url: string) => ({
  url,
  caPem: tls.ca.certPem,
  certPem: tls.admin.certPem,
  keyPem: tls.admin.keyPem,
});

/** A /fleet/v1/machines over TLS with the lab's node cert, client certs required. */
async function machinesServer(ips: () => string[]): Promise<https.Server> {
  const s = https.createServer(
    {
      cert: node.cert,
      key: node.key,
      ca: tls.ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (_req, res) => {
      res.setHeader("Content-Type", "application/json");
      res.end(
        JSON.stringify({
          machines: ips().map((ip, n) => ({ id: `m${n}`, primaryIP: ip, metadata: {} })),
        }),
      );
    },
  );
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return s;
}

const close = (s: https.Server) => new Promise((r) => s.close(r));
const base = { nodeIps: ["10.1.0.11", "10.1.0.12"], machineIds: [], pollMs: 50 };

test("gives up after its timeout, naming the endpoint and what to check", async () => {
  const s = await machinesServer(() => []);
  const port = (s.address() as AddressInfo).port;
  await close(s); // nothing listens there any more
  const url = `https://127.0.0.1:${port}`;
  await expect(waitForFleet({ ...base, api: api(url), timeoutMs: 300 })).rejects.toThrow(
    new RegExp(`not ready after 0 s: cannot reach the fleet API at ${url}.*fleet-agent\\.service`),
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
