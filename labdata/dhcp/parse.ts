// DHCP lab data (data/dhcp.yaml) -> validated DhcpData. Pure: the Pulumi program
// validates with it before writing etcd, and the dhcp sidekick reads what it wrote.
import { isMapping, Problems } from "../problems";
import {
  formatIPv4,
  inCidr,
  normalizeMac,
  parseCidr,
  parseIPv4,
  broadcastOf,
  type Cidr,
} from "../../node/net";
import { findDuplicates, int, knownKeys, str, yamlMapping } from "../errors";

export interface Reservation {
  name: string;
  mac: string;
  ip: string;
}

export interface DhcpData {
  subnet: string;
  pool: { start: string; end: string };
  router?: string;
  dns: string[];
  domain?: string;
  leaseSeconds: number;
  reservations: Reservation[];
}

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** The keys of data/dhcp.yaml, of its pool and of one reservation. */
export const DHCP_KEYS = [
  "subnet",
  "pool",
  "router",
  "dns",
  "domain",
  "leaseSeconds",
  "reservations",
] as const;
const POOL_KEYS = ["start", "end"] as const;
const RESERVATION_KEYS = ["name", "mac", "ip"] as const;

/** What the sections of one data/dhcp.yaml share while they are checked. */
interface DhcpCheck {
  p: Problems;
  d: Record<string, unknown>;
  /** subnet as written, and as a network when it is one */
  subnetText?: string;
  net?: Cidr;
}

/** Parses and validates data/dhcp.yaml; throws a DataError listing every problem. */
export function parseDhcpData(text: string, file = "data/dhcp.yaml"): DhcpData {
  const p = new Problems(file);
  const d = yamlMapping(p, text, "dhcp", "subnet: 192.168.56.0/24");
  knownKeys(p, d, DHCP_KEYS, "");
  const c: DhcpCheck = { p, d, ...readSubnet(p, d) };
  const { pool, range } = readPool(c);
  const router = d.router === undefined ? undefined : hostIp(c, d.router, "router");
  // Kea would lease the router's address to the first client that asks.
  if (router !== undefined && inRange(range, router))
    p.add(
      "router",
      d.router,
      `is inside the dynamic pool ${pool.start}-${pool.end}`,
      "move the pool off the router's address (e.g. start the pool above it)",
    );
  const options = readOptions(c);
  const reservations = readReservations(c, router);
  // A reservation inside the dynamic pool could be handed to another client first.
  reservations.forEach((r, i) => {
    if (r.ip && inRange(range, parseIPv4(r.ip)))
      p.add(
        `reservations[${i}].ip`,
        r.ip,
        `is inside the dynamic pool ${pool.start}-${pool.end}`,
        "reserve an address outside the pool",
      );
  });
  p.check("dhcp");
  return {
    subnet: c.subnetText as string,
    pool,
    router: router === undefined ? undefined : formatIPv4(router),
    ...options,
    reservations,
  };
}

const inRange = (range: [number, number] | undefined, ip: number | undefined): boolean =>
  range !== undefined && ip !== undefined && ip >= range[0] && ip <= range[1];

/** subnet: a network address in CIDR form. */
function readSubnet(p: Problems, d: Record<string, unknown>): { subnetText?: string; net?: Cidr } {
  const subnetText = str(
    p,
    d,
    "subnet",
    "subnet",
    "write the lab LAN as CIDR, e.g. 192.168.56.0/24",
  );
  if (subnetText === undefined) return {};
  const cidr = parseCidr(subnetText);
  if (cidr === undefined || cidr.hostBitsSet || cidr.prefixLength > 30) {
    p.add(
      "subnet",
      subnetText,
      "is not a network address in CIDR form (/8 to /30)",
      "e.g. 192.168.56.0/24",
    );
  }
  return { subnetText, net: cidr && !cidr.hostBitsSet ? cidr : undefined };
}

/** An address usable by a host: inside the subnet, not its network or broadcast address. */
function hostIp(c: DhcpCheck, value: unknown, key: string): number | undefined {
  const ip = typeof value === "string" ? parseIPv4(value) : undefined;
  if (ip === undefined) {
    c.p.add(key, value, "is not an IPv4 address", "write a dotted quad such as 192.168.56.10");
    return undefined;
  }
  const net = c.net;
  if (net && (!inCidr(net, ip) || ip === net.address || ip === broadcastOf(net))) {
    c.p.add(
      key,
      value,
      `is outside the usable addresses of subnet ${c.subnetText}`,
      `use an address inside ${c.subnetText}`,
    );
    return undefined;
  }
  return ip;
}

