// The stack config's keys, one entry each: its type, default and description as
// Pulumi.yaml declares them (a unit test holds Pulumi.yaml to this table), and the
// defaults the program applies when it reads a stack file without the engine (render,
// tests). The rules on the values live in the parsers (parse.ts and the files it
// calls), because keys are checked against each other: nodes against the network,
// services against machines, the lease TTL against etcd's election timeout.
import { labImage } from "../../node/images";
import { TIMING_DEFAULTS } from "./defaults";

const { hardware, emulated } = TIMING_DEFAULTS;

/** The types Pulumi's project schema has (its v3.274 CLI checks them on preview and up). */
export type ConfigType = "string" | "integer" | "boolean" | "array" | "object";

export interface ConfigKey {
  type: ConfigType;
  /** The type of each item of an array. */
  items?: ConfigType;
  /**
   * Pulumi.yaml's `default:`, which the engine passes to the program as if the stack had
   * set it. Without one, a declared key must be set in every stack.
   */
  default?: unknown;
  /**
   * false: not declared in Pulumi.yaml, only described in its header. The key has a
   * default, but one the program picks from the host (a declared default would be
   * passed as set, and the program could no longer tell "unset").
   */
  declared?: false;
  description: string;
}

export const STACK_KEYS = {
  environment: {
    type: "string",
    description: "Which kind of environment this stack is (dev, faculty or local).",
  },
  hypervisor: {
    type: "object",
    description:
      "Where the VMs run: {kind: libvirt, uri, pool, poolPath, networkMode: isolated|nat|bridge, bridge, domainType: auto|kvm|qemu, ignitionFwCfgKey, image: {path|url, sha256, format}, directKernelBoot: {kernel, initrd, cmdline}} or {kind: virtualbox, hostOnlyInterface, vboxManage, headless, image}.",
  },
  network: {
    type: "object",
    description: "The lab network: {name, cidr, gateway, dns: [..], dhcpPool: {start, end}}.",
  },
  nodes: {
    type: "array",
    items: "object",
    description:
      "The machines: [{name, role: etcd|worker, ip, mac, metadata: {k: v}, cpus, memoryMiB, diskGiB}]; ip and mac are derived from the node's position when omitted.",
  },
  nodeDefaults: {
    type: "object",
    default: { cpus: 2, memoryMiB: 2048, diskGiB: 10 },
    description:
      "Resources of a node that does not set its own (memoryMiB at least 1024; VirtualBox's Flatcar image is about 12.3 GiB, so dev uses diskGiB 20). A stack's value is merged over these.",
  },
  sshKeys: {
    type: "array",
    items: "string",
    description:
      "OpenSSH PUBLIC keys (one line each, e.g. from ~/.ssh/id_ed25519.pub) allowed to log in as user core.",
  },
  flatcarChannel: {
    type: "string",
    default: "stable",
    description: "Flatcar Container Linux release channel (stable, beta, alpha or lts).",
  },
  flatcarVersion: {
    type: "string",
    default: "current",
    description:
      "Flatcar release, e.g. 4081.2.0, or current for the channel's newest. VirtualBox needs 4722.0.0 or later (alpha/beta), see docs/virtualbox.md.",
  },
  flatcarUpdates: {
    type: "boolean",
    // Nodes keep the release they were created with (infra/ignition/update.ts).
    default: false,
    description:
      "false keeps every node on its release (update server and reboots off in /etc/flatcar/update.conf); true lets updates land and locksmithd reboot one node at a time under an etcd lock, so etcd keeps quorum.",
  },
  etcdImage: {
    type: "string",
    // etcd 3.5 line from the project that publishes etcd's official images.
    default: "quay.io/coreos/etcd:v3.5.17",
    description: "Container image of the etcd members (tag or digest required).",
  },
  etcdClientPort: {
    type: "integer",
    default: 2379,
    description:
      "etcd client port on every member (not 22, 80, 389 or 49153, which nodes already use).",
  },
  etcdPeerPort: {
    type: "integer",
    default: 2380,
    description:
      "etcd peer port on every member (not 22, 80, 389 or 49153, which nodes already use).",
  },
  etcdHeartbeatMs: {
    type: "integer",
    declared: false,
    description: `etcd raft heartbeat (ms): ${hardware.etcdHeartbeatMs} (etcd's default), or ${emulated.etcdHeartbeatMs} when libvirt runs the VMs under QEMU software emulation.`,
  },
  etcdElectionMs: {
    type: "integer",
    declared: false,
    description: `etcd election timeout (ms), at least 5 heartbeats: ${hardware.etcdElectionMs}, or ${emulated.etcdElectionMs} under emulation.`,
  },
  fleetImage: {
    type: "string",
    default: labImage("fleet"),
    description: "Container image of the fleet engine and agent.",
  },
  fleetLeaseTtlSec: {
    type: "integer",
    declared: false,
    description: `fleet machine lease TTL (s); a dead node's units move after about this long: ${hardware.fleetLeaseTtlSec}, or ${emulated.fleetLeaseTtlSec} under emulation.`,
  },
  fleetRebalance: {
    type: "boolean",
    // fleet never moved a healthy unit; users who want it say so.
    default: false,
    description:
      "true: the fleet engine moves a unit (with its sidekick) to a machine with fewer units when that lowers the imbalance, one move at a time, so a machine that comes back after a failure gets work again; each move stops the unit before it starts elsewhere (docs/services.md). false: fleet's rule, units stay where they run.",
  },
  data: {
    type: "object",
    default: { dhcp: "data/dhcp.yaml", ldap: "data/ldap", www: "data/www" },
    description:
      "The lab's data on the management host (labdata/): the DHCP file, the LDAP and web directories. A stack's value is merged over these.",
  },
  machines: {
    type: "boolean",
    default: true,
    description: "false renders the lab (PKI, Ignition, stack outputs) without creating any VM.",
  },
  services: {
    type: "boolean",
    // Undeclared: its default follows fleetlab:machines (a declared default would be
    // passed as set, and `machines: false` alone would then be an error).
    declared: false,
    description:
      "Default true (false when fleetlab:machines is false): pushes the lab data (fleetlab:data) into etcd and submits the DHCP, WWW and LDAP fleet units through the nodes' fleet API (TCP 49153, TLS, admin client cert); the nodes pull the images from the lab registry on the management host (fleetlab:registryPort). false: only etcd and fleet run.",
  },
  registryPort: {
    type: "integer",
    default: 5000,
    description:
      "TCP port of the lab registry, which the management host serves (TLS, read-only) only on the address the nodes reach it at: the lab network's gateway (local) or the host-only address (dev).",
  },
  unitsDir: {
    type: "string",
    default: "units",
    description:
      "Directory (relative to the project) of plain fleet unit files (<name>.service, <name>@.service templates, with [X-Fleet]); each is submitted to the lab's fleet with the services (docs/units.md).",
  },
  units: {
    type: "object",
    default: {},
    description:
      'Per unit file in fleetlab:unitsDir: {instances: N or [names]} for a template (tftp@.service -> tftp@1.service ...), desiredState: launched|loaded|inactive (default launched), e.g. {"tftp@.service": {instances: 2}}.',
  },
} as const satisfies Record<string, ConfigKey>;

