// What a stuck lab looks like from the management host, for the error that ends a
// wait: per node, whether its agent holds a machine lease (it is registered) and what
// its etcd member says of itself (etcd's /health answers false while the member sees
// no leader, so each member's answer is the cluster's health as that peer sees it).
// Only the lab's own TLS endpoints with the admin certificate: no SSH, no extra key.
import * as https from "https";
import type { FleetApiCredentials } from "../services/providers";

export interface NodeProbe {
  ip: string;
  /** etcd client URL of the node's member; absent for workers. */
  etcdUrl?: string;
}

/** One GET /health, bounded; what the member said, or why it said nothing. */
export function etcdHealth(url: string, c: FleetApiCredentials, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get(
      `${url}/health`,
      { ca: c.caPem, cert: c.certPem, key: c.keyPem, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d.slice(0, 1000)));
        res.on("end", () => {
          try {
            const h = JSON.parse(body) as { health?: string; reason?: string };
            resolve(
              h.health === "true" ? "healthy" : `unhealthy${h.reason ? ` (${h.reason})` : ""}`,
            );
          } catch {
            resolve(`answered ${res.statusCode} ${body.trim().slice(0, 80)}`);
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e) => resolve(`not answering (${e.message})`));
  });
}

/** One line per node: its IP, whether its agent registered, its etcd member's health. */
export async function describeNodes(
  nodes: NodeProbe[],
  registered: string[],
  c: FleetApiCredentials,
): Promise<string> {
  const lines = await Promise.all(
    nodes.map(async (n) => {
      const agent = registered.includes(n.ip) ? "agent registered" : "agent NOT registered";
      const etcd = n.etcdUrl ? `etcd member ${await etcdHealth(n.etcdUrl, c)}` : "no etcd member";
      return `  ${n.ip}: ${agent}; ${etcd}`;
    }),
  );
  return lines.join("\n");
}
