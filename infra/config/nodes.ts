// stack config `fleetlab:nodes` (+ `fleetlab:nodeDefaults`) -> NodeSpec[]: fills in
// derived addresses, then checks the list as a whole (etcd quorum, duplicates, pool).
import { isMapping } from "../../labdata/problems";
import { fullKey } from "./errors";
import { MAC_PREFIX, MIN_DISK_GIB, MIN_MEMORY_MIB, NODE_HOST_OFFSET } from "./defaults";
import { NODE_DEFAULTS } from "./keys";
import { broadcastOf, formatIPv4, macFromIp, normalizeMac, parseIPv4 } from "../../node/net";
import { hostAddress, hostRange, ParsedNetwork } from "./network";
import { Reader } from "./read";
import { HypervisorKind, NODE_ROLES, NodeSpec } from "./types";

const K = fullKey("nodes");
const NODE_KEYS = ["name", "role", "ip", "mac", "metadata", "cpus", "memoryMiB", "diskGiB"];
const RESOURCE_KEYS = ["cpus", "memoryMiB", "diskGiB"] as const;
const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Names every host resolves to itself (or to everyone): a node so named is unreachable by name. */
const RESERVED_NAMES = [
  "localhost",
  "localdomain",
  "broadcasthost",
  "ip6-localhost",
  "ip6-loopback",
];
/**
 * Metadata values are written into etcd.env, which the node's units source with sh:
 * only characters with no meaning to a shell (and none of fleet's , and =).
 */
const META_VALUE = /^[A-Za-z0-9_.:/+@-]+$/;
const META_KEY = /^[A-Za-z0-9_.-]+$/;

type Resources = Pick<NodeSpec, (typeof RESOURCE_KEYS)[number]>;

function parseResources(
  r: Reader,
  key: string,
  raw: Record<string, unknown>,
  base: Resources,
): Resources {
  return {
    cpus: r.integer(`${key}.cpus`, raw.cpus, base.cpus, 1, 64),
    memoryMiB: r.integer(
      `${key}.memoryMiB`,
      raw.memoryMiB,
      base.memoryMiB,
      MIN_MEMORY_MIB,
      1 << 20,
      `Flatcar with Docker and etcd needs at least ${MIN_MEMORY_MIB} MiB`,
    ),
    diskGiB: r.integer(
      `${key}.diskGiB`,
      raw.diskGiB,
      base.diskGiB,
      MIN_DISK_GIB,
      4096,
      `Flatcar needs at least ${MIN_DISK_GIB} GiB`,
    ),
  };
}

export function parseNodeDefaults(r: Reader, raw: unknown): Resources {
  const d = r.object(fullKey("nodeDefaults"), raw, RESOURCE_KEYS);
  return d ? parseResources(r, fullKey("nodeDefaults"), d, NODE_DEFAULTS) : { ...NODE_DEFAULTS };
}

function parseMetadata(r: Reader, key: string, raw: unknown, role: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw !== undefined && !isMapping(raw)) {
    r.problems.add(key, raw, "must be a mapping of key: value", `e.g. ${key}: {lan: "true"}`);
  } else if (raw) {
    for (const [k, v] of Object.entries(raw)) {
      const value =
        typeof v === "string" || typeof v === "number" || typeof v === "boolean"
          ? String(v)
          : undefined;
      // fleet metadata travels as "k=v,k=v": keys and values must not contain , or =.
      if (!META_KEY.test(k) || value === undefined || !META_VALUE.test(value)) {
        r.problems.add(
          `${key}.${k}`,
          v,
          "metadata keys are [A-Za-z0-9_.-]+ and values plain words of letters, digits and _ . : / + @ - (no spaces, quotes, $, `, ;, , or =: the values end up in a file sourced by sh)",
          `e.g. ${key}: {lan: "true"}`,
        );
        continue;
      }
      out[k] = value;
    }
  }
  // Every machine advertises its role so units can say MachineMetadata=role=etcd.
  if (out.role !== undefined && out.role !== role) {
    r.problems.add(
      `${key}.role`,
      out.role,
      `contradicts the node's role ${role}`,
      "remove metadata.role; it is set from the node's role",
    );
  }
  return { role, ...out };
}

