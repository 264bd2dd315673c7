// Free TCP ports on 127.0.0.1 for the tests' own servers (etcd, the registry).
import * as net from "net";

/**
 * `n` distinct free ports, the kernel's pick. All `n` listeners stay open until the
 * last is bound: a port released before the next is asked for can come back as the
 * next one (an etcd cluster was once given the same peer port twice).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** One free port; see freePorts. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}
