// A TCP proxy in front of one etcd member. freeze() turns it into a black hole
// (connections stay open, no byte passes, new connections hang) — what a cut
// cable looks like to gRPC: requests time out instead of failing fast.
import * as net from "net";

export class BlackholeProxy {
  private server?: net.Server;
  private sockets = new Set<net.Socket>();
  frozen = false;
  port = 0;

  constructor(private targetPort: number) {}

  async start(): Promise<number> {
    this.server = net.createServer((client) => {
      this.sockets.add(client);
      client.on("close", () => this.sockets.delete(client));
      client.on("error", () => undefined);
      if (this.frozen) {
        client.pause();
        return;
      }
      const upstream = net.connect(this.targetPort, "127.0.0.1");
      this.sockets.add(upstream);
      upstream.on("close", () => {
        this.sockets.delete(upstream);
        if (!this.frozen) client.destroy();
      });
      upstream.on("error", () => undefined);
      client.on("close", () => {
        if (!this.frozen) upstream.destroy();
      });
      client.on("data", (d) => {
        if (!this.frozen) upstream.write(d);
      });
      upstream.on("data", (d) => {
        if (!this.frozen) client.write(d);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  freeze(): void {
    this.frozen = true;
  }

  /** Heal the partition: drop the dead connections so clients reconnect. */
  thaw(): void {
    this.frozen = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
