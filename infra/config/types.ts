// The lab model: the one validated shape the rest of the program reads. It is built
// from the stack config by parseLabSpec (./index.ts) and is never mutated afterwards.
// Other engineers code against these types; extend them, do not reshape them.

export const ENVIRONMENTS = ["dev", "faculty", "local"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const FLATCAR_CHANNELS = ["stable", "beta", "alpha", "lts"] as const;
export type FlatcarChannel = (typeof FLATCAR_CHANNELS)[number];

export const NODE_ROLES = ["etcd", "worker"] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export type ImageFormat = "qcow2" | "raw" | "vdi" | "vmdk";

/** Where a hypervisor driver gets the boot disk from. */
export type ImageSource =
  /** The real Flatcar image for spec.flatcar.channel/version (users). */
  | { kind: "flatcar" }
  /** A disk image already on the hypervisor host (tests: the Debian stand-in). */
  | { kind: "path"; path: string; format: ImageFormat }
  /** A disk image to fetch; sha256 is required so the driver can verify it. */
  | { kind: "url"; url: string; sha256: string; format: ImageFormat };

/** Boot with -kernel/-initrd instead of a bootloader (the test image has none). */
export interface DirectKernelBoot {
  kernel: string;
  initrd: string;
  cmdline: string;
}

export type LibvirtNetworkMode =
  /** A network the lab creates, with no route out (the `local` stack, CI). */
  | { mode: "isolated" }
  /** A network the lab creates, NATed to the host's uplink. */
  | { mode: "nat" }
  /** An existing host bridge; the lab creates no network. */
  | { mode: "bridge"; bridge: string };

export interface LibvirtSettings {
  kind: "libvirt";
  /** e.g. qemu:///system or qemu+ssh://user@host/system */
  uri: string;
  /** Storage pool for the lab's volumes. */
  pool: string;
  /** When set, the lab creates `pool` as a dir pool at this path; else it must exist. */
  poolPath?: string;
  image: ImageSource;
  /** fw_cfg key Ignition reads: Flatcar opt/org.flatcar-linux/config, Debian's opt/com.coreos/config. */
  ignitionFwCfgKey: string;
  /** auto: kvm when the host offers it, else qemu (TCG). */
  domainType: "auto" | "kvm" | "qemu";
  directKernelBoot?: DirectKernelBoot;
  network: LibvirtNetworkMode;
}

export interface VirtualBoxSettings {
  kind: "virtualbox";
  /** Host-only interface the VMs attach to, e.g. vboxnet0. */
  hostOnlyInterface: string;
  /** VBoxManage binary (name on PATH or absolute path). */
  vboxManage: string;
  image: ImageSource;
  headless: boolean;
}

export type HypervisorSettings = LibvirtSettings | VirtualBoxSettings;
export type HypervisorKind = HypervisorSettings["kind"];

export interface AddressRange {
  start: string;
  end: string;
}

export interface NetworkSpec {
  /** Name of the lab network (libvirt network name / documentation for VirtualBox). */
  name: string;
  /** Normalised network CIDR, e.g. 192.168.56.0/24. */
  cidr: string;
  /** Network address, e.g. 192.168.56.0. */
  address: string;
  prefixLength: number;
  netmask: string;
  broadcast: string;
  gateway: string;
  dns: string[];
  /** Addresses the lab's DHCP service hands out; never overlaps node addresses. */
  dhcpPool?: AddressRange;
}

export interface NodeSpec {
  name: string;
  /** Position in the stack's node list (0-based); derived addresses use it. */
  index: number;
  role: NodeRole;
  /** Lower-case aa:bb:cc:dd:ee:ff. */
  mac: string;
  ip: string;
  /** fleet machine metadata (MachineMetadata=key=value); always includes role. */
  metadata: Record<string, string>;
  cpus: number;
  memoryMiB: number;
  diskGiB: number;
}

export interface FlatcarSpec {
  channel: FlatcarChannel;
  /** "current" or a release such as 4081.2.0. */
  version: string;
  /**
   * false (default): /etc/flatcar/update.conf turns the update server and reboots off, so
   * the pinned release stays. true: updates land and locksmithd reboots one node at a
   * time under an etcd lock (infra/ignition/update.ts).
   */
  updates: boolean;
}

export interface EtcdSpec {
  image: string;
  clientPort: number;
  peerPort: number;
  /** Raft heartbeat interval and election timeout (etcd's --heartbeat-interval, --election-timeout). */
  heartbeatMs: number;
  electionMs: number;
}

export interface FleetSpec {
  image: string;
  /**
   * The machine lease's TTL: a dead machine's units move after about this long. The
   * agent renews 5 times per TTL and fences at 70% of it (fleet/agent/config.ts).
   */
  leaseTtlSec: number;
  /** The engine moves units to machines with fewer (fleet/engine/scheduler.ts rebalance). */
  rebalance: boolean;
}

/** Directories on the management host holding the data pushed into the lab. */
export interface LabDataSpec {
  dhcp: string;
  ldap: string;
  www: string;
}

/** What the stack says about one unit file of fleetlab:unitsDir (fleetlab:units). */
export interface UnitFileSettings {
  /** A template's instances, e.g. ["1", "2"] for tftp@1.service and tftp@2.service. */
  instances?: string[];
  /** What fleet should make of the unit (of each instance); default launched. */
  desiredState?: "inactive" | "loaded" | "launched";
}

/** Plain fleet unit files submitted with the services (units/files.ts). */
export interface UnitsSpec {
  /** The directory, relative to the project or absolute. */
  dir: string;
  /** Keyed by file name, e.g. tftp@.service. */
  files: Record<string, UnitFileSettings>;
}

export interface LabSpec {
  stack: string;
  environment: Environment;
  hypervisor: HypervisorSettings;
  network: NetworkSpec;
  nodes: NodeSpec[];
  /** OpenSSH public keys for user core. */
  sshKeys: string[];
  flatcar: FlatcarSpec;
  etcd: EtcdSpec;
  fleet: FleetSpec;
  data: LabDataSpec;
  /** false: Ignition, PKI and outputs only, no hypervisor driver is called. */
  machines: boolean;
  /** true: the lab data and service units (DHCP, WWW, LDAP) are pushed into the lab. */
  services: boolean;
  /** Unit files of the admin's own, submitted with the services. */
  units: UnitsSpec;
  /** The lab registry on the management host (infra/registry). */
  registry: { port: number };
  /** Which timing defaults applied (defaults.ts TIMING_DEFAULTS) to the timing keys the stack left unset. */
  timing: { profile: "hardware" | "emulated"; defaulted: string[] };
}
