// etcd membership, computed once from the node list: the static initial-cluster
// (never a discovery token), the client endpoints, and the member unit. Flags are
// the ones etcd 3.4 and 3.5 both accept.
import type { LabSpec, NodeSpec } from "../config/types";
import {
  CA_PATH,
  DOCKER_UNIT,
  ETCD_CONTAINER,
  ETCD_DATA_DIR,
  FLEET_ENV,
  NODE_CERT_PATH,
  NODE_KEY_PATH,
  TLS_DIR,
} from "./paths";
import { execLine, renderUnit } from "./systemd";

export function etcdMembers(spec: LabSpec): NodeSpec[] {
  return spec.nodes.filter((n) => n.role === "etcd");
}

export function peerUrl(spec: LabSpec, node: NodeSpec): string {
  return `https://${node.ip}:${spec.etcd.peerPort}`;
}

export function clientUrl(spec: LabSpec, node: NodeSpec): string {
  return `https://${node.ip}:${spec.etcd.clientPort}`;
}

/** name=peerURL for every member, in node order: the one initial-cluster of the lab. */
export function initialCluster(spec: LabSpec): string {
  return etcdMembers(spec)
    .map((n) => `${n.name}=${peerUrl(spec, n)}`)
    .join(",");
}

/** Client URLs of all members (what etcdctl, the fleet agent and Pulumi dial). */
export function clientEndpoints(spec: LabSpec): string[] {
  return etcdMembers(spec).map((n) => clientUrl(spec, n));
}

/** Keeps two labs on one network from joining each other's cluster by mistake. */
export function clusterToken(spec: LabSpec): string {
  return `fleetlab-${spec.stack}`;
}

export function etcdMemberUnit(spec: LabSpec, node: NodeSpec): string {
  const flags = [
    `--name=${node.name}`,
    `--data-dir=${ETCD_DATA_DIR}`,
    `--listen-peer-urls=${peerUrl(spec, node)}`,
    `--initial-advertise-peer-urls=${peerUrl(spec, node)}`,
    `--listen-client-urls=${clientUrl(spec, node)},https://127.0.0.1:${spec.etcd.clientPort}`,
    `--advertise-client-urls=${clientUrl(spec, node)}`,
    `--initial-cluster=${initialCluster(spec)}`,
    `--initial-cluster-token=${clusterToken(spec)}`,
    // Only read on first start; later starts use the member list in the data dir.
    "--initial-cluster-state=new",
    "--client-cert-auth",
    `--trusted-ca-file=${CA_PATH}`,
    `--cert-file=${NODE_CERT_PATH}`,
    `--key-file=${NODE_KEY_PATH}`,
    "--peer-client-cert-auth",
    `--peer-trusted-ca-file=${CA_PATH}`,
    `--peer-cert-file=${NODE_CERT_PATH}`,
    `--peer-key-file=${NODE_KEY_PATH}`,
  ];
  const docker = ["/usr/bin/docker", "run", "--rm", `--name=${ETCD_CONTAINER}`, "--net=host"];
  const mounts = [`${ETCD_DATA_DIR}:${ETCD_DATA_DIR}`, `${TLS_DIR}:${TLS_DIR}:ro`].map((m) => [
    "-v",
    m,
  ]);
  return renderUnit({
    Unit: {
      Description: `etcd member ${node.name} of lab ${spec.stack}`,
      Documentation: "https://etcd.io/docs/",
      Requires: DOCKER_UNIT,
      After: `${DOCKER_UNIT} network-online.target`,
      Wants: "network-online.target",
    },
    Service: {
      // The first start may pull the image.
      TimeoutStartSec: 0,
      Restart: "always",
      RestartSec: 5,
      ExecStartPre: `-${execLine(["/usr/bin/docker", "rm", "-f", ETCD_CONTAINER])}`,
      ExecStart: execLine(docker, ...mounts, [spec.etcd.image, "etcd"], ...flags.map((f) => [f])),
      ExecStop: execLine(["/usr/bin/docker", "stop", ETCD_CONTAINER]),
    },
    Install: { WantedBy: "multi-user.target" },
  });
}

/**
 * /etc/fleetlab/etcd.env on every node: etcdctl settings and the fleet agent's etcd
 * settings, as KEY=value lines (a systemd EnvironmentFile and sourceable by sh).
 */
export function etcdClientEnv(spec: LabSpec, node: NodeSpec): string {
  const endpoints = clientEndpoints(spec).join(",");
  const vars: [string, string][] = [
    ["ETCDCTL_API", "3"],
    ["ETCDCTL_ENDPOINTS", endpoints],
    ["ETCDCTL_CACERT", CA_PATH],
    ["ETCDCTL_CERT", NODE_CERT_PATH],
    ["ETCDCTL_KEY", NODE_KEY_PATH],
    [FLEET_ENV.endpoints, endpoints],
    [FLEET_ENV.caFile, CA_PATH],
    [FLEET_ENV.certFile, NODE_CERT_PATH],
    [FLEET_ENV.keyFile, NODE_KEY_PATH],
    [FLEET_ENV.publicIP, node.ip],
    [FLEET_ENV.metadata, fleetMetadata(node)],
  ];
  return vars.map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/** fleet's metadata string, k=v joined by commas; role first, then keys sorted. */
export function fleetMetadata(node: NodeSpec): string {
  const { role, ...rest } = node.metadata;
  const keys = Object.keys(rest).sort();
  return [`role=${role}`, ...keys.map((k) => `${k}=${rest[k]}`)].join(",");
}