export function parseNodes(
  r: Reader,
  raw: unknown,
  defaults: Resources,
  net: ParsedNetwork | undefined,
  kind: HypervisorKind | undefined,
): NodeSpec[] {
  const list = r.array(
    K,
    raw,
    "[{name: core-01, role: etcd}, {name: core-02, role: etcd}, {name: core-03, role: etcd}]",
  );
  if (!list) return [];
  if (list.length === 0) {
    r.problems.add(
      K,
      raw,
      "has no nodes",
      "list at least one node with role: etcd (3 for a fault-tolerant lab)",
    );
    return [];
  }
  const nodes = list.flatMap((item, index) => {
    const key = `${K}[${index}]`;
    const n = r.object(key, item, NODE_KEYS);
    if (!n) {
      if (item === undefined || item === null)
        r.problems.add(key, item, "is empty", "give the node at least a name");
      return [];
    }
    const name = r.requiredString(`${key}.name`, n.name, `core-0${index + 1}`) ?? `node-${index}`;
    if (!HOSTNAME.test(name)) {
      r.problems.add(
        `${key}.name`,
        n.name,
        "is not a valid host name",
        "use lower-case letters, digits and '-', at most 63 characters, e.g. core-01",
      );
    } else if (RESERVED_NAMES.includes(name) || /^[0-9-]+$/.test(name)) {
      r.problems.add(
        `${key}.name`,
        n.name,
        RESERVED_NAMES.includes(name)
          ? "is a name every host resolves to itself"
          : "is all digits, which resolvers may read as an address",
        `give the node its own name, e.g. core-0${index + 1}`,
      );
    }
    const role = r.oneOf(`${key}.role`, n.role, NODE_ROLES, "etcd")!;
    const ip = nodeIp(r, `${key}.ip`, n.ip, index, net);
    const mac = nodeMac(r, `${key}.mac`, n.mac, ip, kind);
    const node: NodeSpec = {
      name,
      index,
      role,
      mac,
      ip: ip === undefined ? "" : formatIPv4(ip),
      metadata: parseMetadata(r, `${key}.metadata`, n.metadata, role),
      ...parseResources(r, key, n, defaults),
    };
    return [node];
  });
  checkNodeSet(r, nodes, net);
  return nodes;
}

function nodeIp(
  r: Reader,
  key: string,
  v: unknown,
  index: number,
  net: ParsedNetwork | undefined,
): number | undefined {
  if (!net) return undefined;
  if (v !== undefined)
    return hostAddress(r, key, v, net.cidr, formatIPv4(net.cidr.address + NODE_HOST_OFFSET + 1));
  const derived = net.cidr.address + NODE_HOST_OFFSET + 1 + index;
  if (derived >= broadcastOf(net.cidr)) {
    r.problems.add(
      key,
      v,
      `cannot be derived: ${fullKey("network")}.cidr ${net.spec.cidr} is too small for node #${index + 1}`,
      `set ${key} to a free address in ${hostRange(net.cidr)}`,
    );
    return undefined;
  }
  return derived;
}

function nodeMac(
  r: Reader,
  key: string,
  v: unknown,
  ip: number | undefined,
  kind: HypervisorKind | undefined,
): string {
  if (v === undefined) return ip !== undefined && kind ? macFromIp(MAC_PREFIX[kind], ip) : "";
  const mac = typeof v === "string" ? normalizeMac(v) : undefined;
  if (!mac) {
    r.problems.add(
      key,
      v,
      "is not a unicast MAC address",
      `write six hex pairs separated by ':', e.g. ${MAC_PREFIX[kind ?? "libvirt"]}:00:00:11, or omit it to derive one`,
    );
    return "";
  }
  return mac;
}

/** Checks that need the whole list: quorum, uniqueness, gateway and DHCP pool. */
function checkNodeSet(r: Reader, nodes: NodeSpec[], net: ParsedNetwork | undefined): void {
  const members = nodes.filter((n) => n.role === "etcd");
  if (members.length === 0 || members.length % 2 === 0) {
    r.problems.add(
      K,
      members.map((n) => n.name),
      `has ${members.length} etcd members; etcd needs an odd number (1, 3, 5) for a majority that survives failures`,
      members.length === 0
        ? "set role: etcd on 1 or 3 nodes"
        : `make ${members.length - 1} or ${members.length + 1} nodes role: etcd (the rest role: worker)`,
    );
  }
  for (const field of ["name", "ip", "mac"] as const) {
    const seen = new Map<string, number>();
    for (const n of nodes) {
      const v = n[field];
      if (v === "") continue;
      const first = seen.get(v);
      if (first === undefined) seen.set(v, n.index);
      else
        r.problems.add(
          `${K}[${n.index}].${field}`,
          v,
          `duplicates ${K}[${first}].${field}`,
          `give every node its own ${field}${field === "name" ? "" : " (or omit it to derive one from the node's position)"}`,
        );
    }
  }
  if (!net) return;
  for (const n of nodes) {
    if (n.ip === net.spec.gateway) {
      r.problems.add(
        `${K}[${n.index}].ip`,
        n.ip,
        "is the network's gateway",
        `pick another address in ${hostRange(net.cidr)}`,
      );
    }
    if (net.pool && n.ip !== "") {
      const ip = parseIPv4(n.ip) ?? -1;
      if (ip >= net.pool.start && ip <= net.pool.end) {
        r.problems.add(
          `${fullKey("network")}.dhcpPool`,
          net.spec.dhcpPool,
          `overlaps node ${n.name} (${n.ip})`,
          "shrink or move the pool so no node address falls inside it",
        );
      }
    }
  }
}
