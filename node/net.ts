// IPv4 and MAC arithmetic for validation and address derivation (pure).

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses dotted-quad IPv4 to an unsigned 32-bit number, or undefined. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

export interface Cidr {
  address: number;
  prefixLength: number;
  size: number;
}

/** Parses a.b.c.d/len; `hostBitsSet` reports a CIDR like 10.0.0.5/24. */
export function parseCidr(text: string): (Cidr & { hostBitsSet: boolean }) | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const ip = parseIPv4(m[1]);
  const prefixLength = Number(m[2]);
  if (ip === undefined || prefixLength > 32) return undefined;
  const size = 2 ** (32 - prefixLength);
  const address = ip - (ip % size);
  return { address, prefixLength, size, hostBitsSet: address !== ip };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.address)}/${c.prefixLength}`;
}

export function broadcastOf(c: Cidr): number {
  return c.address + c.size - 1;
}

export function netmaskOf(c: Cidr): string {
  return formatIPv4(2 ** 32 - c.size);
}

export function inCidr(c: Cidr, ip: number): boolean {
  return ip >= c.address && ip <= broadcastOf(c);
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Lower-cases a MAC; undefined if malformed, multicast or all zero. */
export function normalizeMac(text: string): string | undefined {
  const mac = text.toLowerCase();
  if (!MAC.test(mac)) return undefined;
  const first = parseInt(mac.slice(0, 2), 16);
  if (first & 1 || mac === "00:00:00:00:00:00") return undefined;
  return mac;
}

/**
 * Deterministic MAC from a 3-byte hypervisor prefix and the node's IPv4 address:
 * unique within the lab network because node IPs are, stable across runs.
 */
export function macFromIp(prefix: string, ip: number): string {
  const tail = [16, 8, 0].map((s) => (Math.floor(ip / 2 ** s) % 256).toString(16).padStart(2, "0"));
  return `${prefix}:${tail.join(":")}`;
}
