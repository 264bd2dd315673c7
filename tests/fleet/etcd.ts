// Test harness: a real 3-member etcd (Debian's /usr/bin/etcd) on free 127.0.0.1
// ports, data in a temp dir, stopped by PID.
import { ChildProcess, spawn } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { connect } from "../../fleet/registry/registry";
import { freePorts } from "../support/ports";
import { makeCA, makeCert } from "./tls";

export interface EtcdMember {
  name: string;
  clientURL: string;
  clientPort: number;
  proc?: ChildProcess;
  /** The end of etcd's stderr (errors, and raft's own INFO lines), for the error when it never serves. */
  stderr?: string;
}

/** Client TLS for the cluster: server cert (SAN 127.0.0.1) + CA that signs client certs. */
export interface EtcdTLS {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** a client certificate for the harness's own health check */
  client: { certFile: string; keyFile: string };
}

export class EtcdCluster {
  members: EtcdMember[] = [];
  constructor(private tls?: EtcdTLS) {}
  dir = mkdtempSync(join(tmpdir(), "fleet-etcd-"));
  private initial = "";
  private peers: number[] = [];

  get endpoints(): string[] {
    return this.members.map((m) => m.clientURL);
  }

  async start(size = 3): Promise<void> {
    // Every port of the cluster in one pick, so no two members share one.
    const ports = await freePorts(2 * size);
    for (let i = 0; i < size; i++) {
      const clientPort = ports[2 * i];
      this.peers.push(ports[2 * i + 1]);
      this.members.push({
        name: `m${i}`,
        clientPort,
        clientURL: `${this.tls ? "https" : "http"}://127.0.0.1:${clientPort}`,
      });
    }
    this.initial = this.members
      .map((m, i) => `${m.name}=http://127.0.0.1:${this.peers[i]}`)
      .join(",");
    this.members.forEach((_, i) => this.startMember(i));
    await this.waitHealthy();
  }

  startMember(i: number): void {
    const m = this.members[i];
    const peer = `http://127.0.0.1:${this.peers[i]}`;
    m.proc = spawn(
      "/usr/bin/etcd",
      [
        `--name=${m.name}`,
        `--data-dir=${join(this.dir, m.name)}`,
        `--listen-client-urls=${m.clientURL}`,
        `--advertise-client-urls=${m.clientURL}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=${this.initial}`,
        "--initial-cluster-state=new",
        "--initial-cluster-token=fleet-test",
        "--heartbeat-interval=100",
        "--election-timeout=1000",
        "--log-level=error",
        ...(this.tls
          ? [
              `--cert-file=${this.tls.certFile}`,
              `--key-file=${this.tls.keyFile}`,
              `--trusted-ca-file=${this.tls.caFile}`,
              "--client-cert-auth",
            ]
          : []),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    m.stderr = "";
    m.proc.stderr!.on("data", (d: Buffer) => {
      m.stderr = (m.stderr + d.toString()).slice(-2000);
    });
  }

  killMember(i: number): void {
    this.members[i].proc?.kill("SIGKILL");
    this.members[i].proc = undefined;
  }

  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const c = connect({
      endpoints: this.endpoints,
      ...(this.tls ? { caFile: this.tls.caFile, ...this.tls.client } : {}),
    });
    const end = Date.now() + timeoutMs;
    try {
      while (Date.now() < end) {
        try {
          await c.put("/health-check").value("ok");
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      // What each member said or how it ended: a port taken between freePorts() and
      // etcd's bind, a slow start and a crash look alike from the client's side.
      const why = this.members.map(
        (m) =>
          `${m.name} (${m.clientURL}): ${m.proc ? (m.proc.exitCode ?? m.proc.signalCode ?? "running") : "stopped by the test"}; ${m.stderr?.trim() || "nothing on stderr"}`,
      );
      throw new Error(`etcd cluster not healthy within ${timeoutMs} ms\n${why.join("\n")}`);
    } finally {
      c.close();
    }
  }

  async stop(): Promise<void> {
    for (const m of this.members) {
      const p = m.proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) continue;
      const exited = new Promise((r) => p.once("exit", r));
      p.kill("SIGKILL");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A cluster (not started) that requires client certificates: a CA, the server
 * certificate and one client certificate named `clientName`, all made in `dir`.
 */
export function clientTlsCluster(
  dir: string,
  clientName: string,
): { etcd: EtcdCluster; ca: string; client: { cert: string; key: string } } {
  makeCA(dir, "ca");
  const server = makeCert(dir, "ca", "etcd-server", "IP:127.0.0.1");
  const client = makeCert(dir, "ca", clientName);
  const ca = join(dir, "ca.pem");
  const etcd = new EtcdCluster({
    caFile: ca,
    certFile: server.cert,
    keyFile: server.key,
    client: { certFile: client.cert, keyFile: client.key },
  });
  return { etcd, ca, client };
}
