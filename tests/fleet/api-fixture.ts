// What the /fleet/v1 tests share: a real 3-member etcd, two in-process agents
// (recording systemd; machine 1 role=web, machine 2 role=db), the API on a unix
// socket (page size 2) and on TCP+TLS on 127.0.0.1, and raw HTTP helpers.
import { mkdtempSync, rmSync } from "fs";
import * as http from "http";
import { tmpdir } from "os";
import { join } from "path";
import { serveApi } from "../../fleet/api/server";
import { FleetService } from "../../fleet/api/service";
import { connect, Registry } from "../../fleet/registry/registry";
import { EtcdCluster } from "./etcd";
import { startAgent, stopAgent } from "./harness";
import { makeCA, makeCert } from "./tls";

export interface ApiFixture {
  dir: string;
  socket: string;
  etcd: EtcdCluster;
  agents: Awaited<ReturnType<typeof startAgent>>[];
  reg: Registry;
  api: Awaited<ReturnType<typeof serveApi>>;
  tls: {
    ca: string;
    server: { cert: string; key: string };
    client: { cert: string; key: string };
    rogue: { cert: string; key: string };
  };
}

export async function startApiFixture(name: string): Promise<ApiFixture> {
  const dir = mkdtempSync(join(tmpdir(), `fleet-${name}-`));
  const socket = join(dir, "fleet.sock");
  const etcd = new EtcdCluster();
  await etcd.start();
  const agents = await Promise.all(
    [1, 2].map((n) => startAgent(etcd.endpoints, n, { role: n === 1 ? "web" : "db" })),
  );
  const reg = new Registry(connect({ endpoints: etcd.endpoints }));
  makeCA(dir, "ca");
  makeCA(dir, "rogue-ca");
  const tls = {
    ca: join(dir, "ca.pem"),
    server: makeCert(dir, "ca", "server", "IP:127.0.0.1"),
    client: makeCert(dir, "ca", "admin"),
    rogue: makeCert(dir, "rogue-ca", "intruder"),
  };
  const api = await serveApi(new FleetService(reg), {
    socket,
    pageSize: 2,
    tcp: {
      host: "127.0.0.1",
      port: 0,
      certFile: tls.server.cert,
      keyFile: tls.server.key,
      caFile: tls.ca,
    },
  });
  return { dir, socket, etcd, agents, reg, api, tls };
}

export async function stopApiFixture(f: Partial<ApiFixture> & { dir?: string }): Promise<void> {
  await f.api?.close();
  await Promise.all((f.agents ?? []).map(stopAgent));
  f.reg?.client.close();
  await f.etcd?.stop();
  if (f.dir) rmSync(f.dir, { recursive: true, force: true });
}

export interface RawAnswer {
  status: number;
  body: string;
  type?: string;
  allow?: string;
}

/** One request on the unix socket; a body goes as application/json unless `type` says. */
export function raw(
  socket: string,
  method: string,
  path: string,
  body?: string,
  type: string | null = "application/json",
): Promise<RawAnswer> {
  const headers = body !== undefined && type !== null ? { "Content-Type": type } : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path, method, headers }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () =>
        resolve({
          status: res.statusCode!,
          body: b,
          type: res.headers["content-type"],
          allow: res.headers["allow"] as string | undefined,
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** raw() with a JSON body and a parsed JSON answer (typed loosely, as JSON.parse is). */
export async function json(socket: string, method: string, path: string, body?: unknown) {
  const r = await raw(socket, method, path, body === undefined ? undefined : JSON.stringify(body));
  const parsed = r.body ? JSON.parse(r.body) : undefined;
  return { status: r.status, json: parsed, type: r.type, allow: r.allow };
}

export const SLEEP = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
