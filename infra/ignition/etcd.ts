// etcd membership, computed once from the node list: the static initial-cluster
// (never a discovery token), the client endpoints, and the member unit. Flags are
// the ones etcd 3.4 and 3.5 both accept.
import type { LabSpec, NodeSpec } from "../config/types";
import {
  CA_PATH,
  DOCKER_UNIT,
  ETCD_CONTAINER,
  ETCD_DATA_DIR,
  ETCD_JOIN_SCRIPT,
  ETCD_STATE_ENV,
  NODE_CERT_PATH,
  NODE_KEY_PATH,
  TLS_DIR,
} from "../../node/paths";
import { HOST_CONTAINER_OPTS, HOST_UNIT_CPU_WEIGHT } from "./docker";
import { execLine, renderEnvFile, renderUnit } from "../../node/systemd";
import { agentEnv, type AgentEnvValues } from "../../fleet/agent/config";

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

/** Client URLs of all members (what etcdctl and Pulumi dial). */
export function clientEndpoints(spec: LabSpec): string[] {
  return etcdMembers(spec).map((n) => clientUrl(spec, n));
}

/**
 * What the node's own fleet agent and sidekicks dial: on a member, only its local
 * member (as CoreOS's fleet used the machine's own etcd on 127.0.0.1). A member cut
 * off from the quorum cannot serve them, so the agent fences exactly when it should;
 * and a dead peer never costs them anything, whereas the etcd3 client, given every
 * URL, kept sending keepalives to a killed node (no route to host, seconds each) until
 * the surviving agents fenced themselves too. Workers have no member: every URL.
 */
export function localEndpoints(spec: LabSpec, node: NodeSpec): string[] {
  return node.role === "etcd"
    ? [`https://127.0.0.1:${spec.etcd.clientPort}`]
    : clientEndpoints(spec);
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
    // No --initial-cluster-state: the join script decides it (ETCD_STATE_ENV).
    `--heartbeat-interval=${spec.etcd.heartbeatMs}`,
    `--election-timeout=${spec.etcd.electionMs}`,
    "--client-cert-auth",
    `--trusted-ca-file=${CA_PATH}`,
    `--cert-file=${NODE_CERT_PATH}`,
    `--key-file=${NODE_KEY_PATH}`,
    "--peer-client-cert-auth",
    `--peer-trusted-ca-file=${CA_PATH}`,
    `--peer-cert-file=${NODE_CERT_PATH}`,
    `--peer-key-file=${NODE_KEY_PATH}`,
  ];
  const docker = [
    "/usr/bin/docker",
    "run",
    "--rm",
    `--name=${ETCD_CONTAINER}`,
    "--net=host",
    ...HOST_CONTAINER_OPTS,
    `--env-file=${ETCD_STATE_ENV}`,
  ];
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
      CPUWeight: HOST_UNIT_CPU_WEIGHT,
      // The first start may pull the image.
      TimeoutStartSec: 0,
      Restart: "always",
      RestartSec: 5,
      ExecStartPre: [
        `-${execLine(["/usr/bin/docker", "rm", "-f", ETCD_CONTAINER])}`,
        ETCD_JOIN_SCRIPT,
      ],
      ExecStart: execLine(docker, ...mounts, [spec.etcd.image, "etcd"], ...flags.map((f) => [f])),
      ExecStop: execLine(["/usr/bin/docker", "stop", ETCD_CONTAINER]),
    },
    Install: { WantedBy: "multi-user.target" },
  });
}

/**
 * The member's start decision, as a POSIX sh script run before every start:
 * - with a data dir, etcd ignores the initial state and restarts from its data;
 * - with none, it asks the other members' peer ports (served from etcd's start, before
 *   any quorum) whether a member of this cluster has ever run, i.e. published its
 *   client URLs. If none has (or none answers), the lab is new: the members form it
 *   from the static initial-cluster ("new");
 * - if one has, the cluster exists and this machine replaced a member whose data is
 *   gone (or it is the last of a new lab to boot): it asks the cluster for its member
 *   list, longer each time while the peers are slow, and never decides "new" then (a
 *   "new" member beside a running cluster is what etcd refuses: "already been
 *   bootstrapped"). A member with our name or peer URL that has run is the dead one
 *   and is removed, we are added unless the cluster lists our peer URL as not yet
 *   run, and we join as "existing". When the cluster does not answer within the
 *   bound, the script fails and systemd starts etcd-member (and the script) again.
 * A client port cannot tell a slow running cluster from one still forming (both
 * accept and then say nothing), which is why the decision reads the peer ports.
 * etcdctl runs from the etcd image; the host needs docker, curl and awk.
 */
