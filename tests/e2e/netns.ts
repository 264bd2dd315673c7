// A network namespace of the test's own with virtlogd + libvirtd started inside it, so
// libvirt's bridge, the VMs' taps and the lab subnet exist only there (the project's
// rule: test traffic goes only to hosts in namespaces the test created). Every process is
// started and stopped by PID.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { waitFor } from "../support/wait";

export interface Netns {
  name: string;
  /** argv prefix that runs a command inside the namespace. */
  exec: (
    cmd: string,
    args: string[],
    opts?: { timeoutMs?: number; input?: string },
  ) => { status: number; stdout: string; stderr: string };
  prefix: string[];
}

function sh(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}) {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 60_000,
    input: opts.input,
  });
  return {
    status: r.status ?? -1,
    stdout: r.stdout ?? "",
    stderr: (r.stderr ?? "") + (r.error ? String(r.error) : ""),
  };
}

export function must(r: { status: number; stdout: string; stderr: string }, what: string): string {
  if (r.status !== 0)
    throw new Error(`${what} failed (${r.status}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export function createNetns(name: string): Netns {
  must(sh("ip", ["netns", "add", name]), `ip netns add ${name}`);
  const prefix = ["ip", "netns", "exec", name];
  const lo = sh("ip", ["netns", "exec", name, "ip", "link", "set", "lo", "up"]);
  if (lo.status !== 0) {
    sh("ip", ["netns", "delete", name]);
    must(lo, `lo up in ${name}`);
  }
  return {
    name,
    prefix,
    exec: (cmd, args, opts) => sh("ip", ["netns", "exec", name, cmd, ...args], opts),
  };
}

export function deleteNetns(name: string): void {
  sh("ip", ["netns", "delete", name]);
}

export interface Daemon {
  name: string;
  proc: ChildProcess;
  log: string;
}

export function startDaemon(
  ns: Netns,
  cmd: string,
  args: string[],
  logDir: string,
  name = path.basename(cmd),
): Daemon {
  const log = path.join(logDir, `${name}.log`);
  const fd = fs.openSync(log, "a");
  // `ip netns exec` execs the command, so proc.pid is the daemon's own PID.
  const proc = spawn("ip", ["netns", "exec", ns.name, cmd, ...args], { stdio: ["ignore", fd, fd] });
  fs.closeSync(fd);
  return { name, proc, log };
}

export async function stopDaemon(d: Daemon, timeoutMs = 15_000): Promise<void> {
  if (d.proc.exitCode !== null || d.proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => d.proc.once("exit", () => resolve()));
  d.proc.kill("SIGTERM");
  let handle: NodeJS.Timeout | undefined;
  const timer = new Promise<"timeout">((r) => (handle = setTimeout(() => r("timeout"), timeoutMs)));
  const first = await Promise.race([exited, timer]);
  // A pending timer would keep jest alive for the rest of timeoutMs.
  clearTimeout(handle);
  if (first === "timeout") {
    d.proc.kill("SIGKILL");
    await exited;
  }
}

/**
 * argv that runs the rest with /dev/kvm covered by an empty file, in a mount namespace
 * of its own (nothing outside changes). Why: on this machine kind /dev/kvm exists but
 * no guest runs under it, and its group is not the one libvirt's QEMU user is in, so
 * libvirt probes QEMU as root with KVM "enabled", then finds KVM "not available now"
 * for that user and throws its capability cache away on every call (its debug log:
 * "KVM was enabled when probing ..., but it is not available now"): each `virsh
 * define`, `domcapabilities` and `capabilities` re-ran QEMU's probe (4 to 18 s idle,
 * minutes on a busy host). With an empty file there, KVM is unusable both when probing
 * and when checking, the cache holds, and the lab runs under TCG as it would anyway.
 * libvirt would copy that mount into each VM's private /dev and fails to ("Unable to
 * move ... mount to /dev/kvm"), so the same namespace also sees a qemu.conf with
 * `namespaces = []`: QEMU then runs in this namespace, without a /dev of its own.
 * A fixed script with the files and the command as positional arguments.
 */
function hideKvm(dir: string): string[] {
  if (!fs.existsSync("/dev/kvm")) return [];
  const empty = path.join(dir, "no-kvm");
  fs.writeFileSync(empty, "", { mode: 0o000 });
  const conf = path.join(dir, "qemu.conf");
  const system = "/etc/libvirt/qemu.conf";
  const base = fs.existsSync(system) ? fs.readFileSync(system, "utf8") : "";
  fs.writeFileSync(
    conf,
    `${base}\n# fleetlab e2e: see tests/e2e/netns.ts hideKvm\nnamespaces = []\n`,
  );
  return [
    "sh",
    "-c",
    'mount --bind "$0" /dev/kvm && mount --bind "$1" /etc/libvirt/qemu.conf && shift && exec "$@"',
    empty,
    conf,
  ];
}

/** virtlogd + libvirtd inside `ns`; refuses to run beside a libvirtd it did not start. */
export async function startLibvirt(ns: Netns, logDir: string): Promise<Daemon[]> {
  const running = sh("pgrep", ["-x", "libvirtd"]);
  if (running.status === 0) {
    throw new Error(
      `a libvirtd is already running (pid ${running.stdout.trim()}); stop it first: the e2e test starts its own inside ${ns.name}`,
    );
  }
  const virtlogd = startDaemon(ns, "virtlogd", [], logDir);
  const libvirtd = startDaemon(
    ns,
    "unshare",
    ["--mount", "--propagation", "private", ...hideKvm(logDir), "libvirtd"],
    logDir,
    "libvirtd",
  );
  const daemons = [virtlogd, libvirtd];
  try {
    await waitFor(
      "libvirtd to answer on qemu:///system",
      () => sh("virsh", ["-c", "qemu:///system", "uri"]).status === 0,
      60_000,
      500,
    );
  } catch (e) {
    await Promise.all(daemons.reverse().map((d) => stopDaemon(d)));
    throw new Error(
      `${(e as Error).message}; libvirtd log: ${fs.readFileSync(libvirtd.log, "utf8").slice(-2000)}`,
    );
  }
  return daemons;
}
