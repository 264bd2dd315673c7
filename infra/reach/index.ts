// How the management host reaches the lab's nodes: directly when the lab runs here
// (local, dev), through the hypervisor host's SSH when libvirt is remote (faculty).
// Every client that talks to a node (SSH readiness, etcd, the fleet API, lab status)
// asks here for the address to use; nothing else knows about the tunnel.
import type { SshHop } from "./hop";
import { tunnelThrough } from "./tunnel";

export { hopOfUri, jumpSpec, labHop, type SshHop } from "./hop";
export { closeTunnels } from "./tunnel";

/** host:port as the management host reaches it: itself, or a forward through the hop. */
export async function reachAddress(
  via: SshHop | undefined,
  host: string,
  port: number,
): Promise<{ host: string; port: number }> {
  if (!via) return { host, port };
  const local = await (await tunnelThrough(via)).forward(host, port);
  return { host: "127.0.0.1", port: local };
}

/**
 * URLs (https://<node ip>:<port>/...) as the management host reaches them. Through the
 * hop they name 127.0.0.1: the nodes' certificates carry 127.0.0.1 beside the node's
 * IP (infra/pki), so TLS still verifies, and each node keeps a port of its own, so a
 * client that tries the next node on a dead one still can.
 */
export async function reachUrls(via: SshHop | undefined, urls: string[]): Promise<string[]> {
  if (!via) return urls;
  return Promise.all(
    urls.map(async (u) => {
      const url = new URL(u);
      const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
      const to = await reachAddress(via, url.hostname, port);
      return `${url.protocol}//${to.host}:${to.port}${u.slice(url.origin.length)}`;
    }),
  );
}
