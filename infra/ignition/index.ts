// LabSpec + node + TLS -> Ignition 3.3.0 (pure, deterministic for equal inputs).
import type { LabSpec, NodeSpec } from "../config/types";
import { etcdClientEnv, etcdJoinScript, etcdMemberUnit } from "./etcd";
import { DOCKER_ENABLED_UNIT, DOCKER_WANTS_LINK } from "./docker";
import { fleetAgentUnit } from "./fleet";
import { watchdogScript } from "../../fleet/agent/watchdog";
import {
  CA_PATH,
  ETCD_DATA_DIR,
  ETCD_ENV_PATH,
  ETCD_JOIN_SCRIPT,
  FLEET_WATCHDOG_SCRIPT,
  ETCD_UNIT,
  FLEET_AGENT_UNIT,
  NETWORKD_FILE,
  NODE_CERT_PATH,
  NODE_KEY_PATH,
  SSH_USER,
  TLS_DIR,
} from "../../node/paths";
import { renderUnit } from "../../node/systemd";
import { UPDATE_CONF_PATH, updateConf } from "./update";
import {
  IGNITION_VERSION,
  IgnitionConfig,
  IgnitionExtras,
  IgnitionFile,
  IgnitionUnit,
  NodeTls,
} from "./types";

export * from "./types";
export * from "../../node/paths";
export {
  initialCluster,
  clientEndpoints,
  clientUrl,
  peerUrl,
  etcdMembers,
  fleetMetadata,
  clusterToken,
} from "./etcd";
export { renderUnit, execLine, type UnitSection, type UnitSections } from "../../node/systemd";
export { UPDATE_CONF_PATH, updateConf } from "./update";
export { DOCKER_WANTS_LINK, HOST_CONTAINER_OPTS } from "./docker";

const MODE_PUBLIC = 0o644;
const MODE_SECRET = 0o600;
const MODE_EXEC = 0o755;

/** RFC 2397 data URL; percent-encoded so the rendered JSON stays readable. */
export function dataUrl(text: string): string {
  return `data:,${encodeURIComponent(text)}`;
}

/** Inverse of dataUrl (tests, tools reading rendered configs). */
export function decodeDataUrl(source: string): string {
  const m = /^data:([^,]*),(.*)$/s.exec(source);
  if (!m) throw new Error(`not a data URL: ${source.slice(0, 40)}`);
  return m[1].endsWith(";base64")
    ? Buffer.from(m[2], "base64").toString("utf8")
    : decodeURIComponent(m[2]);
}

export function file(path: string, contents: string, mode = MODE_PUBLIC): IgnitionFile {
  return { path, mode, overwrite: true, contents: { source: dataUrl(contents) } };
}

/**
 * The default route of the lab NIC. On VirtualBox the lab network is host-only and has
 * no route out; egress is NIC2, NAT, configured by DHCP through Flatcar's catch-all
 * zz-default.network (flatcar/init systemd/network/zz-default.network: DHCP=yes for
 * every interface no earlier file matched). A static `Gateway=` gets route metric 0
 * and DHCP routes 1024 (systemd.network(5): RouteMetric= of [DHCPv4] defaults to 1024),
 * so a gateway here would win and send image pulls into the host-only network. So the
 * VirtualBox lab NIC gets no Gateway= at all and its subnet stays reachable through the
 * on-link route of its Address=. libvirt's lab network routes (nat) or is isolated, and
 * the host is its gateway either way.
 */
export function labGateway(spec: LabSpec): string | undefined {
  return spec.hypervisor.kind === "virtualbox" ? undefined : spec.network.gateway;
}

/** systemd-networkd: static address on the interface with the node's MAC. */
export function networkdConfig(spec: LabSpec, node: NodeSpec): string {
  return renderUnit({
    Match: { MACAddress: node.mac },
    Network: {
      Address: `${node.ip}/${spec.network.prefixLength}`,
      Gateway: labGateway(spec),
      DNS: spec.network.dns,
    },
  });
}

export function renderIgnition(
  spec: LabSpec,
  node: NodeSpec,
  tls: NodeTls,
  extra: IgnitionExtras = {},
): IgnitionConfig {
  const files: IgnitionFile[] = [
    file("/etc/hostname", `${node.name}\n`),
    file(NETWORKD_FILE, networkdConfig(spec, node)),
    file(CA_PATH, tls.caCert),
    file(NODE_CERT_PATH, tls.cert),
    file(NODE_KEY_PATH, tls.key, MODE_SECRET),
    file(ETCD_ENV_PATH, etcdClientEnv(spec, node)),
    file(UPDATE_CONF_PATH, updateConf(spec)),
    file(FLEET_WATCHDOG_SCRIPT, watchdogScript(), MODE_EXEC),
  ];
  const units: IgnitionUnit[] = [
    DOCKER_ENABLED_UNIT,
    { name: FLEET_AGENT_UNIT, enabled: true, contents: fleetAgentUnit(spec, node) },
  ];
  const directories = [{ path: TLS_DIR, mode: 0o755, overwrite: false }];
  if (node.role === "etcd") {
    units.push({ name: ETCD_UNIT, enabled: true, contents: etcdMemberUnit(spec, node) });
    files.push(file(ETCD_JOIN_SCRIPT, etcdJoinScript(spec, node), MODE_EXEC));
    // etcd refuses a data dir that others can read.
    directories.push({ path: ETCD_DATA_DIR, mode: 0o700, overwrite: false });
  }
  return {
    ignition: { version: IGNITION_VERSION },
    passwd: { users: [{ name: SSH_USER, sshAuthorizedKeys: [...spec.sshKeys] }] },
    storage: {
      directories: directories.sort(byKey("path")),
      files: mergeUnique([...files, ...(extra.files ?? [])], "path", node).sort(byKey("path")),
      links: [DOCKER_WANTS_LINK],
    },
    systemd: {
      units: mergeUnique([...units, ...(extra.units ?? [])], "name", node).sort(byKey("name")),
    },
  };
}

function byKey<T, K extends keyof T>(k: K): (a: T, b: T) => number {
  return (a, b) => (String(a[k]) < String(b[k]) ? -1 : String(a[k]) > String(b[k]) ? 1 : 0);
}

/** Extras may add files/units but never silently replace the base ones. */
function mergeUnique<T, K extends keyof T>(items: T[], k: K, node: NodeSpec): T[] {
  const seen = new Set<string>();
  for (const item of items) {
    const id = String(item[k]);
    if (seen.has(id))
      throw new Error(`Ignition for ${node.name}: ${String(k)} ${id} is defined twice`);
    seen.add(id);
  }
  return items;
}

/** Stable text of a config: compact for machines, pretty (2 spaces) for people. */
export function serializeIgnition(config: IgnitionConfig, pretty = false): string {
  return pretty ? `${JSON.stringify(config, null, 2)}\n` : JSON.stringify(config);
}
