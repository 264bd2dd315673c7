// Thin Pulumi dynamic providers: each method loads node.ts or shared.ts and calls one
// function. The diff rules live here, one table per resource.
import * as pulumi from "@pulumi/pulumi";
import { dynamicProvider, implLoader, resourceClasses } from "../../dynamic";
import type { DiffRules, Inputs } from "../../dynamic";
import { vmProvider, type VmProps } from "../common/vm";
import type { NodeProps, NodeState } from "./node";
import type { BaseImageProps, BaseImageState } from "./shared";

/**
 * A VM is replaced only when what it is made of changes: its Ignition (by hash), its
 * shape, disk base, address or network. Lab data and fleet units are not inputs here at
 * all, so they can never replace a VM; headless and the readiness bound only matter at
 * create time and update in place.
 */
export const NODE_RULES: DiffRules<VmProps<NodeProps>> = {
  vboxManage: "replace",
  name: "replace",
  baseFolder: "replace",
  hostOnlyInterface: "replace",
  gateway: "replace",
  cpus: "replace",
  memoryMiB: "replace",
  diskMiB: "replace",
  basePath: "replace",
  mac: "replace",
  ip: "replace",
  ignitionHash: "replace",
  ignition: "ignore",
  headless: "update",
  readinessTimeoutSec: "update",
};

/**
 * The base image is its source: a new source means a new image. Its id is the image's
 * path on this host; the old one need not go first, nothing of it is named in VirtualBox.
 */
const BASE_IMAGE_RULES: DiffRules<BaseImageProps> = { source: "replace" };

// The providers below load this driver's operations in the provider host (see implLoader).
const impl = implLoader<typeof import("./node"), typeof import("./shared")>(__dirname);

const nodeProvider = vmProvider<NodeProps, NodeState>(NODE_RULES, {
  create: (i) => impl("node").createNode(i),
  delete: (o) => impl("node").deleteNode(o),
});

const baseImageProvider = dynamicProvider<BaseImageProps, BaseImageState>({
  rules: BASE_IMAGE_RULES,
  deleteBeforeReplace: false,
  idOf: (_inputs, state) => state.path,
  create: (i) => impl("shared").createBaseImage(i),
  delete: () => impl("shared").deleteBaseImage(),
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
