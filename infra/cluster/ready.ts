// "The lab's fleet engine answers": a VM counts as created once it boots (SSH), but
// etcd and the fleet agents come up later. The services write into etcd and submit
// units through the agents' API, so they wait here until the API answers and every
// node's agent has registered its machine (which also proves etcd works).
import * as pulumi from "@pulumi/pulumi";
import { dynamicProvider, resourceClass, UNTYPED_DYNAMIC, type DiffRules } from "../dynamic";
import { Deadline } from "../hypervisors/common/deadline";
import { readinessTimeoutSec } from "../hypervisors/common/readiness";
import { fleetApiClient, FleetApiTcpAccess } from "../services/providers";
import { jumpSpec } from "../reach/hop";
import {
  inspectNodes,
  journalAccessFromEnv,
  registryAnswers,
  type JournalAccess,
  type NodeReport,
} from "./diagnose";
import { PULL_CAUSE_IN_SHORT } from "./pulls";

export interface FleetReadyInputs {
  /** Every node's API URL, tried in order while they do not answer. */
  api: FleetApiTcpAccess;
  /** Public IPs every agent reports (fleet's primaryIP): the lab's node IPs. */
  nodeIps: string[];
  /** The VMs' identities: a replaced VM makes the wait run again. */
  machineIds: string[];
  /** etcd client URL per node IP (members only), for the error that ends a failed wait. */
  etcdUrls?: Record<string, string>;
  timeoutMs: number;
  pollMs: number;
  /**
   * On giving up, read each node's journal over SSH: true for the program's own access
   * (journalAccessFromEnv), or the access to use (tests: an ssh test double).
   */
  readJournals?: boolean | JournalAccess;
  /**
   * The lab registry the nodes pull the agent's image from, and the lab CA: on giving
   * up, the management host asks it once, and a node whose journal shows it cannot pull
   * from it is named with the cause and the fix.
   */
  registry?: LabRegistryAccess;
}

/** The lab registry as the nodes reach it (host:port), with the CA its certificate is of. */
export interface LabRegistryAccess {
  hostPort: string;
  caPem?: string;
}

/**
 * A new node set or a replaced VM makes the wait run again. Not the access: new URLs or
 * credentials do not make the engine any less ready; nor how long to wait.
 */
const FLEET_READY_RULES: DiffRules<FleetReadyInputs> = {
  api: "ignore",
  nodeIps: "update",
  machineIds: "update",
  etcdUrls: "ignore",
  timeoutMs: "ignore",
  pollMs: "ignore",
  readJournals: "ignore",
  // Where to look when the wait fails; the engine is no less ready for a new address.
  registry: "ignore",
};

/** Bounded poll of GET /machines until every node IP is there; a clear error if not. */
export async function waitForFleet(i: FleetReadyInputs): Promise<string[]> {
  // One client for the whole wait: it keeps asking the node that answered last.
  const client = await fleetApiClient(i.api);
  let seen: string[] = [];
  let lastError = "";
  const all = await new Deadline(i.timeoutMs).poll(async () => {
    try {
      seen = (await client.listMachines()).map((m) => m.primaryIP).sort();
      lastError = "";
      return i.nodeIps.every((ip) => seen.includes(ip)) ? seen : undefined;
    } catch (err) {
      lastError = (err as Error).message;
      return undefined;
    }
  }, i.pollMs);
  if (all !== undefined) return all;
  const missing = i.nodeIps.filter((ip) => !seen.includes(ip));
  const reg = i.registry;
  const [nodes, probe] = await Promise.all([
    inspectNodes(
      i.nodeIps.map((ip) => ({ ip, etcdUrl: i.etcdUrls?.[ip] })),
      seen,
      i.api,
      i.readJournals === true
        ? {
            ...journalAccessFromEnv(),
            // Nodes behind a remote hypervisor host: ssh jumps through it (the user's ssh config).
            ...(i.api.via && { via: jumpSpec(i.api.via) }),
          }
        : i.readJournals || undefined,
      reg?.hostPort,
    ),
    reg?.caPem ? registryAnswers({ hostPort: reg.hostPort, caPem: reg.caPem }) : undefined,
  ]);
  const reason = lastError
    ? `${lastError}`
    : `no agent registered for ${missing.join(", ")} at ${client.endpoint}`;
  const pulls = reg ? pullHeadline(nodes, reg.hostPort) : undefined;
  throw new Error(
    `the lab's fleet engine is not ready after ${Math.round(i.timeoutMs / 1000)} s: ` +
      (pulls ? `${pulls}\n${reason}` : reason) +
      (probe ? `\n${probe.text}` : "") +
      `\nwhat each node shows:\n${nodes.map((n) => n.text).join("\n")}\n` +
      "an unhealthy etcd member: journalctl -u etcd-member.service on that node; an agent not registered beside a healthy member: journalctl -u fleet-agent.service; then run pulumi up again (it waits again)",
  );
}

/**
 * The nodes that cannot pull from the lab registry, and why in short, for the first
 * line of the error; undefined when none can be seen to fail.
 */
export function pullHeadline(nodes: NodeReport[], hostPort: string): string | undefined {
  const failing = nodes.filter((n) => n.pulls.length > 0);
  if (failing.length === 0) return undefined;
  const why = failing.map((n) => PULL_CAUSE_IN_SHORT[n.pulls[0].cause]);
  const same = why.every((w) => w === why[0]);
  const who = failing.map((n, k) => (same ? n.ip : `${n.ip} (${why[k]})`)).join(", ");
  return (
    `${failing.length === 1 ? "node" : "nodes"} ${who} cannot pull from the lab registry ${hostPort}` +
    (same ? ` (${why[0]})` : "")
  );
}

export const fleetReadyProvider = dynamicProvider<FleetReadyInputs, object>({
  rules: FLEET_READY_RULES,
  deleteBeforeReplace: false,
  idOf: () => "fleet-ready",
  create: async (i) => {
    await waitForFleet(i);
    return {};
  },
  update: (_olds, news) => waitForFleet(news),
});

/**
 * The wait's bound: the same as the VMs' readiness bound (FLEETLAB_READINESS_TIMEOUT_SEC,
 * default 900 s), since both are "this host boots and starts a node" and both must grow
 * together on a slow or busy host.
 */
export const fleetReadyTimeoutMs = (): number => readinessTimeoutSec() * 1000;
export const FLEET_READY_POLL_MS = 5_000;

export class FleetReady extends resourceClass<FleetReadyInputs>({
  module: "cluster",
  type: "FleetReady",
  provider: fleetReadyProvider,
  // The access holds the admin key.
  secretOutputs: ["api"],
  formerTypes: [UNTYPED_DYNAMIC],
}) {
  constructor(
    name: string,
    args: {
      api: pulumi.Input<FleetApiTcpAccess>;
      nodeIps: string[];
      machineIds: pulumi.Input<string>[];
      etcdUrls?: Record<string, string>;
      registry?: pulumi.Input<LabRegistryAccess>;
    },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      name,
      {
        ...args,
        timeoutMs: fleetReadyTimeoutMs(),
        pollMs: FLEET_READY_POLL_MS,
        readJournals: true,
      },
      opts,
    );
  }
}
