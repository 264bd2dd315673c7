// One SSH connection to the hypervisor host that everything the management host sends
// to the lab goes through: OpenSSH in master mode (-M, a control socket of its own), and
// a local port forward per node address asked for, added to the running connection
// (-O forward) as the first request for that address comes. The user's own ssh, with
// their agent, keys, ~/.ssh/config and known_hosts: the host key is checked the way
// every ssh login checks it, never switched off here. One per process and hop; the
// connection ends with the process (`close` at exit, and the kernel's parent-death
// signal if the process is killed), so no forward outlives the run that made it.
import { ChildProcess, execFile, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { hopHostName, hopOptions, type SshHop } from "./hop";

export interface SshTunnel {
  readonly hop: SshHop;
  /** The master's PID (tests check it is gone after close). */
  readonly pid: number;
  /** A port on 127.0.0.1 that reaches host:port as the hypervisor host reaches it. */
  forward(host: string, port: number): Promise<number>;
  /** Ends the connection and every forward; idempotent. */
  close(): void;
  /**
   * Settles once the master process has exited. The connection holds its process
   * alive while someone waits here (otherwise it never does, and an exit that comes
   * later than everything else would end the process before this settles).
   */
  exited(): Promise<void>;
  /** False once the connection ended (closed, or dropped by the network or the server). */
  readonly alive: boolean;
}

/** How long the connection may take to come up (a slow server, a long login banner). */
export const TUNNEL_OPEN_TIMEOUT_MS = 30_000;

export const where = (h: SshHop): string => (h.port ? `${h.host} (port ${h.port})` : h.host);

/**
 * What ssh's failure means, named with the fix. `key` is the stack key the hop comes
 * from. ssh says why on stderr; the first lines that name a cause decide.
 */
export function sshFailure(h: SshHop, stderr: string, key = "fleetlab:hypervisor.uri"): string {
  const host = hopHostName(h);
  const said =
    stderr
      .replace(/\r/g, "")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !/^@+$/.test(l))
      .slice(-3)
      .join(" / ") || "ssh exited without a message";
  const known = `ssh-keyscan ${h.port ? `-p ${h.port} ` : ""}${host} >> ~/.ssh/known_hosts`;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(stderr))
    return `${key}: ${host} answers with a host key that does not match known_hosts (${said}); if the server's key really changed, check its fingerprint with the server's admin, then \`ssh-keygen -R ${host}\` and \`${known}\``;
  if (/Host key verification failed|No .* host key is known/i.test(stderr))
    return `${key}: the host key of ${host} is not in known_hosts (${said}); fleetlab never skips the check: compare the server's fingerprint with its admin, then \`${known}\``;
  if (/Permission denied|Too many authentication failures/i.test(stderr))
    return `${key}: ${where(h)} refused the login (${said}); check the user in the URI and that its key is in that user's ~/.ssh/authorized_keys on the server (load it into ssh-agent, or name it with ?keyfile= in the URI)`;
  if (/Could not resolve hostname|Name or service not known/i.test(stderr))
    return `${key}: ${where(h)} does not resolve (${said}); fix the host name in the URI`;
  if (
    /Connection refused|timed out|No route to host|Network is unreachable|Connection closed/i.test(
      stderr,
    )
  )
    return `${key}: ${where(h)} does not answer on SSH (${said}); check the host and port in the URI, that sshd runs there, and that this machine can reach it`;
  return `${key}: ssh to ${where(h)} failed (${said}); check that \`ssh ${h.port ? `-p ${h.port} ` : ""}${h.host} true\` works without a prompt`;
}

/** A free TCP port on 127.0.0.1 (free now: ssh binds it right after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function run(argv: string[], timeoutMs: number): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    execFile("ssh", argv, { timeout: timeoutMs, encoding: "utf8" }, (err, _out, stderr) =>
      resolve({ ok: !err, stderr: String(stderr) }),
    );
  });
}

/** argv that makes the kernel stop `argv` when this process dies (util-linux setpriv). */
function tiedToThisProcess(argv: string[]): [string, string[]] {
  return fs.existsSync("/usr/bin/setpriv")
    ? ["/usr/bin/setpriv", ["--pdeathsig", "TERM", "--", "ssh", ...argv]]
    : ["ssh", argv];
}

