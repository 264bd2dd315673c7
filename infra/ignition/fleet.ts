// The fleet agent unit every node runs (contract with fleet/: the agent reads the
// FLEET_* variables, talks to systemd over the host's D-Bus socket).
import type { LabSpec, NodeSpec } from "../config/types";
import { clientEndpoints, fleetMetadata } from "./etcd";
import {
  CA_PATH,
  DOCKER_UNIT,
  ETCD_UNIT,
  FLEET_AGENT_CONTAINER,
  FLEET_AGENT_UNIT,
  FLEET_ENV,
  FLEET_RUN_DIR,
  NODE_CERT_PATH,
  NODE_KEY_PATH,
  TLS_DIR,
} from "./paths";
import { execLine, renderUnit } from "./systemd";

const DBUS_SOCKET = "/run/dbus/system_bus_socket";

/** The agent's docker command, one group of arguments per line. */
export function fleetAgentCommand(spec: LabSpec, node: NodeSpec): string[][] {
  const env: [string, string][] = [
    [FLEET_ENV.endpoints, clientEndpoints(spec).join(",")],
    [FLEET_ENV.caFile, CA_PATH],
    [FLEET_ENV.certFile, NODE_CERT_PATH],
    [FLEET_ENV.keyFile, NODE_KEY_PATH],
    [FLEET_ENV.publicIP, node.ip],
    [FLEET_ENV.metadata, fleetMetadata(node)],
    // Units the agent starts are bound to the agent's own unit: if the agent dies
    // while the machine lives, systemd stops them, since a dead agent cannot fence.
    [FLEET_ENV.bindsTo, FLEET_AGENT_UNIT],
  ];
  const mounts = [
    `${DBUS_SOCKET}:${DBUS_SOCKET}`,
    `${FLEET_RUN_DIR}:${FLEET_RUN_DIR}`,
    `${TLS_DIR}:${TLS_DIR}:ro`,
    "/etc/machine-id:/etc/machine-id:ro",
  ];
  return [
    ["/usr/bin/docker", "run", "--rm", `--name=${FLEET_AGENT_CONTAINER}`, "--net=host"],
    ...mounts.map((m) => ["-v", m]),
    ...env.map(([k, v]) => ["-e", `${k}=${v}`]),
    [spec.fleet.image, "agent"],
  ];
}

export function fleetAgentUnit(spec: LabSpec, node: NodeSpec): string {
  // On members the agent needs the local etcd; workers dial the members directly.
  const deps = node.role === "etcd" ? `${DOCKER_UNIT} ${ETCD_UNIT}` : DOCKER_UNIT;
  return renderUnit({
    Unit: {
      Description: `fleet agent on ${node.name}`,
      Requires: deps,
      After: `${deps} network-online.target`,
      Wants: "network-online.target",
    },
    Service: {
      TimeoutStartSec: 0,
      Restart: "always",
      RestartSec: 5,
      ExecStartPre: `-${execLine(["/usr/bin/docker", "rm", "-f", FLEET_AGENT_CONTAINER])}`,
      ExecStart: execLine(...fleetAgentCommand(spec, node)),
      ExecStop: execLine(["/usr/bin/docker", "stop", FLEET_AGENT_CONTAINER]),
    },
    Install: { WantedBy: "multi-user.target" },
  });
}
