// What the e2e test asks of a running lab, every call made from inside the test's
// network namespace: SSH with the key Ignition installed, etcd health over TLS, and
// libvirt's view of what is left of the lab.
import * as fs from "fs";
import * as path from "path";
import { Netns } from "./netns";
import { waitFor } from "../support/wait";

export function sshRuns(
  ns: Netns,
  key: string,
  ip: string,
  command: string,
  timeoutMs = 30_000,
): { ok: boolean; out: string } {
  const r = ns.exec(
    "ssh",
    [
      "-i",
      key,
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "LogLevel=ERROR",
      "-o",
      "ConnectTimeout=10",
      `core@${ip}`,
      command,
    ],
    { timeoutMs },
  );
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

export interface EtcdClient {
  endpoints: string[];
  ca: string;
  cert: string;
  key: string;
}

export function writeEtcdClient(
  dir: string,
  endpoints: string[],
  pem: { ca: string; cert: string; key: string },
): EtcdClient {
  const f = (name: string, content: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content, { mode: 0o600 });
    return p;
  };
  return {
    endpoints,
    ca: f("ca.pem", pem.ca),
    cert: f("admin.pem", pem.cert),
    key: f("admin-key.pem", pem.key),
  };
}

export function etcdctl(ns: Netns, c: EtcdClient, args: string[]) {
  return ns.exec(
    "etcdctl",
    [
      `--endpoints=${c.endpoints.join(",")}`,
      `--cacert=${c.ca}`,
      `--cert=${c.cert}`,
      `--key=${c.key}`,
      "--dial-timeout=5s",
      "--command-timeout=10s",
      ...args,
    ],
    { timeoutMs: 60_000 },
  );
}

/** Waits (bounded) until every endpoint reports healthy; returns the member names. */
export async function waitEtcdHealthy(
  ns: Netns,
  c: EtcdClient,
  timeoutMs: number,
): Promise<string[]> {
  let last = "";
  try {
    await waitFor(
      `etcd healthy on ${c.endpoints.join(",")}`,
      () => {
        const r = etcdctl(ns, c, ["endpoint", "health", "-w", "json"]);
        last = r.stdout + r.stderr;
        if (r.status !== 0) return false;
        const health = JSON.parse(r.stdout) as { health: boolean }[];
        return health.length === c.endpoints.length && health.every((h) => h.health);
      },
      timeoutMs,
      5000,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last etcdctl output: ${last}`);
  }
  const members = etcdctl(ns, c, ["member", "list", "-w", "json"]);
  const list = JSON.parse(members.stdout) as { members: { name: string }[] };
  return list.members.map((m) => m.name).sort();
}

/**
 * The host (IP) of the etcd member that leads now, or null when etcd does not say. A
 * killed leader costs a failover more than its TTL: the survivors first elect a new
 * leader, and etcd's new leader gives every lease its full TTL again.
 */
export function etcdLeaderHost(ns: Netns, c: EtcdClient): string | null {
  const r = etcdctl(ns, c, ["endpoint", "status", "-w", "json"]);
  if (r.status !== 0) return null;
  // Member IDs are 64-bit: read them as strings, not as doubles.
  const all = JSON.parse(r.stdout.replace(/"(member_id|leader)":(\d+)/g, '"$1":"$2"')) as {
    Endpoint: string;
    Status: { header: { member_id: string }; leader: string };
  }[];
  const leader = all.find((e) => e.Status.header.member_id === e.Status.leader);
  return leader ? new URL(leader.Endpoint).hostname : null;
}

/** Lab objects (domains, networks, pools, volumes) libvirt still has for `tag`. */
export function leftovers(ns: Netns, tag: string): string[] {
  const virsh = (args: string[]): string[] =>
    ns
      .exec("virsh", ["-q", "-c", "qemu:///system", ...args])
      .stdout.split("\n")
      .map((s) => s.trim())
      .filter((s) => s.includes(tag));
  const left = [
    ...virsh(["list", "--all", "--name"]).map((d) => `domain ${d}`),
    ...virsh(["net-list", "--all", "--name"]).map((n) => `network ${n}`),
    ...virsh(["pool-list", "--all", "--name"]).map((p) => `pool ${p}`),
  ];
  for (const pool of virsh(["pool-list", "--all", "--name"])) {
    left.push(...virsh(["vol-list", "--pool", pool]).map((v) => `volume ${v}`));
  }
  return left;
}

/** Best-effort removal after a failed run, so the next run starts clean. */
export function forceClean(ns: Netns, tag: string): void {
  const v = (args: string[]) => ns.exec("virsh", ["-q", "-c", "qemu:///system", ...args]);
  const listed = (args: string[]) =>
    v(args)
      .stdout.split("\n")
      .map((s) => s.trim())
      .filter((s) => s.includes(tag));
  for (const d of listed(["list", "--all", "--name"])) {
    v(["destroy", d]);
    v(["undefine", d]);
  }
  for (const n of listed(["net-list", "--all", "--name"])) {
    v(["net-destroy", n]);
    v(["net-undefine", n]);
  }
  for (const p of listed(["pool-list", "--all", "--name"])) {
    for (const vol of v(["vol-list", "--pool", p])
      .stdout.split("\n")
      .map((l) => l.trim().split(/\s+/)[0])
      .filter(Boolean)) {
      v(["vol-delete", "--pool", p, vol]);
    }
    v(["pool-destroy", p]);
    v(["pool-delete", p]);
    v(["pool-undefine", p]);
  }
}
