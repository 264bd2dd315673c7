// The fleet agent unit every node runs (contract with fleet/: the agent reads the
// FLEET_* variables, talks to systemd over the host's D-Bus socket).
import type { LabSpec, NodeSpec } from "../config/types";
import { nodeAgentEnv } from "./etcd";
import {
  DOCKER_UNIT,
  ETCD_UNIT,
  FLEET_AGENT_CONTAINER,
  FLEET_AGENT_UNIT,
  FLEET_HEARTBEAT_FILE,
  FLEET_RUN_DIR,
  FLEET_WATCHDOG_SCRIPT,
  TLS_DIR,
} from "../../node/paths";
import { HOST_CONTAINER_OPTS, HOST_UNIT_CPU_WEIGHT } from "./docker";
import { execLine, renderUnit } from "../../node/systemd";
import { agentEnv, DEFAULT_TIMING, timingForTtl } from "../../fleet/agent/config";
import { watcherCommand } from "../../fleet/agent/watchdog";

const DBUS_SOCKET = "/run/dbus/system_bus_socket";

/**
 * TCP port of the agent's /fleet/v1 API (TLS, client certificates from the lab CA
 * required). 49153 is the port CoreOS's fleet documentation used for its TCP API
 * socket (Documentation/deployment-and-configuration.md: a fleet.socket drop-in with
 * `ListenStream=127.0.0.1:49153`); any free port would do, but the management host and
 * the docs name it. The etcd ports are checked against it (NODE_TCP_PORTS).
 */
export const FLEET_API_PORT = 49153;

/** Whether the agents serve the API on TCP: only the services need it (see below). */
export const servesFleetApi = (spec: LabSpec): boolean => spec.services;

/** The agent's API as the management host reaches it (https, node cert as server). */
export function fleetApiUrl(node: NodeSpec): string {
  return `https://${node.ip}:${FLEET_API_PORT}`;
}

/** Every node's API URL, in node order; empty while the agents do not serve TCP. */
export function fleetApiEndpoints(spec: LabSpec): string[] {
  return servesFleetApi(spec) ? spec.nodes.map(fleetApiUrl) : [];
}

/** The agent's docker command, one group of arguments per line. */
export function fleetAgentCommand(spec: LabSpec, node: NodeSpec): string[][] {
  // Units the agent starts are bound to the agent's own unit: if the agent dies
  // while the machine lives, systemd stops them, since a dead agent cannot fence. A
  // frozen agent is fenced by its watcher (fleetAgentUnit), from the deadline the
  // agent writes to the heartbeat file after each renewal.
  const env = agentEnv({
    ...nodeAgentEnv(spec, node),
    bindsTo: FLEET_AGENT_UNIT,
    heartbeatFile: FLEET_HEARTBEAT_FILE,
    // Only when fleetlab:fleetLeaseTtlSec is not the agent's own default.
    timing:
      spec.fleet.leaseTtlSec === DEFAULT_TIMING.leaseTTL
        ? undefined
        : timingForTtl(spec.fleet.leaseTtlSec),
    // The node's cert is a server and a client cert, so it doubles as the API's server
    // identity; clients must show a cert of the lab CA (the management host uses the
    // PKI's admin cert). Only when fleetlab:services is true, so a lab without services
    // boots exactly as before.
    apiListen: servesFleetApi(spec) ? `${node.ip}:${FLEET_API_PORT}` : undefined,
    rebalance: spec.fleet.rebalance,
  });
  const mounts = [
    `${DBUS_SOCKET}:${DBUS_SOCKET}`,
    `${FLEET_RUN_DIR}:${FLEET_RUN_DIR}`,
    `${TLS_DIR}:${TLS_DIR}:ro`,
    "/etc/machine-id:/etc/machine-id:ro",
  ];
  return [
    [
      "/usr/bin/docker",
      "run",
      "--rm",
      `--name=${FLEET_AGENT_CONTAINER}`,
      "--net=host",
      ...HOST_CONTAINER_OPTS,
    ],
    ...mounts.map((m) => ["-v", m]),
    ...Object.entries(env).map(([k, v]) => ["-e", `${k}=${v}`]),
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
      CPUWeight: HOST_UNIT_CPU_WEIGHT,
      TimeoutStartSec: 0,
      Restart: "always",
      RestartSec: 5,
      ExecStartPre: `-${execLine(["/usr/bin/docker", "rm", "-f", FLEET_AGENT_CONTAINER])}`,
      // The watcher (fleet/agent/watchdog.ts) is the main process: it runs `docker run`
      // of the agent and stops the fleet units if the agent misses its deadline.
      ExecStart: execLine(
        watcherCommand(
          FLEET_WATCHDOG_SCRIPT,
          FLEET_HEARTBEAT_FILE,
          timingForTtl(spec.fleet.leaseTtlSec),
          FLEET_AGENT_UNIT,
          [],
        ),
        ...fleetAgentCommand(spec, node),
      ),
      ExecStop: execLine(["/usr/bin/docker", "stop", FLEET_AGENT_CONTAINER]),
    },
    Install: { WantedBy: "multi-user.target" },
  });
}
