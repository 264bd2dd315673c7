// Which of the node's interfaces Kea listens on. The NIC on the lab LAN is named by
// the OS and hypervisor (eth0, ens3, enp1s0, eth1...), so the unit cannot know it in
// advance; with `auto` the sidekick (it runs with --net=host, so it sees the node's
// interfaces) picks the ones that hold an IPv4 address inside the DHCP subnet, the
// only ones on which Kea would answer that subnet's clients anyway. Pure: the caller
// passes os.networkInterfaces().
import { formatCidr, inCidr, parseCidr, parseIPv4 } from "../../node/net";

/** The value of FLEETLAB_DHCP_INTERFACES (and dhcpInterface) that asks for detection. */
export const AUTO_INTERFACES = "auto";

/** One address as os.networkInterfaces() reports it (Node < 18.4 gives family 4). */
export interface InterfaceAddress {
  address: string;
  family: string | number;
  cidr?: string | null;
}

/** The shape of os.networkInterfaces(): interface name -> its addresses. */
export type InterfaceTable = Record<string, InterfaceAddress[] | undefined>;

const isIPv4 = (a: InterfaceAddress) => a.family === "IPv4" || a.family === 4;

/**
 * Names of the interfaces with an IPv4 address inside `subnet`, sorted (the same
 * machine gives the same Kea config bytes). Throws when there is none, listing what
 * the machine has, because Kea would otherwise start and silently serve nobody.
 */
export function interfacesInSubnet(subnet: string, table: InterfaceTable): string[] {
  const net = parseCidr(subnet);
  if (!net) throw new Error(`DHCP subnet ${JSON.stringify(subnet)} is not in CIDR form`);
  const names = Object.entries(table)
    .filter(([, addrs]) =>
      (addrs ?? []).some((a) => {
        const ip = isIPv4(a) ? parseIPv4(a.address) : undefined;
        return ip !== undefined && inCidr(net, ip);
      }),
    )
    .map(([name]) => name)
    .sort();
  if (names.length > 0) return names;
  const has = Object.entries(table)
    .flatMap(([name, addrs]) =>
      (addrs ?? []).filter(isIPv4).map((a) => `${name} ${a.cidr ?? a.address}`),
    )
    .join(", ");
  throw new Error(
    `no interface of this machine has an address in ${formatCidr(net)} (it has: ${has || "no IPv4 address"}); ` +
      "fix: make the DHCP data's subnet (fleetlab:data.dhcp) the lab LAN's network (fleetlab:network.cidr), " +
      "or name the LAN interface instead of auto (dhcpInterface in units/services.ts, FLEETLAB_DHCP_INTERFACES)",
  );
}

/**
 * The interfaces to put in Kea's interfaces-config: `auto` entries replaced by the
 * interfaces in `subnet`, explicit names (and Kea's `*`) kept as given, no duplicates.
 */
export function resolveKeaInterfaces(
  requested: string[],
  subnet: string,
  table: InterfaceTable,
): string[] {
  const out: string[] = [];
  for (const r of requested) {
    for (const name of r === AUTO_INTERFACES ? interfacesInSubnet(subnet, table) : [r]) {
      if (!out.includes(name)) out.push(name);
    }
  }
  return out;
}
