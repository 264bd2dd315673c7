// "Up" means the node answers SSH: sshd only starts after Ignition wrote the machine's
// files and networkd brought up the static address, so the banner proves both.
import * as fs from "fs";
import * as net from "net";
import { Deadline } from "./deadline";

/** Upper bound for a node to answer SSH; TCG boots take minutes, KVM seconds. */
export const DEFAULT_READINESS_TIMEOUT_SEC = 900;

/** The readiness bound of this run: FLEETLAB_READINESS_TIMEOUT_SEC, else the default. */
export function readinessTimeoutSec(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FLEETLAB_READINESS_TIMEOUT_SEC;
  if (raw === undefined || raw === "") return DEFAULT_READINESS_TIMEOUT_SEC;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(
      `FLEETLAB_READINESS_TIMEOUT_SEC = ${raw}: must be a whole number of seconds >= 1, e.g. 900`,
    );
  }
  return n;
}

export type Probe = "ssh" | "refused" | "silent";

/** One bounded TCP probe: did an SSH server answer, a host refuse, or nothing at all. */
export function probeSsh(ip: string, port: number, timeoutMs: number): Promise<Probe> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port });
    let buf = "";
    const done = (p: Probe): void => {
      sock.destroy();
      clearTimeout(timer);
      resolve(p);
    };
    const timer = setTimeout(() => done("silent"), timeoutMs);
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      if (buf.startsWith("SSH-")) done("ssh");
    });
    sock.on("error", (e: NodeJS.ErrnoException) =>
      done(e.code === "ECONNREFUSED" ? "refused" : "silent"),
    );
    sock.on("close", () => done("silent"));
  });
}

/** The last `lines` lines of a console log on this host, or why there are none. */
export function tailFile(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch (e) {
    return `(no console log at ${file}: ${(e as Error).message})`;
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called on timeout to explain it (the node's console log tail). */
  diagnose: () => string;
  label: string;
  /** What to check first on this hypervisor, said on timeout. */
  hint: string;
  /**
   * Where this host reaches the node's port 22, when not at the node's address: a
   * forward through the hypervisor host (infra/reach) for a lab behind its NAT.
   */
  reach?: (ip: string, port: number) => Promise<{ host: string; port: number }>;
}

export async function waitForSsh(ip: string, opts: WaitOptions): Promise<number> {
  const deadline = new Deadline(opts.timeoutMs);
  const interval = opts.intervalMs ?? 2000;
  const to = opts.reach ? await opts.reach(ip, 22) : { host: ip, port: 22 };
  const up = await deadline.poll(
    async () =>
      (await probeSsh(to.host, to.port, Math.min(5000, interval * 2))) === "ssh"
        ? deadline.elapsed()
        : undefined,
    interval,
  );
  if (up !== undefined) return up;
  throw new Error(
    `${opts.label}: SSH did not answer at ${ip}:22 within ${Math.round(opts.timeoutMs / 1000)}s. ` +
      `${opts.hint} ` +
      `Console log tail:\n${opts.diagnose()}`,
  );
}
