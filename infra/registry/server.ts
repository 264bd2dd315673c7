// The lab registry as processes on the management host: two `docker-registry serve`
// over one storage directory (config.ts says why two), started detached so they outlive
// the `pulumi up` that made them, found again by their PID files, stopped by PID.
// Everything lives in one directory per stack, outside the repository:
//   <dir>/storage/          the registry's blobs and manifests
//   <dir>/tls/server.{crt,key}   the pull side's certificate (key 0600)
//   <dir>/{pull,push}.yml   configs;  <dir>/{pull,push}.{pid,log}
//   <dir>/push.sock         the push side (0700 directory: the push credential)
//   <dir>/reach.{pid,log}   the "reach" side, for nodes behind a remote KVM server only:
//                           an ssh reverse forward that puts the pull side on the server
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { hostPort, pullListen, type RegistryAddress } from "./address";
import { hopOptions, type SshHop } from "../reach/hop";
import { reachAddress } from "../reach";
import { sshFailure } from "../reach/tunnel";
import { renderRegistryConfig, type RegistryRole } from "./config";
import { registryGet } from "./client";

export const REGISTRY_BIN = "/usr/bin/docker-registry";
const ROLES: RegistryRole[] = ["pull", "push"];

/** The registry directory of a stack: $FLEETLAB_REGISTRY_DIR or ~/.cache/fleetlab/registry, then the stack. */
export function registryDir(stack: string, base = process.env.FLEETLAB_REGISTRY_DIR): string {
  if (!/^[A-Za-z0-9._-]+$/.test(stack) || stack.startsWith("."))
    throw new Error(`lab registry: stack name ${JSON.stringify(stack)} cannot name a directory`);
  return path.join(base || path.join(os.homedir(), ".cache", "fleetlab", "registry"), stack);
}

export const registryPaths = (dir: string) => ({
  storage: path.join(dir, "storage"),
  cert: path.join(dir, "tls", "server.crt"),
  key: path.join(dir, "tls", "server.key"),
  socket: path.join(dir, "push.sock"),
  config: (r: RegistryRole) => path.join(dir, `${r}.yml`),
  pid: (r: RegistryRole | "reach") => path.join(dir, `${r}.pid`),
  log: (r: RegistryRole | "reach") => path.join(dir, `${r}.log`),
});

export interface RegistryServer {
  dir: string;
  /** Where the pull side listens: the address the nodes reach the management host at. */
  pull: RegistryAddress;
  /** The lab CA (to check the pull side answers with the certificate below). */
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** The PID in `file` when that process is alive and is the registry serving `config`. */
function livePid(pidFile: string, config: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, "utf8").trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    // A recycled PID runs something else: the command line must name our config.
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.includes(config) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The running sides of the registry in `dir` (role -> PID). */
export function runningSides(dir: string): Partial<Record<RegistryRole, number>> {
  const p = registryPaths(dir);
  const out: Partial<Record<RegistryRole, number>> = {};
  for (const r of ROLES) {
    const pid = livePid(p.pid(r), p.config(r));
    if (pid) out[r] = pid;
  }
  return out;
}

export const registryRunning = (dir: string): boolean => {
  const s = runningSides(dir);
  return (
    ROLES.every((r) => s[r] !== undefined) && (!reachWanted(dir) || reachPid(dir) !== undefined)
  );
};

/** The reach side's PID when it runs (its log file, named on its command line, is the mark). */
const reachPid = (dir: string): number | undefined => {
  const p = registryPaths(dir);
  return livePid(p.pid("reach"), p.log("reach"));
};
/** Whether this registry has a reach side: its log exists from its first start on. */
const reachWanted = (dir: string): boolean => fs.existsSync(registryPaths(dir).log("reach"));

/**
 * Fails with the fix when the pull side could not listen at `a`: the port taken by
 * another process, or the address not (yet) on any of this host's interfaces.
 */
export async function checkListenable(a: RegistryAddress): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => {
      const where = hostPort(a);
      if (e.code === "EADDRINUSE")
        reject(
          new Error(
            `lab registry: ${where} is already in use by another process, so the registry cannot listen there; fix: stop that process (ss -ltnp 'sport = :${a.port}' names it), or set fleetlab:registryPort to a free port`,
          ),
        );
      else if (e.code === "EADDRNOTAVAIL")
        reject(
          new Error(
            `lab registry: ${a.host} is not an address of this host, so the registry cannot listen on ${where}; fix: the lab network's gateway must be on this host (is the lab network up?)`,
          ),
        );
      else reject(new Error(`lab registry: cannot listen on ${where}: ${e.message}`));
    });
    srv.listen({ host: a.host, port: a.port, exclusive: true }, () => srv.close(() => resolve()));
  });
}