export function etcdJoinScript(spec: LabSpec, node: NodeSpec): string {
  const others = etcdMembers(spec).filter((n) => n.name !== node.name);
  const clients = others.map((n) => clientUrl(spec, n)).join(",");
  const peers = others.map((n) => peerUrl(spec, n)).join(" ");
  const peer = peerUrl(spec, node);
  const curlTls = `--cacert ${CA_PATH} --cert ${NODE_CERT_PATH} --key ${NODE_KEY_PATH}`;
  const ctl = [
    `docker run --rm --net=host ${HOST_CONTAINER_OPTS.join(" ")}`,
    `-v ${TLS_DIR}:${TLS_DIR}:ro --entrypoint /usr/local/bin/etcdctl ${spec.etcd.image}`,
    `--endpoints=${clients} --cacert=${CA_PATH} --cert=${NODE_CERT_PATH} --key=${NODE_KEY_PATH}`,
    '--dial-timeout="${dial:-3}s" --command-timeout=10s',
  ];
  return `#!/bin/sh
# Written by fleetlab: decides etcd-member's initial cluster state (see its unit).
set -eu
state_env=${ETCD_STATE_ENV}
name=${node.name}
peer=${peer}
mkdir -p "$(dirname "$state_env")"
decide() {
  echo "ETCD_INITIAL_CLUSTER_STATE=$1" >"$state_env"
  echo "etcd-join: $name starts as $1: $2"
}
ctl() {
  ${ctl.join(
    " \
    ",
  )} \
    "$@"
}
if [ -d ${ETCD_DATA_DIR}/member ]; then
  decide existing "its data dir is there"
  exit 0
fi
# Has a member of this cluster ever run? Its peer port lists the members, with client
# URLs for those that have (bounded: 5 s per peer).
ran_before=""
for p in ${peers}; do
  if list=$(curl -sf --http1.1 --max-time 5 ${curlTls} "$p/members" 2>/dev/null); then
    case "$list" in *'"clientURLs":["'*) ran_before="$p" ;; esac
  fi
done
if [ -z "$ran_before" ]; then
  decide new "no other member has run yet, so the lab is new"
  exit 0
fi
# The cluster has run (so says $ran_before): join it, however slowly it answers.
members=""
for dial in 3 6 12 24; do
  if members=$(ctl member list 2>/dev/null); then break; fi
  members=""
  echo "etcd-join: the cluster did not list its members within \${dial}s; asking again"
done
if [ -z "$members" ]; then
  echo "etcd-join: the cluster has run ($ran_before) but did not answer; etcd-member starts again" >&2
  exit 1
fi
# member list: "ID, status, name, peer URLs, client URLs, is learner". A member that
# has run has published client URLs; one from the initial list that never ran, or one
# just added, has none (etcd's own "already bootstrapped" test).
ran=$(printf '%s\\n' "$members" |
  awk -F', ' -v n="$name" -v p="$peer" '$5 != "" && ($3 == n || $4 == p) { print $1 }')
for id in $ran; do
  echo "etcd-join: removing member $id, which ran here before and lost its data"
  ctl member remove "$id"
done
waiting=$(printf '%s\\n' "$members" | awk -F', ' -v p="$peer" '$5 == "" && $4 == p { print $1 }')
if [ -n "$ran" ] || [ -z "$waiting" ]; then
  # etcd refuses to add a member until the leader has seen the others healthy for a
  # few seconds: retry, bounded (10 tries, ~30 s).
  tries=0
  until ctl member add "$name" --peer-urls="$peer" >/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -lt 10 ] || exit 1
    sleep 3
  done
fi
decide existing "the cluster runs without it"
`;
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
    ...Object.entries(agentEnv(nodeAgentEnv(spec, node))),
  ];
  return renderEnvFile(vars);
}

/**
 * The part of the agent's environment every process on the node shares (etcd endpoints,
 * TLS, identity): the agent's unit adds its own settings, the sidekicks read these.
 */
export function nodeAgentEnv(spec: LabSpec, node: NodeSpec): AgentEnvValues {
  return {
    endpoints: localEndpoints(spec, node),
    publicIP: node.ip,
    metadata: fleetMetadata(node),
  };
}

/** fleet's metadata, role first, then the other keys sorted. */
export function fleetMetadata(node: NodeSpec): Record<string, string> {
  const { role, ...rest } = node.metadata;
  return {
    role,
    ...Object.fromEntries(
      Object.keys(rest)
        .sort()
        .map((k) => [k, rest[k]]),
    ),
  };
}