export type StackKey = keyof typeof STACK_KEYS;

/** Every key the project reads, in the "fleetlab" namespace. */
export const CONFIG_KEYS = Object.keys(STACK_KEYS) as StackKey[];

/** The keys with a declared default, and those defaults. */
type Defaults = {
  -readonly [
    K in StackKey as (typeof STACK_KEYS)[K] extends { default: unknown } ? K : never
  ]: (typeof STACK_KEYS)[K] extends { default: infer D } ? D : never;
};

export const DEFAULTS = Object.fromEntries(
  Object.entries(STACK_KEYS as Record<string, ConfigKey>)
    .filter(([, k]) => "default" in k)
    .map(([name, k]) => [name, k.default]),
) as Defaults;

/** A node's resources when neither it nor fleetlab:nodeDefaults sets them. */
export const NODE_DEFAULTS = STACK_KEYS.nodeDefaults.default;
/** The lab data: the DHCP file, the LDAP and web directories (labdata/load.ts). */
export const DATA_DEFAULTS = STACK_KEYS.data.default;

/** What Pulumi.yaml declares for `key` (its `config:` entry), or undefined if nothing. */
export function declaration(key: StackKey): Record<string, unknown> | undefined {
  const k: ConfigKey = STACK_KEYS[key];
  if (k.declared === false) return undefined;
  return {
    type: k.type,
    ...(k.items ? { items: { type: k.items } } : {}),
    ...("default" in k ? { default: k.default } : {}),
    description: k.description,
  };
}
