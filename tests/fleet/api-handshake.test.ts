// The API's TLS listener against clients that connect and never finish the handshake:
// at most `maxPending` of them at a time (more are closed at once), each dropped after
// the deadline, while a real client with the lab's certificate still gets through.
import { mkdtempSync, readFileSync, rmSync } from "fs";
import * as net from "net";
import { tmpdir } from "os";
import { join } from "path";
import * as tls from "tls";
import { serveApi } from "../../fleet/api/server";
import { FleetService } from "../../fleet/api/service";
import { connect, Registry } from "../../fleet/registry/registry";
import { makeCA, makeCert } from "./tls";

const LIMITS = { maxPending: 4, timeoutMs: 1_500 };
let dir: string;
let api: Awaited<ReturnType<typeof serveApi>>;
let port: number;
let client: { cert: string; key: string };
const open: net.Socket[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fleet-handshake-"));
  makeCA(dir, "ca");
  const server = makeCert(dir, "ca", "server", "IP:127.0.0.1");
  client = makeCert(dir, "ca", "client");
  // No request reaches the service here: only handshakes are made.
  const reg = new Registry(connect({ endpoints: ["http://127.0.0.1:9"] }));
  api = await serveApi(new FleetService(reg), {
    tcp: {
      host: "127.0.0.1",
      port: 0,
      caFile: join(dir, "ca.pem"),
      certFile: server.cert,
      keyFile: server.key,
    },
    handshake: LIMITS,
  });
  port = api.tcpPort as number;
});

afterAll(async () => {
  for (const s of open) s.destroy();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A TCP client that says nothing; resolves with when the server closed it (ms). */
function silent(): { closed: Promise<number> } {
  const t0 = Date.now();
  const s = net.connect(port, "127.0.0.1");
  open.push(s);
  s.on("error", () => undefined);
  return { closed: new Promise((r) => s.once("close", () => r(Date.now() - t0))) };
}

function handshake(): Promise<string> {
  return new Promise((resolve) => {
    const c = tls.connect({
      host: "127.0.0.1",
      port,
      ca: readFileSync(join(dir, "ca.pem")),
      cert: readFileSync(client.cert),
      key: readFileSync(client.key),
    });
    c.once("secureConnect", () => {
      c.end();
      resolve("secure");
    });
    c.once("error", (e) => resolve(`error: ${e.message}`));
    c.once("close", () => resolve("closed"));
  });
}

test("silent clients over the cap are closed at once, the rest at the deadline", async () => {
  const first = Array.from({ length: LIMITS.maxPending }, silent);
  await new Promise((r) => setTimeout(r, 200));
  const over = Array.from({ length: 3 }, silent);
  const overClosed = await Promise.all(over.map((s) => s.closed));
  expect(Math.max(...overClosed)).toBeLessThan(LIMITS.timeoutMs / 2);
  // While the cap is full, a new handshake is refused too: that is the cap.
  expect(await handshake()).not.toBe("secure");
  const firstClosed = await Promise.all(first.map((s) => s.closed));
  expect(Math.min(...firstClosed)).toBeGreaterThanOrEqual(LIMITS.timeoutMs - 200);
  // Dropped after the deadline, never held for Node's default of 120 s.
  expect(Math.max(...firstClosed)).toBeLessThan(LIMITS.timeoutMs + 5_000);
}, 30_000);

test("once the silent clients are gone, a client with the lab's certificate gets through", async () => {
  expect(await handshake()).toBe("secure");
  // Finished handshakes do not hold a slot: more clients than the cap, one after another.
  for (let i = 0; i < LIMITS.maxPending + 2; i++) expect(await handshake()).toBe("secure");
}, 30_000);
