// Thin Pulumi dynamic providers: each method loads node.ts or shared.ts and calls one
// function. Replacement rules live here, in NODE_REPLACE_KEYS.
import * as pulumi from "@pulumi/pulumi";
import { changedKeys, loadImpl, vmDiff, vmProvider } from "../common/dynamic";

const IMPL_DIR = __dirname;
const impl = <T>(mod: "node" | "shared"): T => loadImpl<T>(IMPL_DIR, mod);

type Shared = typeof import("./shared");
type NodeOps = typeof import("./node");
type Props = Record<string, unknown>;

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

const nodeProvider = vmProvider(
  (i) => impl<NodeOps>("node").createNode(i as never),
  (o) => impl<NodeOps>("node").deleteNode(o as never),
  NODE_REPLACE_KEYS,
  NODE_UPDATE_KEYS,
);

const baseImageProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: Props) {
    const state = await impl<Shared>("shared").createBaseImage(inputs as never);
    return { id: state.path, outs: { ...inputs, ...state } };
  },
  async diff(_id: string, olds: Props, news: Props) {
    const replaces = changedKeys(olds, news, ["source"]);
    return { changes: replaces.length > 0, replaces };
  },
  async delete() {
    impl<Shared>("shared").deleteBaseImage();
  },
};

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };

export class VirtualBoxBaseImage extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  constructor(
    name: string,
    props: In<import("./shared").BaseImageProps>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(baseImageProvider, name, { ...props, path: undefined }, opts, "virtualbox", "BaseImage");
  }
}

export type NodeResourceProps = In<import("./node").NodeProps> & {
  ignitionHash: pulumi.Input<string>;
};

export class VirtualBoxNode extends pulumi.dynamic.Resource {
  declare readonly vmUuid: pulumi.Output<string>;
  declare readonly readyAfterMs: pulumi.Output<number>;
  constructor(name: string, props: NodeResourceProps, opts?: pulumi.CustomResourceOptions) {
    super(
      nodeProvider,
      name,
      { ...props, vmUuid: undefined, readyAfterMs: undefined },
      opts,
      "virtualbox",
      "Node",
    );
  }
}
