// A short-lived HTTP server that hands one node its full Ignition config. It listens
// on the host-only address only (never 0.0.0.0: the config carries the node's private
// key), on a port the OS picks, answers exactly one path, and is closed by the node
// create as soon as the node answered (or failed).
import * as http from "http";
import type { AddressInfo } from "net";
import { configPath } from "./bootstrap";

export interface IgnitionServer {
  port: number;
  /** Resolves the first time the node fetched its config. */
  fetched: Promise<void>;
  /** How many times the config was served (Ignition may retry). */
  served(): number;
  close(): Promise<void>;
}

export async function serveIgnition(
  hostIp: string,
  vmName: string,
  config: string,
): Promise<IgnitionServer> {
  const path = configPath(vmName);
  let count = 0;
  let markFetched: () => void = () => undefined;
  const fetched = new Promise<void>((r) => (markFetched = r));
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" || req.url !== path) {
      res.writeHead(404).end();
      return;
    }
    count++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(config, () => markFetched());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot serve ${vmName}'s Ignition on ${hostIp} (${e.code ?? e.message}): ` +
            `the host-only interface must be up with that address (fleetlab:network.gateway)`,
        ),
      ),
    );
    server.listen(0, hostIp, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    fetched,
    served: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