/** pool: start and end inside the subnet, in order. */
function readPool(c: DhcpCheck): {
  pool: { start: string; end: string };
  range?: [number, number];
} {
  const raw = c.d.pool;
  if (!isMapping(raw)) {
    c.p.add(
      "pool",
      raw,
      "must be a mapping with start and end",
      "e.g. pool: { start: 192.168.56.100, end: 192.168.56.199 }",
    );
    return { pool: { start: "", end: "" } };
  }
  knownKeys(c.p, raw, POOL_KEYS, "pool");
  const pool = { start: String(raw.start), end: String(raw.end) };
  const s = hostIp(c, raw.start, "pool.start");
  const e = hostIp(c, raw.end, "pool.end");
  if (s === undefined || e === undefined) return { pool };
  if (s > e) {
    c.p.add("pool.end", raw.end, `is below pool.start ${String(raw.start)}`, "swap start and end");
    return { pool };
  }
  return { pool, range: [s, e] };
}

/** dns, domain and leaseSeconds: the options every client gets. */
function readOptions(c: DhcpCheck): Pick<DhcpData, "dns" | "domain" | "leaseSeconds"> {
  const { p, d } = c;
  const dnsRaw = d.dns ?? [];
  const dns: string[] = [];
  if (!Array.isArray(dnsRaw))
    p.add("dns", dnsRaw, "must be a list of IPv4 addresses", "e.g. dns: [192.168.56.1]");
  else
    dnsRaw.forEach((v, i) => {
      if (typeof v === "string" && parseIPv4(v) !== undefined) dns.push(v);
      else p.add(`dns[${i}]`, v, "is not an IPv4 address", "write a dotted quad");
    });
  const domain =
    d.domain === undefined ? undefined : str(p, d, "domain", "domain", "e.g. domain: lab.example");
  if (domain !== undefined && !DOMAIN.test(domain))
    p.add(
      "domain",
      domain,
      "is not a DNS domain name",
      "use lower-case labels of letters, digits and '-' joined by dots, e.g. lab.example",
    );
  const leaseSeconds =
    d.leaseSeconds === undefined
      ? 600
      : (int(
          p,
          d,
          "leaseSeconds",
          "leaseSeconds",
          [60, 86400],
          "keep leases short (e.g. 600) so a failover forgets little",
        ) ?? 600);
  return { dns, domain, leaseSeconds };
}

/** reservations: each a host name, a MAC and an address, none of them twice. */
function readReservations(c: DhcpCheck, router: number | undefined): Reservation[] {
  const { p } = c;
  const raw = c.d.reservations ?? [];
  if (!Array.isArray(raw)) {
    p.add(
      "reservations",
      raw,
      "must be a list",
      "e.g. reservations: [{ name: printer-1, mac: 52:54:00:aa:00:01, ip: 192.168.56.10 }]",
    );
    return [];
  }
  const reservations: Reservation[] = [];
  raw.forEach((r, i) => {
    const key = `reservations[${i}]`;
    if (!isMapping(r)) {
      p.add(
        key,
        r,
        "must be a mapping with name, mac and ip",
        "e.g. { name: printer-1, mac: 52:54:00:aa:00:01, ip: 192.168.56.10 }",
      );
      return;
    }
    knownKeys(p, r, RESERVATION_KEYS, key);
    const name = str(p, r, "name", `${key}.name`, "give the host a name");
    if (name !== undefined && !HOSTNAME.test(name)) {
      p.add(
        `${key}.name`,
        name,
        "is not a valid host name",
        "use lower-case letters, digits and '-'",
      );
    }
    const mac = typeof r.mac === "string" ? normalizeMac(r.mac) : undefined;
    if (mac === undefined) {
      p.add(
        `${key}.mac`,
        r.mac,
        "is not a unicast MAC address",
        "write six hex pairs, e.g. 52:54:00:aa:00:01",
      );
    }
    const ip = hostIp(c, r.ip, `${key}.ip`);
    if (ip === router && ip !== undefined)
      p.add(`${key}.ip`, r.ip, "is the router's address", "pick a free address");
    if (name !== undefined && mac !== undefined && ip !== undefined)
      reservations.push({ name, mac, ip: formatIPv4(ip) });
    else reservations.push({ name: name ?? "", mac: mac ?? "", ip: "" });
  });
  const twice = (value: (r: Reservation) => string, field: string, what: string) =>
    findDuplicates(
      p,
      reservations,
      (r) => value(r) || undefined,
      (i) => `reservations[${i}].${field}`,
      what,
    );
  twice((r) => r.mac, "mac", "MAC address");
  twice((r) => r.ip, "ip", "IP address");
  twice((r) => r.name, "name", "host name");
  return reservations;
}
