// stack config `fleetlab:network` -> NetworkSpec (addresses checked, DHCP pool checked
// against the node addresses later, in nodes.ts, once those are known).
import { libvirtNameProblem } from "./names";
import { fullKey } from "./errors";
import {
  broadcastOf,
  Cidr,
  formatCidr,
  formatIPv4,
  inCidr,
  netmaskOf,
  parseCidr,
  parseIPv4,
} from "../../node/net";
import { Reader } from "./read";
import type { AddressRange, NetworkSpec } from "./types";

const K = fullKey("network");

export interface ParsedNetwork {
  spec: NetworkSpec;
  cidr: Cidr;
  gateway: number;
  pool?: { start: number; end: number };
}

/** "a.b.c.1-a.b.c.254": the usable host range, for fix hints. */
export function hostRange(c: Cidr): string {
  return `${formatIPv4(c.address + 1)}-${formatIPv4(broadcastOf(c) - 1)}`;
}

export function parseNetwork(r: Reader, raw: unknown, stack: string): ParsedNetwork | undefined {
  const n = r.requiredObject(
    K,
    raw,
    ["name", "cidr", "gateway", "dns", "dhcpPool"],
    "{cidr: 10.88.0.0/24, gateway: 10.88.0.1}",
  );
  if (!n) return undefined;
  const cidrText = r.requiredString(`${K}.cidr`, n.cidr, "10.88.0.0/24");
  if (cidrText === undefined) return undefined;
  const cidr = parseCidr(cidrText);
  if (!cidr) {
    r.problems.add(
      `${K}.cidr`,
      n.cidr,
      "is not an IPv4 CIDR",
      "write it as a.b.c.d/len, e.g. 10.88.0.0/24",
    );
    return undefined;
  }
  if (cidr.hostBitsSet) {
    r.problems.add(
      `${K}.cidr`,
      n.cidr,
      "has host bits set",
      `use the network address: ${formatCidr(cidr)}`,
    );
  }
  if (cidr.prefixLength < 8 || cidr.prefixLength > 29) {
    r.problems.add(
      `${K}.cidr`,
      n.cidr,
      "prefix length must be /8 to /29 (room for a gateway and nodes)",
      "use a /24 such as 10.88.0.0/24",
    );
    return undefined;
  }
  const gateway = hostAddress(r, `${K}.gateway`, n.gateway, cidr, formatIPv4(cidr.address + 1));
  const dnsRaw = n.dns === undefined ? [] : (r.array(`${K}.dns`, n.dns, "[10.88.0.1]") ?? []);
  const dns = dnsRaw.flatMap((d, i) => {
    const text = typeof d === "string" ? d : "";
    if (parseIPv4(text) === undefined) {
      r.problems.add(
        `${K}.dns[${i}]`,
        d,
        "is not an IPv4 address",
        "list DNS servers as dotted quads, e.g. 10.88.0.1",
      );
      return [];
    }
    return [text];
  });
  const pool = parsePool(r, n.dhcpPool, cidr, gateway);
  const gw = gateway ?? cidr.address + 1;
  const name = r.string(`${K}.name`, n.name, `fleetlab-${stack}`)!;
  const bad = libvirtNameProblem(name, `fleetlab-${stack}`);
  if (bad) r.problems.add(`${K}.name`, n.name, bad.problem, bad.fix);
  const spec: NetworkSpec = {
    name,
    cidr: formatCidr(cidr),
    address: formatIPv4(cidr.address),
    prefixLength: cidr.prefixLength,
    netmask: netmaskOf(cidr),
    broadcast: formatIPv4(broadcastOf(cidr)),
    gateway: formatIPv4(gw),
    // Without explicit DNS the gateway answers (libvirt's dnsmasq, VirtualBox's host).
    dns: dns.length > 0 ? dns : [formatIPv4(gw)],
    ...(pool && {
      dhcpPool: { start: formatIPv4(pool.start), end: formatIPv4(pool.end) } as AddressRange,
    }),
  };
  return { spec, cidr, gateway: gw, ...(pool && { pool }) };
}

/** An address inside the CIDR that is neither the network nor the broadcast address. */
export function hostAddress(
  r: Reader,
  key: string,
  v: unknown,
  cidr: Cidr,
  example: string,
): number | undefined {
  const text = r.requiredString(key, v, example);
  if (text === undefined) return undefined;
  const ip = parseIPv4(text);
  if (ip === undefined) {
    r.problems.add(key, v, "is not an IPv4 address", `write a dotted quad, e.g. ${example}`);
    return undefined;
  }
  if (!inCidr(cidr, ip)) {
    r.problems.add(
      key,
      v,
      `is outside ${K}.cidr ${formatCidr(cidr)}`,
      `use an address in ${hostRange(cidr)}`,
    );
    return undefined;
  }
  if (ip === cidr.address || ip === broadcastOf(cidr)) {
    const what = ip === cidr.address ? "network" : "broadcast";
    r.problems.add(
      key,
      v,
      `is the ${what} address of ${formatCidr(cidr)}`,
      `use an address in ${hostRange(cidr)}`,
    );
    return undefined;
  }
  return ip;
}

function parsePool(
  r: Reader,
  raw: unknown,
  cidr: Cidr,
  gateway: number | undefined,
): { start: number; end: number } | undefined {
  const key = `${K}.dhcpPool`;
  const p = r.object(key, raw, ["start", "end"]);
  if (!p) return undefined;
  const start = hostAddress(r, `${key}.start`, p.start, cidr, formatIPv4(cidr.address + 100));
  const end = hostAddress(r, `${key}.end`, p.end, cidr, formatIPv4(cidr.address + 199));
  if (start === undefined || end === undefined) return undefined;
  if (start > end) {
    r.problems.add(
      key,
      raw,
      "start is after end",
      `swap them: {start: ${formatIPv4(end)}, end: ${formatIPv4(start)}}`,
    );
    return undefined;
  }
  if (gateway !== undefined && gateway >= start && gateway <= end) {
    r.problems.add(
      key,
      raw,
      `contains the gateway ${formatIPv4(gateway)}`,
      "move the pool so it excludes the gateway",
    );
  }
  return { start, end };
}
