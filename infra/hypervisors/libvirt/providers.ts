// Thin Pulumi dynamic providers: each method loads the matching module (node.ts,
// shared.ts) and calls one function. Replacement rules live here: NODE_REPLACE_KEYS, replaceAll.
import * as pulumi from "@pulumi/pulumi";
import type { Inputs, Props, VmProps } from "../common/dynamic";
import { implLoader, replaceOnlyProvider, vmProvider } from "../common/dynamic";
import { resourceClasses } from "../common/resource";
import type { NodeProps } from "./node";
import type { BaseImageProps, NetworkProps, PoolProps } from "./shared";

/**
 * A node is replaced only when what the VM is made of changes: its Ignition (by hash),
 * its shape, disk base, address or attachment. Lab data and fleet units are not inputs
 * here at all, so they can never replace a VM.
 */
export const NODE_REPLACE_KEYS = [
  "uri",
  "pool",
  "name",
  "domainType",
  "vcpus",
  "memoryMiB",
  "diskBytes",
  "base",
  "mac",
  "ip",
  "attach",
  "fwCfgKey",
  "ignitionHash",
  "directKernelBoot",
] as const;

// The providers below load this driver's operations in the provider host (see implLoader).
const impl = implLoader<typeof import("./node"), typeof import("./shared")>(__dirname);
const nodeProvider = vmProvider(
  (i) => impl("node").createNode(i as never),
  (o) => impl("node").deleteNode(o as never, o),
  NODE_REPLACE_KEYS,
  ["readinessTimeoutSec"],
);

/**
 * Providers whose every input change means a new object (pool, network, base image).
 * The old one goes first: the new one takes the same name (or volume) in libvirt, which
 * is also its id.
 */
function replaceAll<S extends object>(
  keys: readonly string[],
  createFn: (i: Props) => Promise<S>,
  deleteFn: (o: Props) => void,
): pulumi.dynamic.ResourceProvider {
  return replaceOnlyProvider({
    keys,
    idOf: (inputs) => String(inputs.name ?? inputs.volume),
    createFn,
    deleteFn,
    deleteBeforeReplace: true,
  });
}

const poolProvider = replaceAll(
  ["uri", "name", "path"],
  (i) => impl("shared").createPool(i as never),
  (o) => impl("shared").deletePool(o as never),
);
const networkProvider = replaceAll(
  ["uri", "name", "mode", "gateway", "netmask"],
  (i) => impl("shared").createNetwork(i as never),
  (o) => impl("shared").deleteNetwork(o as never),
);
const baseImageProvider = replaceAll(
  ["uri", "pool", "volume", "source"],
  (i) => impl("shared").createBaseImage(i as never),
  (o) => impl("shared").deleteBaseImage(o as never, o),
);

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
