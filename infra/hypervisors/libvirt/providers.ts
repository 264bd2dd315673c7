// Thin Pulumi dynamic providers: each method loads the matching module (node.ts,
// shared.ts) and calls one function. The diff rules live here, one table per resource.
import * as pulumi from "@pulumi/pulumi";
import { dynamicProvider, implLoader, resourceClasses } from "../../dynamic";
import type { DiffRules, Inputs } from "../../dynamic";
import { vmProvider, type VmProps } from "../common/vm";
import type { NodeProps, NodeState } from "./node";
import type { BaseImageProps, BaseImageState, NetworkProps, PoolProps } from "./shared";

/**
 * A node is replaced only when what the VM is made of changes: its Ignition (by hash),
 * its shape, disk base, address or attachment. Lab data and fleet units are not inputs
 * here at all, so they can never replace a VM. The readiness bound only matters at
 * create time.
 */
export const NODE_RULES: DiffRules<VmProps<NodeProps>> = {
  uri: "replace",
  pool: "replace",
  name: "replace",
  domainType: "replace",
  vcpus: "replace",
  memoryMiB: "replace",
  diskBytes: "replace",
  base: "replace",
  mac: "replace",
  ip: "replace",
  attach: "replace",
  fwCfgKey: "replace",
  ignitionHash: "replace",
  ignition: "ignore",
  directKernelBoot: "replace",
  readinessTimeoutSec: "update",
};

// Pool, network and base image: every input change means a new object, and the old one
// goes first: the new one takes the same name (or volume) in libvirt, which is its id.
const POOL_RULES: DiffRules<PoolProps> = { uri: "replace", name: "replace", path: "replace" };
const NETWORK_RULES: DiffRules<NetworkProps> = {
  uri: "replace",
  name: "replace",
  mode: "replace",
  gateway: "replace",
  netmask: "replace",
};
const BASE_IMAGE_RULES: DiffRules<BaseImageProps> = {
  uri: "replace",
  pool: "replace",
  volume: "replace",
  source: "replace",
};

// The providers below load this driver's operations in the provider host (see implLoader).
const impl = implLoader<typeof import("./node"), typeof import("./shared")>(__dirname);

const nodeProvider = vmProvider<NodeProps, NodeState>(NODE_RULES, {
  create: (i) => impl("node").createNode(i),
  delete: (o) => impl("node").deleteNode(o, o),
});

/** Pool and network: their id is their name, which the new one takes (the old one goes first). */
const namedObject = <P extends { name: string }, S extends object>(
  rules: DiffRules<P>,
  create: (i: P) => Promise<S>,
  remove: (o: P) => void,
) =>
  dynamicProvider<P, S>({
    rules,
    deleteBeforeReplace: true,
    idOf: (i) => i.name,
    create,
    delete: remove,
  });

const poolProvider = namedObject(
  POOL_RULES,
  (i) => impl("shared").createPool(i),
  (o) => impl("shared").deletePool(o),
);
const networkProvider = namedObject(
  NETWORK_RULES,
  (i) => impl("shared").createNetwork(i),
  (o) => impl("shared").deleteNetwork(o),
);
const baseImageProvider = dynamicProvider<BaseImageProps, BaseImageState>({
  rules: BASE_IMAGE_RULES,
  deleteBeforeReplace: true,
  idOf: (i) => i.volume,
  create: (i) => impl("shared").createBaseImage(i),
  delete: (o) => impl("shared").deleteBaseImage(o, o),
});

// Each class names the outputs its provider adds at create and declares their types.
const resource = resourceClasses("libvirt");

export class LibvirtPool extends resource<PoolProps>("Pool", poolProvider) {}

export class LibvirtNetwork extends resource<NetworkProps>("Network", networkProvider, ["bridge"]) {
  declare readonly bridge: pulumi.Output<string>;
}

export class LibvirtBaseImage extends resource<BaseImageProps>("BaseImage", baseImageProvider, [
  "path",
  "format",
  "capacityBytes",
]) {
  declare readonly path: pulumi.Output<string>;
  declare readonly format: pulumi.Output<"qcow2" | "raw">;
  declare readonly capacityBytes: pulumi.Output<number>;
}

export type NodeResourceProps = Inputs<VmProps<NodeProps>>;

export class LibvirtNode extends resource<VmProps<NodeProps>>("Node", nodeProvider, [
  "domainUuid",
  "actualDomainType",
  "readyAfterMs",
]) {
  declare readonly domainUuid: pulumi.Output<string>;
  declare readonly actualDomainType: pulumi.Output<string>;
  declare readonly readyAfterMs: pulumi.Output<number>;
}
