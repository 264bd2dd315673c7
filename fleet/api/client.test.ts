// FleetClient with several endpoints: it moves on when a node does not answer
// (refused, reset during the TLS handshake, silent), never when one answers with an
// HTTP error, and remembers the node that answered. Real sockets on 127.0.0.1 only;
// certificates from the fleet TLS test's helper (openssl).
import * as https from "https";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { AddressInfo, createServer, Server, Socket } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { makeCA, makeCert } from "../../tests/fleet/tls";
import { FleetApiError, FleetClient } from "./client";

const dir = mkdtempSync(join(tmpdir(), "fleet-client-"));
let creds: { ca: Buffer; cert: Buffer; key: Buffer };
let server: { cert: Buffer; key: Buffer };
const servers: (Server | https.Server)[] = [];
const sockets = new Set<Socket>();

beforeAll(() => {
  makeCA(dir, "ca");
  const s = makeCert(dir, "ca", "node", "IP:127.0.0.1");
  const c = makeCert(dir, "ca", "admin");
  server = { cert: readFileSync(s.cert), key: readFileSync(s.key) };
  creds = {
    ca: readFileSync(join(dir, "ca.pem")),
    cert: readFileSync(c.cert),
    key: readFileSync(c.key),
  };
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

const urlOf = (s: Server | https.Server) =>
  `https://127.0.0.1:${(s.address() as AddressInfo).port}`;

async function listen<S extends Server | https.Server>(s: S): Promise<S> {
  s.on("connection", (c: Socket) => (sockets.add(c), c.on("close", () => sockets.delete(c))));
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  servers.push(s);
  return s;
}

/** An agent's API stand-in: TLS with client certs required; counts requests. */
async function api(
  status = 200,
  body: unknown = { machines: [{ id: "m1", primaryIP: "10.88.0.11", metadata: {} }] },
) {
  const hits: string[] = [];
  const s = await listen(
    https.createServer(
      { ...server, ca: creds.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        hits.push(`${req.method} ${req.url}`);
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      },
    ),
  );
  return { url: urlOf(s), hits };
}

/** A port nothing listens on any more: connections are refused. */
async function closedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const url = urlOf(s);
  await new Promise((r) => s.close(r));
  return url;
}

/** Accepts TCP, then `reset`s it (a node going down mid-handshake) or says nothing. */
async function badPeer(mode: "reset" | "silent") {
  let connections = 0;
  const s = await listen(
    createServer((c) => {
      connections++;
      if (mode === "reset") c.resetAndDestroy();
    }),
  );
  return { url: urlOf(s), connections: () => connections };
}

const client = (urls: string[], timeoutMs = 2000) => new FleetClient({ urls, ...creds }, timeoutMs);

test("a refused first endpoint: the second answers, and is asked first from then on", async () => {
  const dead = await closedPort();
  const live = await api();
  const c = client([dead, live.url]);
  expect((await c.listMachines()).map((m) => m.primaryIP)).toEqual(["10.88.0.11"]);
  expect(c.endpoint).toBe(live.url);
  expect(live.hits).toEqual(["GET /fleet/v1/machines"]);
});

test("a handshake reset or a silent node is skipped, and not tried again while the next answers", async () => {
  for (const mode of ["reset", "silent"] as const) {
    const bad = await badPeer(mode);
    const live = await api();
    const c = client([bad.url, live.url], 300);
    await c.listMachines();
    await c.listMachines();
    expect([mode, bad.connections(), live.hits.length]).toEqual([mode, 1, 2]);
  }
});

test("an HTTP error from the first endpoint is the answer: not retried elsewhere", async () => {
  const refusing = await api(400, { error: { code: 400, message: "unit options are invalid" } });
  const other = await api();
  const c = client([refusing.url, other.url]);
  const put = c.putUnit("x.service", "launched", []);
  await expect(put).rejects.toBeInstanceOf(FleetApiError);
  await expect(put).rejects.toThrow("fleet API 400: unit options are invalid");
  expect(refusing.hits).toEqual(["PUT /fleet/v1/units/x.service"]);
  expect(other.hits).toEqual([]);
  // 404 on GET is an answer too ("no such unit"), not a reason to ask another node.
  const missing = await api(404, { error: { code: 404, message: "unit does not exist" } });
  const c2 = client([missing.url, other.url]);
  await expect(c2.getUnit("y.service")).resolves.toBeUndefined();
  expect(other.hits).toEqual([]);
});

test("when no endpoint answers, the error names every URL tried and its error", async () => {
  const a = await closedPort();
  const b = await badPeer("reset");
  const err = (await client([a, b.url])
    .listMachines()
    .catch((e: Error) => e)) as Error;
  expect(err.message).toMatch(
    new RegExp(
      `^cannot reach the fleet API at any of 2 endpoints: ${a}: connect ECONNREFUSED [^;]*; ${b.url}: .*(ECONNRESET|socket hang up)`,
    ),
  );
  // One URL keeps the message it always had.
  await expect(client([a]).listMachines()).rejects.toThrow(
    new RegExp(
      `^cannot reach the fleet API at ${a}: connect ECONNREFUSED.*\\(is the agent running\\?\\)$`,
    ),
  );
  expect(() => client([])).toThrow(/no URL given/);
});
