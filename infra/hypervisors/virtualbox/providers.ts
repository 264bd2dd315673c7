// Thin Pulumi dynamic providers: each method loads node.ts or shared.ts and calls one
// function. Replacement rules live here, in NODE_REPLACE_KEYS.
import * as pulumi from "@pulumi/pulumi";
import type { Inputs, Props, VmProps } from "../common/dynamic";
import { implLoader, replaceOnlyProvider, vmDiff, vmProvider } from "../common/dynamic";
import { resourceClasses } from "../common/resource";
import type { NodeProps } from "./node";
import type { BaseImageProps } from "./shared";

/**
 * A VM is replaced only when what it is made of changes: its Ignition (by hash), its
 * shape, disk base, address or network. Lab data and fleet units are not inputs here at
 * all, so they can never replace a VM; headless and the readiness bound only matter at
 * create time and update in place.
 */
export const NODE_REPLACE_KEYS = [
  "vboxManage",
  "name",
  "baseFolder",
  "hostOnlyInterface",
  "gateway",
  "cpus",
  "memoryMiB",
  "diskMiB",
  "basePath",
  "mac",
  "ip",
  "ignitionHash",
] as const;
const NODE_UPDATE_KEYS = ["headless", "readinessTimeoutSec"];

/** The diff rule, pure so it is tested without the engine. */
export function nodeDiff(olds: Props, news: Props): pulumi.dynamic.DiffResult {
  return vmDiff(olds, news, NODE_REPLACE_KEYS, NODE_UPDATE_KEYS);
}

// The providers below load this driver's operations in the provider host (see implLoader).
const impl = implLoader<typeof import("./node"), typeof import("./shared")>(__dirname);
const nodeProvider = vmProvider(
  (i) => impl("node").createNode(i as never),
  (o) => impl("node").deleteNode(o as never),
  NODE_REPLACE_KEYS,
  NODE_UPDATE_KEYS,
);

/**
 * The base image is its source: a new source means a new image. Its id is the image's
 * path on this host; the old one need not go first, nothing of it is named in VirtualBox.
 */
const baseImageProvider: pulumi.dynamic.ResourceProvider = replaceOnlyProvider({
  keys: ["source"],
  idOf: (_inputs, state) => state.path,
  createFn: (i) => impl("shared").createBaseImage(i as never),
  deleteFn: () => impl("shared").deleteBaseImage(),
  deleteBeforeReplace: false,
});

// Each class names the outputs its provider adds at create and declares their types.
const resource = resourceClasses("virtualbox");

export class VirtualBoxBaseImage extends resource<BaseImageProps>("BaseImage", baseImageProvider, [
  "path",
]) {
  declare readonly path: pulumi.Output<string>;
}

export type NodeResourceProps = Inputs<VmProps<NodeProps>>;

export class VirtualBoxNode extends resource<VmProps<NodeProps>>("Node", nodeProvider, [
  "vmUuid",
  "readyAfterMs",
]) {
  declare readonly vmUuid: pulumi.Output<string>;
  declare readonly readyAfterMs: pulumi.Output<number>;
}
