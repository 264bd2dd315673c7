// Names and paths on a lab node that other parts of fleetlab depend on (the fleet
// agent, the service units, the tests). Import them; never repeat the literals.
/** Directory holding the node's TLS material (CA, node cert, node key). */
export const TLS_DIR = "/etc/fleetlab/tls";
export const CA_FILE = "ca.pem";
export const NODE_CERT_FILE = "node.pem";
export const NODE_KEY_FILE = "node-key.pem";
export const CA_PATH = `${TLS_DIR}/${CA_FILE}`;
export const NODE_CERT_PATH = `${TLS_DIR}/${NODE_CERT_FILE}`;
export const NODE_KEY_PATH = `${TLS_DIR}/${NODE_KEY_FILE}`;

/**
 * etcd client settings for everything on the node (members and workers), as
 * systemd EnvironmentFile / shell `KEY=value` lines: ETCDCTL_* for etcdctl and
 * FLEET_ETCD_* for the fleet agent.
 */
export const ETCD_ENV_PATH = "/etc/fleetlab/etcd.env";
/** Host directory with the etcd member's data (bind-mounted into the container). */
export const ETCD_DATA_DIR = "/var/lib/etcd";

/**
 * Runs before each start of the etcd member and decides its initial cluster state
 * (see etcdJoinScript), writing ETCD_INITIAL_CLUSTER_STATE to ETCD_STATE_ENV.
 */
export const ETCD_JOIN_SCRIPT = "/opt/fleetlab/bin/etcd-join";
/**
 * The fleet agent unit's main process: it starts the agent and fences it if it hangs
 * (fleet/agent/watchdog.ts), reading the agent's deadline from FLEET_HEARTBEAT_FILE.
 */
export const FLEET_WATCHDOG_SCRIPT = "/opt/fleetlab/bin/fleet-watchdog";
export const FLEET_HEARTBEAT_FILE = "/run/fleet/heartbeat";
export const ETCD_STATE_ENV = "/run/fleetlab/etcd-state.env";

export const DOCKER_UNIT = "docker.service";
export const ETCD_UNIT = "etcd-member.service";
/** Container name of the etcd member (docker rm -f on restart). */
export const ETCD_CONTAINER = "etcd-member";
export const FLEET_AGENT_UNIT = "fleet-agent.service";
export const FLEET_AGENT_CONTAINER = "fleet-agent";
/** Runtime directory shared between the agent container and the host. */
export const FLEET_RUN_DIR = "/run/fleet";
export const NETWORKD_FILE = "/etc/systemd/network/00-fleetlab.network";
export const SSH_USER = "core";

/** Where Docker (Flatcar's included) reads the CA of the registry at host:port. */
export const certsDirPath = (hostPort: string): string => `/etc/docker/certs.d/${hostPort}/ca.crt`;
