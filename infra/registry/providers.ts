// Dynamic providers of the lab registry (the server processes) and of the lab images
// in it. Thin: the work is in server.ts and client.ts, loaded inside the provider
// host by path (loadImpl), so what Pulumi serializes is these few lines.
import { dynamicProvider, loadImpl, type DiffRules } from "../dynamic";
import type { RegistryAddress } from "./address";

type Server = typeof import("./server");
type Client = typeof import("./client");
type Ref = typeof import("./ref");
// Fixed at program time: the provider host's own __dirname is elsewhere.
const DIR = __dirname;
const server = () => loadImpl<Server>(DIR, "server");
const client = () => loadImpl<Client>(DIR, "client");
const ref = () => loadImpl<Ref>(DIR, "ref");

export interface RegistryServerInputs {
  /** The stack's registry directory (storage, configs, PID files, the push socket). */
  dir: string;
  pull: RegistryAddress;
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** A new directory is a new registry; anything else restarts it in place, storage kept. */
const SERVER_RULES: DiffRules<RegistryServerInputs> = {
  dir: "replace",
  pull: "update",
  caPem: "update",
  certPem: "update",
  keyPem: "update",
};

const ensure = (i: RegistryServerInputs) => server().ensureRegistry(i);

export const registryServerProvider = dynamicProvider<RegistryServerInputs, object>({
  rules: SERVER_RULES,
  deleteBeforeReplace: true,
  idOf: (i) => i.dir,
  create: async (i) => {
    await ensure(i);
    return {};
  },
  update: (_olds, news) => ensure(news),
  // A registry that is not running (the host rebooted, someone killed it) is started
  // again by the next `up`, and `preview` shows it as an update.
  drifted: async (olds) =>
    server().registryRunning(olds.dir)
      ? undefined
      : `the lab registry in ${olds.dir} is not running`,
  delete: (olds) => server().stopRegistry(olds.dir),
});

export interface LabImageInputs {
  name: string;
  /** The image on this host's docker (its tag) and its ID, which drives the diff. */
  image: string;
  imageId: string;
  /** The registry's push socket and the pull side's host:port, which nodes pull from. */
  socket: string;
  registry: string;
  /** The layer cache beside the registry's storage (client.ts). */
  cacheFile: string;
}

export interface LabImageState {
  digest: string;
  /** <registry>/fleetlab/<name>@<digest>: what units and Ignition name. */
  ref: string;
  /** Compressed bytes a node with none of the image pulls. */
  bytes: number;
}

const IMAGE_RULES: DiffRules<LabImageInputs> = {
  name: "replace",
  image: "update",
  imageId: "update",
  socket: "update",
  registry: "update",
  cacheFile: "ignore",
};

async function push(i: LabImageInputs): Promise<LabImageState> {
  const r = await client().pushImage({
    socket: i.socket,
    image: i.image,
    name: i.name,
    tag: i.imageId.replace(/^sha256:/, "").slice(0, 16),
    cacheFile: i.cacheFile,
  });
  return {
    digest: r.digest,
    ref: ref().imageRef({ registry: i.registry, name: i.name, digest: r.digest }),
    bytes: r.bytes,
  };
}

export const labImageProvider = dynamicProvider<LabImageInputs, LabImageState>({
  rules: IMAGE_RULES,
  deleteBeforeReplace: false,
  idOf: (i, s) => `${i.name}@${s.digest}`,
  create: push,
  recreate: (_olds, news) => push(news),
  // An image the registry lost (its storage removed, a new registry) is pushed again.
  drifted: async (olds) => {
    try {
      return (await client().hasManifest({ socket: olds.socket }, olds.name, olds.digest))
        ? undefined
        : `${olds.name}@${olds.digest} is not in the lab registry`;
    } catch (e) {
      return `the lab registry does not answer: ${(e as Error).message}`;
    }
  },
});
