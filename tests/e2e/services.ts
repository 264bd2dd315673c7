// What the e2e test asks of the lab's services, every client run inside the test's
// network namespace: nginx over HTTP, slapd over LDAP and Kea over DHCP from a client
// namespace joined to the lab's libvirt bridge (fleet's own state comes from
// fleet-view.ts). Also the outage measurement used when a node is killed.
import { udhcpcOnce } from "../services/lan";
import { createNetns, deleteNetns, must, Netns } from "./netns";

export function httpGet(ns: Netns, ip: string, path = "/"): { ok: boolean; body: string } {
  const r = ns.exec("curl", ["-sS", "--fail", "--max-time", "3", `http://${ip}${path}`], {
    timeoutMs: 8_000,
  });
  return { ok: r.status === 0, body: r.stdout };
}

/** Anonymous search: the DNs found (sorted), or null when slapd does not answer. */
export function ldapDns(ns: Netns, ip: string, base: string, filter: string): string[] | null {
  const r = ns.exec(
    "ldapsearch",
    ["-x", "-LLL", "-o", "nettimeout=3", "-H", `ldap://${ip}`, "-b", base, filter, "dn"],
    { timeoutMs: 8_000 },
  );
  if (r.status !== 0) return null;
  return r.stdout
    .split("\n")
    .filter((l) => l.startsWith("dn: "))
    .map((l) => l.slice(4))
    .sort();
}

/** A simple bind as `dn` with `password`; true when slapd accepts it. */
export function ldapBind(ns: Netns, ip: string, dn: string, password: string): boolean {
  const r = ns.exec(
    "ldapwhoami",
    ["-x", "-o", "nettimeout=3", "-H", `ldap://${ip}`, "-D", dn, "-w", password],
    { timeoutMs: 8_000 },
  );
  return r.status === 0 && r.stdout.includes(dn);
}

/**
 * A DHCP client on the lab LAN: a namespace of the test's own whose veth peer is
 * enslaved to the libvirt network's bridge (which lives in the e2e namespace).
 */
export interface LanClient {
  /** One exchange with busybox udhcpc as `mac` (`tries` discovers 1 s apart): the leased address, or null. */
  lease(mac: string, tries?: number): string | null;
  close(): void;
}

export function joinLabLan(ns: Netns, network: string): LanClient {
  const bridge = /^Bridge:\s+(\S+)/m.exec(
    must(ns.exec("virsh", ["-c", "qemu:///system", "net-info", network]), "virsh net-info"),
  )?.[1];
  if (!bridge) throw new Error(`libvirt network ${network} has no bridge`);
  // The client's namespace is made from the machine's own namespace (createNetns): one
  // added from inside `ip netns exec` is bound only in that command's mount namespace,
  // and the next command sees an empty file (veth ... netns: "Invalid argument").
  const client = createNetns(`${ns.name}-c`);
  const [outer, inner] = [`fl${process.pid}o`, `fl${process.pid}i`];
  const ip = (...a: string[]) => must(ns.exec("ip", a), `ip ${a.join(" ")}`);
  const inClient = (...a: string[]) => client.exec(a[0], a.slice(1), { timeoutMs: 30_000 });
  try {
    ip("link", "add", outer, "type", "veth", "peer", "name", inner, "netns", client.name);
    ip("link", "set", outer, "master", bridge);
    ip("link", "set", outer, "up");
  } catch (e) {
    deleteNetns(client.name);
    throw e;
  }
  return {
    lease(mac, tries = 5) {
      must(inClient("ip", "link", "set", inner, "down"), "link down");
      must(inClient("ip", "link", "set", inner, "address", mac), "set mac");
      must(inClient("ip", "link", "set", inner, "up"), "link up");
      const r = inClient(...udhcpcOnce(inner, tries));
      return /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(r.stdout + r.stderr)?.[1] ?? null;
    },
    close() {
      ns.exec("ip", ["link", "delete", outer]);
      deleteNetns(client.name);
    },
  };
}

/**
 * Polls `probe` (bounded) until it succeeds; the seconds from `since` to the first
 * success, or null when it never did within `boundMs`.
 */
export async function secondsUntil(
  since: number,
  boundMs: number,
  probe: () => boolean,
  pollMs = 500,
): Promise<number | null> {
  const polls = Math.ceil(boundMs / pollMs);
  for (let i = 0; i < polls; i++) {
    if (probe()) return Math.round((Date.now() - since) / 100) / 10;
    if (Date.now() - since > boundMs) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return null;
}
