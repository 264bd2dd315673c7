// Dynamic providers for the lab's services: lab data written into etcd (keys
// versioned by content hash) and fleet units submitted through the engine's
// /fleet/v1 API. Thin: the work is in containers/ (validation, encoding, writer)
// and fleet/api/client.ts.
import * as pulumi from "@pulumi/pulumi";
import { Etcd3 } from "etcd3";
import { DataSetName } from "../../labdata/keys";
import { DataPaths, loadDataSet } from "../../labdata/load";
import { deleteDataSet, writeDataSet } from "../../labdata/writer";
import { FleetClient } from "../../fleet/api/client";
import { UnitOption, DesiredState } from "../../fleet/unit/unit";

/** etcd as seen from the management host: client URLs and PEM texts (TLS when given). */
export interface EtcdAccess {
  endpoints: string[];
  caPem?: string;
  certPem?: string;
  keyPem?: string;
}

export interface LabDataInputs {
  set: DataSetName;
  /** The data's paths, or a directory laid out as data/ (read again at apply time). */
  data?: string | DataPaths;
  /** The older form (and state written before `data`): a directory laid out as data/. */
  dataDir?: string;
  /** Content hash computed (and validated) when the program ran: drives the diff. */
  hash: string;
  etcd: EtcdAccess;
}

async function withEtcd<T>(e: EtcdAccess, f: (c: Etcd3) => Promise<T>): Promise<T> {
  const client = new Etcd3({
    hosts: e.endpoints,
    dialTimeout: 5000,
    credentials: e.caPem
      ? {
          rootCertificate: Buffer.from(e.caPem),
          certChain: e.certPem ? Buffer.from(e.certPem) : undefined,
          privateKey: e.keyPem ? Buffer.from(e.keyPem) : undefined,
        }
      : undefined,
  });
  try {
    return await f(client);
  } finally {
    client.close();
  }
}

async function publish(i: LabDataInputs): Promise<void> {
  const source = i.data ?? i.dataDir;
  if (source === undefined) throw new Error(`lab data "${i.set}": no data path in the inputs`);
  const ds = loadDataSet(i.set, source);
  if (ds.manifest.hash !== i.hash) {
    const where = typeof source === "string" ? source : source[i.set];
    throw new Error(
      `lab data "${i.set}" in ${where} changed while pulumi ran (hash ${ds.manifest.hash}, planned ${i.hash}); run pulumi up again`,
    );
  }
  await withEtcd(i.etcd, (c) => writeDataSet(c, ds));
}

export const labDataProvider: pulumi.dynamic.ResourceProvider<LabDataInputs, LabDataInputs> = {
  async create(inputs) {
    await publish(inputs);
    return { id: `labdata-${inputs.set}`, outs: inputs };
  },
  async diff(_id, olds, news) {
    const replaces = olds.set !== news.set ? ["set"] : [];
    const changed = ["set", "hash", "etcd"].filter(
      (k) =>
        JSON.stringify(olds[k as keyof LabDataInputs]) !==
        JSON.stringify(news[k as keyof LabDataInputs]),
    );
    return { changes: changed.length > 0, replaces, deleteBeforeReplace: true };
  },
  async update(_id, _olds, news) {
    await publish(news);
    return { outs: news };
  },
  async delete(_id, olds) {
    await withEtcd(olds.etcd, (c) => deleteDataSet(c, olds.set));
  },
};

/** The admin client cert and the lab CA, as PEM texts. */
export interface FleetApiCredentials {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * The fleet API over TCP: every node's URL, tried in order while they do not answer
 * (fleet/api/client.ts), so a dead node does not stop `pulumi up`/`destroy`. State
 * written before the fallback holds one `url`; it is still read.
 */
export type FleetApiTcpAccess = FleetApiCredentials & ({ urls: string[] } | { url: string });

/** The fleet API as seen from the management host (fleet/api/client.ts targets). */
export type FleetApiAccess = { socket: string } | FleetApiTcpAccess;

/** The URLs of a TCP access, old (`url`) or new (`urls`) shape. */
export const fleetApiUrls = (a: FleetApiTcpAccess): string[] => ("urls" in a ? a.urls : [a.url]);

/** The client for an access: every URL with the admin cert, or the node's socket. */
export function fleetApiClient(a: FleetApiAccess): FleetClient {
  if ("socket" in a) return new FleetClient({ socket: a.socket });
  return new FleetClient({ urls: fleetApiUrls(a), ca: a.caPem, cert: a.certPem, key: a.keyPem });
}

export interface FleetUnitInputs {
  name: string;
  /** The unit file as text: what `pulumi preview` shows a diff of. */
  text: string;
  options: UnitOption[];
  desiredState: DesiredState;
  api: FleetApiAccess;
}

const client = fleetApiClient;

export const fleetUnitProvider: pulumi.dynamic.ResourceProvider<FleetUnitInputs, FleetUnitInputs> =
  {
    async create(inputs) {
      await client(inputs.api).putUnit(inputs.name, inputs.desiredState, inputs.options);
      return { id: inputs.name, outs: inputs };
    },
    async diff(_id, olds, news) {
      // A changed unit file is an in-place update, as fleet v1.0.0's `--replace`: the
      // API replaces the stored options and the unit's agent restarts it with the new
      // file (fleet/README.md); so is a changed desired state. Only a new name replaces.
      // The access (URLs, credentials, old `url` state) is how to reach the engine,
      // not part of the unit: a change there alone is no change of the unit (no
      // update, no replace). delete then uses the access recorded with the unit.
      const replaces = olds.name !== news.name ? ["name"] : [];
      const changes =
        replaces.length > 0 || olds.text !== news.text || olds.desiredState !== news.desiredState;
      return { changes, replaces, deleteBeforeReplace: true };
    },
    async update(_id, _olds, news) {
      await client(news.api).putUnit(news.name, news.desiredState, news.options);
      return { outs: news };
    },
    async delete(_id, olds) {
      await client(olds.api).deleteUnit(olds.name);
    },
  };
