// Thin Pulumi dynamic providers: each method loads the matching module (node.ts,
// shared.ts) and calls one function. Replacement rules live here: NODE_REPLACE_KEYS, replaceAll.
import * as pulumi from "@pulumi/pulumi";
import { changedKeys, loadImpl, vmProvider } from "../common/dynamic";

const IMPL_DIR = __dirname;
const impl = <T>(mod: "node" | "shared"): T => loadImpl<T>(IMPL_DIR, mod);

type Shared = typeof import("./shared");
type NodeOps = typeof import("./node");
type Props = Record<string, unknown>;

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
const nodeProvider = vmProvider(
  (i) => impl<NodeOps>("node").createNode(i as never),
  (o) => impl<NodeOps>("node").deleteNode(o as never, o),
  NODE_REPLACE_KEYS,
  ["readinessTimeoutSec"],
);

/** Providers whose every input change means a new object (pool, network, base image). */
function replaceAll(
  keys: readonly string[],
  // Not named `create`/`delete`: Pulumi serializes each method as a function of that
  // name, which would shadow a captured variable of the same name.
  createFn: (i: Props) => Promise<Props>,
  deleteFn: (o: Props) => void,
): pulumi.dynamic.ResourceProvider {
  return {
    async create(inputs: Props) {
      const outs = await createFn(inputs);
      return { id: String(inputs.name ?? inputs.volume), outs: { ...inputs, ...outs } };
    },
    async diff(_id: string, olds: Props, news: Props) {
      const replaces = changedKeys(olds, news, keys);
      return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
    },
    async delete(_id: string, olds: Props) {
      deleteFn(olds);
    },
  };
}

const poolProvider = replaceAll(
  ["uri", "name", "path"],
  (i) => impl<Shared>("shared").createPool(i as never),
  (o) => impl<Shared>("shared").deletePool(o as never),
);
const networkProvider = replaceAll(
  ["uri", "name", "mode", "gateway", "netmask"],
  (i) => impl<Shared>("shared").createNetwork(i as never),
  (o) => impl<Shared>("shared").deleteNetwork(o as never),
);
const baseImageProvider = replaceAll(
  ["uri", "pool", "volume", "source"],
  async (i) => ({ ...(await impl<Shared>("shared").createBaseImage(i as never)) }),
  (o) => impl<Shared>("shared").deleteBaseImage(o as never, o),
);

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };

export class LibvirtPool extends pulumi.dynamic.Resource {
  constructor(
    name: string,
    props: In<import("./shared").PoolProps>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(poolProvider, name, props, opts, "libvirt", "Pool");
  }
}

export class LibvirtNetwork extends pulumi.dynamic.Resource {
  declare readonly bridge: pulumi.Output<string>;
  constructor(
    name: string,
    props: In<import("./shared").NetworkProps>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(networkProvider, name, { ...props, bridge: undefined }, opts, "libvirt", "Network");
  }
}

export class LibvirtBaseImage extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  declare readonly format: pulumi.Output<"qcow2" | "raw">;
  declare readonly capacityBytes: pulumi.Output<number>;
  constructor(
    name: string,
    props: In<import("./shared").BaseImageProps>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      baseImageProvider,
      name,
      { ...props, path: undefined, format: undefined, capacityBytes: undefined },
      opts,
      "libvirt",
      "BaseImage",
    );
  }
}

export type NodeResourceProps = In<import("./node").NodeProps> & {
  ignitionHash: pulumi.Input<string>;
};

export class LibvirtNode extends pulumi.dynamic.Resource {
  declare readonly domainUuid: pulumi.Output<string>;
  declare readonly actualDomainType: pulumi.Output<string>;
  declare readonly readyAfterMs: pulumi.Output<number>;
  constructor(name: string, props: NodeResourceProps, opts?: pulumi.CustomResourceOptions) {
    super(
      nodeProvider,
      name,
      { ...props, domainUuid: undefined, actualDomainType: undefined, readyAfterMs: undefined },
      opts,
      "libvirt",
      "Node",
    );
  }
}