function writeFiles(s: RegistryServer): void {
  const p = registryPaths(s.dir);
  // 0700: the push socket is inside, and only this user may reach it.
  fs.mkdirSync(s.dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(s.dir, 0o700);
  fs.mkdirSync(path.dirname(p.cert), { recursive: true, mode: 0o700 });
  fs.mkdirSync(p.storage, { recursive: true, mode: 0o700 });
  fs.writeFileSync(p.cert, s.certPem, { mode: 0o644 });
  fs.writeFileSync(p.key, s.keyPem, { mode: 0o600 });
  fs.chmodSync(p.key, 0o600);
  for (const role of ROLES) {
    fs.writeFileSync(p.config(role), sideConfig(s, role));
  }
}

/** The config file of one side of the registry `s`. */
function sideConfig(s: RegistryServer, role: RegistryRole): string {
  const p = registryPaths(s.dir);
  const addr = role === "pull" ? hostPort(pullListen(s.pull)) : p.socket;
  return renderRegistryConfig({
    role,
    addr,
    storageDir: p.storage,
    certPath: p.cert,
    keyPath: p.key,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The last lines of a side's log, for an error that says why it did not answer. */
function logTail(dir: string, role: RegistryRole, lines = 8): string {
  try {
    const all = fs.readFileSync(registryPaths(dir).log(role), "utf8").trim().split("\n");
    // A Go panic ends in its stack trace; the line that says why is above it.
    const why = all.filter((l) => /^panic:|level=(fatal|error)|configuration error/.test(l));
    return (why.length ? why : all).slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Waits (bounded) until both sides answer GET /v2/: the pull side over TLS checked against the lab CA. */
async function waitReady(s: RegistryServer, pids: Record<RegistryRole, number>, boundMs: number) {
  const p = registryPaths(s.dir);
  const deadline = Date.now() + boundMs;
  for (const role of ROLES) {
    let last = "";
    for (;;) {
      if (!livePid(p.pid(role), p.config(role)))
        throw new Error(
          `lab registry: the ${role} side (PID ${pids[role]}) exited at start; its log (${p.log(role)}):\n${logTail(s.dir, role)}`,
        );
      try {
        const r = await registryGet(
          role === "pull" ? { address: pullListen(s.pull), caPem: s.caPem } : { socket: p.socket },
          "/v2/",
        );
        if (r.status === 200) break;
        last = `HTTP ${r.status}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(
          `lab registry: the ${role} side did not answer GET /v2/ within ${boundMs} ms (last: ${last}); its log:\n${logTail(s.dir, role)}`,
        );
      await sleep(200);
    }
  }
}

/**
 * Starts the registry in `s.dir` (both sides), or leaves it be when both already run
 * with this config. A side left over alone is stopped first. Bounded: `boundMs`.
 */
export async function ensureRegistry(s: RegistryServer, boundMs = 30_000): Promise<void> {
  const p = registryPaths(s.dir);
  if (registryRunning(s.dir)) {
    const now = fs.existsSync(p.config("pull")) ? fs.readFileSync(p.config("pull"), "utf8") : "";
    const want = sideConfig(s, "pull");
    const certNow = fs.existsSync(p.cert) ? fs.readFileSync(p.cert, "utf8") : "";
    if (now === want && certNow === s.certPem) return;
  }
  await stopRegistry(s.dir, { keepStorage: true });
  await checkListenable(pullListen(s.pull));
  writeFiles(s);
  fs.rmSync(p.socket, { force: true });
  const pids = {} as Record<RegistryRole, number>;
  try {
    for (const role of ROLES) {
      const log = fs.openSync(p.log(role), "a", 0o600);
      // Detached, in a session of its own: the registry outlives this process and the
      // terminal's Ctrl-C; `stopRegistry` (destroy) stops it by PID.
      const child = spawn(REGISTRY_BIN, ["serve", p.config(role)], {
        detached: true,
        stdio: ["ignore", log, log],
      });
      fs.closeSync(log);
      if (!child.pid) throw new Error(`lab registry: could not start ${REGISTRY_BIN}`);
      child.unref();
      pids[role] = child.pid;
      fs.writeFileSync(p.pid(role), `${child.pid}\n`);
    }
    await waitReady(s, pids, boundMs);
    if (s.pull.through) await startReach(s, s.pull.through, boundMs);
  } catch (e) {
    // Nothing half made: a side that started goes again.
    await stopRegistry(s.dir, { keepStorage: true });
    throw e;
  }
}

async function stopPid(pid: number, pidFile: string, config: string): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  for (let i = 0; i < 50 && livePid(pidFile, config); i++) await sleep(100);
  if (livePid(pidFile, config)) process.kill(pid, "SIGKILL");
}

/** Stops both sides by PID; without keepStorage the whole directory goes too. */
export async function stopRegistry(dir: string, o: { keepStorage?: boolean } = {}): Promise<void> {
  const p = registryPaths(dir);
  const sides = runningSides(dir);
  for (const role of ROLES) {
    const pid = sides[role];
    if (pid) await stopPid(pid, p.pid(role), p.config(role));
    fs.rmSync(p.pid(role), { force: true });
  }
  const reach = reachPid(dir);
  if (reach) await stopPid(reach, p.pid("reach"), p.log("reach"));
  fs.rmSync(p.pid("reach"), { force: true });
  fs.rmSync(p.socket, { force: true });
  if (!o.keepStorage) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The reach side: `ssh -N -R <gateway>:<port>:127.0.0.1:<port>` to the KVM server, so
 * the nodes find the registry at the lab network's gateway there. Detached like the
 * other sides, stopped by PID the same way; `preview` shows the registry as an update
 * when it is gone (the connection dropped, the host slept), and `up` starts it again.
 * Then checked the way a node would ask: through the server, at the gateway.
 */
async function startReach(s: RegistryServer, hop: SshHop, boundMs: number): Promise<void> {
  const p = registryPaths(s.dir);
  const { host, port } = s.pull;
  const log = p.log("reach");
  fs.writeFileSync(log, "", { mode: 0o600 });
  const child = spawn(
    "ssh",
    [
      "-N",
      ...["-E", log],
      ...["ExitOnForwardFailure=yes", "ServerAliveInterval=15", "ServerAliveCountMax=3"].flatMap(
        (o) => ["-o", o],
      ),
      ...hopOptions(hop),
      ...["-R", `${host}:${port}:127.0.0.1:${port}`],
      "--",
      hop.host,
    ],
    { detached: true, stdio: "ignore" },
  );
  if (!child.pid) throw new Error("lab registry: could not start ssh for the reach side");
  child.unref();
  fs.writeFileSync(p.pid("reach"), `${child.pid}\n`);
  const deadline = Date.now() + boundMs;
  let last = "";
  for (;;) {
    if (!reachPid(s.dir))
      throw new Error(
        `lab registry: the SSH forward that puts the registry at ${hostPort(s.pull)} on the KVM server ended: ${sshFailure(hop, fs.readFileSync(log, "utf8"))}`,
      );
    try {
      const to = await reachAddress(hop, host, port);
      const r = await registryGet({ address: to, caPem: s.caPem }, "/v2/");
      if (r.status === 200) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(
        `lab registry: the nodes cannot reach it at ${hostPort(s.pull)} on the KVM server (last: ${last}); sshd there binds a client's reverse forwards to its loopback unless its sshd_config says \`GatewayPorts clientspecified\`: add that line on the server and reload sshd (docs/kvm.md)`,
      );
    await sleep(500);
  }
}
