// Limits of the stack config and the defaults that are not one key's (the per-key
// defaults are in keys.ts, with the key's type and description).
/**
 * The lab's timings when the stack does not set them, by how the VMs will run. Not in
 * Pulumi.yaml as `default:` (the engine would always pass it, and the program could no
 * longer tell "unset"): the program picks the set once it knows the hypervisor.
 * - hardware: etcd's own defaults and the agent's (failover in about 5 s);
 * - emulated (QEMU without KVM, TCG): emulated VMs stall for seconds, so with etcd's
 *   defaults members keep electing leaders and agents fence themselves. The e2e's
 *   emulated lab runs with these. Heartbeats at 500 ms, not 300: each is a TLS write to
 *   every peer, and on a slow host the leader's heartbeat CPU starved the rest (missed
 *   heartbeats, renewals timing out, agents fencing and their units moving); the TTL
 *   stays the shortest the lease rule allows for that election timeout (3 x 5000 / 700).
 */
export const TIMING_DEFAULTS = {
  hardware: { etcdHeartbeatMs: 100, etcdElectionMs: 1000, fleetLeaseTtlSec: 5 },
  emulated: { etcdHeartbeatMs: 500, etcdElectionMs: 5000, fleetLeaseTtlSec: 22 },
} as const;
export type TimingProfile = keyof typeof TIMING_DEFAULTS;
export const TIMING_KEYS = Object.keys(
  TIMING_DEFAULTS.hardware,
) as (keyof typeof TIMING_DEFAULTS.hardware)[];

/**
 * TCP ports a node already listens on, which the etcd ports must avoid: sshd, the fleet
 * API (FLEET_API_PORT in infra/ignition/fleet.ts) and the host ports the WWW and LDAP
 * units publish (DEFAULT_SERVICE_UNIT_OPTIONS in units/services.ts); a test keeps them equal.
 */
export const NODE_TCP_PORTS: Readonly<Record<number, string>> = {
  22: "sshd",
  80: "the WWW service",
  389: "the LDAP service",
  49153: "the fleet API",
};

/**
 * Below this Flatcar plus Docker plus an etcd member does not fit: Flatcar's own
 * libvirt guide boots machines with 1024 MiB and its QEMU launcher defaults to
 * 2048 MiB, which is our default.
 */
export const MIN_MEMORY_MIB = 1024;
/** Flatcar's installer asks for at least 8 GB of disk. */
export const MIN_DISK_GIB = 8;

/** Node IPs derived from the index start after this many host addresses (.11, .12, ...). */
export const NODE_HOST_OFFSET = 10;

/** MAC prefixes used when a node's MAC is omitted (each hypervisor's own range). */
export const MAC_PREFIX = { libvirt: "52:54:00", virtualbox: "08:00:27" } as const;

export const FLATCAR_FW_CFG_KEY = "opt/org.flatcar-linux/config";
