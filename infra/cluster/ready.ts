// "The lab's fleet engine answers": a VM counts as created once it boots (SSH), but
// etcd and the fleet agents come up later. The services write into etcd and submit
// units through the agents' API, so they wait here until the API answers and every
// node's agent has registered its machine (which also proves etcd works).
import * as pulumi from "@pulumi/pulumi";
import { dynamicProvider, resourceClass, UNTYPED_DYNAMIC, type DiffRules } from "../dynamic";
import { Deadline } from "../hypervisors/common/deadline";
import { readinessTimeoutSec } from "../hypervisors/common/readiness";
import { fleetApiClient, FleetApiTcpAccess } from "../services/providers";
import { describeNodes, journalAccessFromEnv } from "./diagnose";

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
  /** On giving up, read each node's journal over SSH (the program; not unit tests). */
  readJournals?: boolean;
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
};

/** Bounded poll of GET /machines until every node IP is there; a clear error if not. */
export async function waitForFleet(i: FleetReadyInputs): Promise<string[]> {
  // One client for the whole wait: it keeps asking the node that answered last.
  const client = fleetApiClient(i.api);
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
  const nodes = await describeNodes(
    i.nodeIps.map((ip) => ({ ip, etcdUrl: i.etcdUrls?.[ip] })),
    seen,
    i.api,
    i.readJournals ? journalAccessFromEnv() : undefined,
  );
  throw new Error(
    `the lab's fleet engine is not ready after ${Math.round(i.timeoutMs / 1000)} s: ` +
      (lastError
        ? `${lastError}`
        : `no agent registered for ${missing.join(", ")} at ${client.endpoint}`) +
      `\nwhat each node shows:\n${nodes}\n` +
      "an unhealthy etcd member: journalctl -u etcd-member.service on that node; an agent not registered beside a healthy member: journalctl -u fleet-agent.service; then run pulumi up again (it waits again)",
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
