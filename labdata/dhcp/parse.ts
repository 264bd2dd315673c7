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

/** Parses and validates data/dhcp.yaml; throws a DataError listing every problem. */
export function parseDhcpData(text: string, file = "data/dhcp.yaml"): DhcpData {
  const p = new Problems(file);
  const d = yamlMapping(p, text, "dhcp", "subnet: 192.168.56.0/24");
  knownKeys(p, d, DHCP_KEYS, "");
  const subnetText = str(
    p,
    d,
    "subnet",
    "subnet",
    "write the lab LAN as CIDR, e.g. 192.168.56.0/24",
  );
  const cidr = subnetText === undefined ? undefined : parseCidr(subnetText);
  if (
    subnetText !== undefined &&
    (cidr === undefined || cidr.hostBitsSet || cidr.prefixLength > 30)
  ) {
    p.add(
      "subnet",
      subnetText,
      "is not a network address in CIDR form (/8 to /30)",
      "e.g. 192.168.56.0/24",
    );
  }
  const net = cidr && !cidr.hostBitsSet ? cidr : undefined;

  // An address usable by a host: inside the subnet, not its network or broadcast address.
  const hostIp = (value: unknown, key: string): number | undefined => {
    const ip = typeof value === "string" ? parseIPv4(value) : undefined;
    if (ip === undefined) {
      p.add(key, value, "is not an IPv4 address", "write a dotted quad such as 192.168.56.10");
      return undefined;
    }
    if (net && (!inCidr(net, ip) || ip === net.address || ip === broadcastOf(net))) {
      p.add(
        key,
        value,
        `is outside the usable addresses of subnet ${subnetText}`,
        `use an address inside ${subnetText}`,
      );
      return undefined;
    }
    return ip;
  };

  const poolRaw = d.pool;
  let pool: { start: string; end: string } = { start: "", end: "" };
  let poolRange: [number, number] | undefined;
  if (!isMapping(poolRaw)) {
    p.add(
      "pool",
      poolRaw,
      "must be a mapping with start and end",
      "e.g. pool: { start: 192.168.56.100, end: 192.168.56.199 }",
    );
  } else {
    knownKeys(p, poolRaw, POOL_KEYS, "pool");
    const s = hostIp(poolRaw.start, "pool.start");
    const e = hostIp(poolRaw.end, "pool.end");
    if (s !== undefined && e !== undefined) {
      if (s > e)
        p.add(
          "pool.end",
          poolRaw.end,
          `is below pool.start ${String(poolRaw.start)}`,
          "swap start and end",
        );
      else poolRange = [s, e];
    }
    pool = { start: String(poolRaw.start), end: String(poolRaw.end) };
  }

  const router = d.router === undefined ? undefined : hostIp(d.router, "router");
  // Kea would lease the router's address to the first client that asks.
  if (router !== undefined && poolRange && router >= poolRange[0] && router <= poolRange[1])
    p.add(
      "router",
      d.router,
      `is inside the dynamic pool ${pool.start}-${pool.end}`,
      "move the pool off the router's address (e.g. start the pool above it)",
    );
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

  const resRaw = d.reservations ?? [];
  const reservations: Reservation[] = [];
  if (!Array.isArray(resRaw)) {
    p.add(
      "reservations",
      resRaw,
      "must be a list",
      "e.g. reservations: [{ name: printer-1, mac: 52:54:00:aa:00:01, ip: 192.168.56.10 }]",
    );
  } else {
    resRaw.forEach((r, i) => {
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
      const ip = hostIp(r.ip, `${key}.ip`);
      if (ip === router && ip !== undefined)
        p.add(`${key}.ip`, r.ip, "is the router's address", "pick a free address");
      if (name !== undefined && mac !== undefined && ip !== undefined)
        reservations.push({ name, mac, ip: formatIPv4(ip) });
      else reservations.push({ name: name ?? "", mac: mac ?? "", ip: "" });
    });
    findDuplicates(
      p,
      reservations,
      (r) => r.mac || undefined,
      (i) => `reservations[${i}].mac`,
      "MAC address",
    );
    findDuplicates(
      p,
      reservations,
      (r) => r.ip || undefined,
      (i) => `reservations[${i}].ip`,
      "IP address",
    );
    findDuplicates(
      p,
      reservations,
      (r) => r.name || undefined,
      (i) => `reservations[${i}].name`,
      "host name",
    );
  }
  // A reservation inside the dynamic pool could be handed to another client first.
  if (poolRange) {
    reservations.forEach((r, i) => {
      const ip = r.ip ? parseIPv4(r.ip) : undefined;
      if (ip !== undefined && ip >= poolRange[0] && ip <= poolRange[1]) {
        p.add(
          `reservations[${i}].ip`,
          r.ip,
          `is inside the dynamic pool ${pool.start}-${pool.end}`,
          "reserve an address outside the pool",
        );
      }
    });
  }
  p.check("dhcp");
  return {
    subnet: subnetText as string,
    pool,
    router: router === undefined ? undefined : formatIPv4(router),
    dns,
    domain,
    leaseSeconds,
    reservations,
  };
}