/** Opens the connection; a clear error naming the key and the fix when ssh cannot log in. */
export async function openTunnel(
  hop: SshHop,
  timeoutMs = TUNNEL_OPEN_TIMEOUT_MS,
): Promise<SshTunnel> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-ssh-"));
  const ctl = path.join(dir, "ctl");
  const mux = (op: string[]): string[] => [...hopOptions(hop), "-S", ctl, ...op, "--", hop.host];
  const [bin, args] = tiedToThisProcess([
    "-M",
    "-N",
    ...[
      "ControlPersist=no",
      "ExitOnForwardFailure=yes",
      "ServerAliveInterval=10",
      "ServerAliveCountMax=3",
    ].flatMap((o) => ["-o", o]),
    ...mux([]),
  ]);
  const master: ChildProcess = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  master.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  // The connection must not keep its process alive: a command that is done exits, and
  // the exit closes the connection (tunnels(), and the parent-death signal).
  const hold = (on: boolean) => {
    for (const h of [master, master.stderr as unknown as { ref(): void; unref(): void }])
      if (on) h.ref();
      else h.unref();
  };
  hold(false);
  let exited = false;
  const gone = new Promise<void>((r) =>
    master.once("exit", () => {
      exited = true;
      r();
    }),
  );
  const forwards = new Map<string, Promise<number>>();
  let closed = false;
  const tunnel: SshTunnel = {
    hop,
    exited() {
      if (!exited) hold(true);
      return gone;
    },
    get alive() {
      return !exited && !closed;
    },
    pid: master.pid ?? -1,
    forward(host, port) {
      const key = `${host}:${port}`;
      let p = forwards.get(key);
      if (!p) {
        p = addForward(host, port);
        // A failed forward may be asked for again.
        p.catch(() => forwards.delete(key));
        forwards.set(key, p);
      }
      return p;
    },
    close() {
      if (closed) return;
      closed = true;
      if (!exited) {
        spawnSync("ssh", mux(["-O", "exit"]), { timeout: 5000, stdio: "ignore" });
        if (!exited) master.kill("SIGTERM");
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  async function addForward(host: string, port: number): Promise<number> {
    let last = "";
    // The free port can be taken between the probe and ssh's bind: try another.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (exited || closed)
        throw new Error(`the SSH connection to ${where(hop)} is gone: ${sshFailure(hop, stderr)}`);
      const local = await freePort();
      const r = await run(
        mux(["-O", "forward", "-L", `127.0.0.1:${local}:${host}:${port}`]),
        15_000,
      );
      if (r.ok) return local;
      last = r.stderr.trim();
    }
    throw new Error(`SSH through ${where(hop)} could not forward to ${host}:${port}: ${last}`);
  }
  // Up once the master answers on its control socket; an ssh that exits first says why.
  const t0 = Date.now();
  for (;;) {
    if (exited) {
      tunnel.close();
      throw new Error(sshFailure(hop, stderr));
    }
    if (fs.existsSync(ctl) && (await run(mux(["-O", "check"]), 5000)).ok) break;
    if (Date.now() - t0 > timeoutMs) {
      tunnel.close();
      await tunnel.exited();
      throw new Error(
        `fleetlab:hypervisor.uri: SSH to ${where(hop)} did not come up within ${timeoutMs / 1000} s (${stderr.trim() || "no message"}); check that \`ssh ${hop.host} true\` works without a prompt`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return tunnel;
}

/**
 * This process's tunnels, one per hop, and the ones that came up (closed at exit, when
 * no promise can run any more). Held on a global symbol, not in this module: Pulumi
 * serializes each dynamic provider with its own copy of the module state it uses, and
 * every provider of one run must share the one connection.
 */
interface Tunnels {
  opening: Map<string, Promise<SshTunnel>>;
  up: SshTunnel[];
}
function tunnels(): Tunnels {
  const g = globalThis as unknown as Record<symbol, Tunnels | undefined>;
  const k = Symbol.for("fleetlab.tunnels");
  if (!g[k]) {
    g[k] = { opening: new Map(), up: [] };
    process.once("exit", closeTunnels);
  }
  return g[k]!;
}

/**
 * This process's tunnel through `hop`, opened on first use and closed when the process
 * exits; opened again when the last one dropped (a long `up` outlives a network blip).
 */
export async function tunnelThrough(hop: SshHop): Promise<SshTunnel> {
  const all = tunnels();
  const key = JSON.stringify([hop.host, hop.port, hop.identity]);
  const seen = all.opening.get(key);
  if (seen) {
    const up = await seen.catch(() => undefined);
    if (up?.alive) return up;
    // Another caller may have opened the next one meanwhile: use that.
    if (all.opening.get(key) !== seen) return tunnelThrough(hop);
    all.opening.delete(key);
  }
  const t: Promise<SshTunnel> = openTunnel(hop).then(
    (x) => (all.up.push(x), x),
    (e: unknown) => {
      if (all.opening.get(key) === t) all.opening.delete(key);
      throw e;
    },
  );
  all.opening.set(key, t);
  return t;
}

/** Closes every tunnel this process opened, at once (also run at exit). */
export function closeTunnels(): void {
  const all = tunnels();
  for (const t of all.up.splice(0)) t.close();
  all.opening.clear();
}
