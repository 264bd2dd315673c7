// Reloading nginx and knowing that it worked. SIGHUP makes the master start new
// workers with the new config and retire the old ones; until the old workers are
// gone they may still answer with the old config, and if nginx rejects the config
// it keeps them. So: signal, then wait (bounded) until none of the workers that
// existed before the signal remains.
import { readdirSync, readFileSync } from "fs";

/** PIDs whose parent is `pid`, from /proc (the sidekick shares nginx's PID namespace). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

export async function reloadNginx(master: number, timeoutMs = 60_000): Promise<void> {
  const old = childrenOf(master);
  process.kill(master, "SIGHUP");
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    const now = childrenOf(master);
    if (now.length > 0 && !now.some((p) => old.includes(p))) return;
  }
  throw new Error(
    `nginx (pid ${master}) still runs workers from before SIGHUP after ${timeoutMs} ms: it rejected the new nginx.conf or old connections linger; see the www container's log`,
  );
}
