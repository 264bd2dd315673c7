// "Up" means the node answers SSH: sshd only starts after Ignition wrote the machine's
// files and networkd brought up the static address, so the banner proves both.
import * as net from "net";

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

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called on timeout to explain it (the node's console log tail). */
  diagnose: () => string;
  label: string;
  /** What to check first on this hypervisor, said on timeout. */
  hint: string;
}

export async function waitForSsh(ip: string, opts: WaitOptions): Promise<number> {
  const start = Date.now();
  const interval = opts.intervalMs ?? 2000;
  // Bounded by count as well as time, so a wrong clock cannot make it spin forever.
  const maxAttempts = Math.ceil(opts.timeoutMs / interval) + 1;
  for (let attempt = 0; attempt < maxAttempts && Date.now() - start < opts.timeoutMs; attempt++) {
    if ((await probeSsh(ip, 22, Math.min(5000, interval * 2))) === "ssh") return Date.now() - start;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(
    `${opts.label}: SSH did not answer at ${ip}:22 within ${Math.round(opts.timeoutMs / 1000)}s. ` +
      `${opts.hint} ` +
      `Console log tail:\n${opts.diagnose()}`,
  );
}
