// Dynamic providers for the lab's services: lab data written into etcd (keys
// versioned by content hash) and fleet units submitted through the engine's
// /fleet/v1 API. Thin: the work is in containers/ (validation, encoding, writer)
// and fleet/api/client.ts.
import { Etcd3 } from "etcd3";
import { DataSetName } from "../../labdata/keys";
import { DataPaths, loadDataSet } from "../../labdata/load";
import { deleteDataSet, writeDataSet } from "../../labdata/writer";
import { FleetClient } from "../../fleet/api/client";
import { UnitOption, DesiredState } from "../../fleet/unit/unit";
import { dynamicProvider, type DiffRules } from "../dynamic";
import { reachUrls, type SshHop } from "../reach";

/** etcd as seen from the management host: client URLs and PEM texts (TLS when given). */
export interface EtcdAccess {
  endpoints: string[];
  /** The hypervisor host's SSH, when the nodes are behind it (infra/reach). */
  via?: SshHop;
  caPem?: string;
  certPem?: string;
  keyPem?: string;
}

export interface LabDataInputs {
  set: DataSetName;
  /** The data's paths, or a directory laid out as data/ (read again at apply time). */
  data: string | DataPaths;
  /** Content hash computed (and validated) when the program ran: drives the diff. */
  hash: string;
  etcd: EtcdAccess;
}

/**
 * A new set is a new resource; new content (its hash) or a new etcd is written in place.
 * Where the data lies is no change: its hash stands for what is there.
 */
const LAB_DATA_RULES: DiffRules<LabDataInputs> = {
  set: "replace",
  data: "ignore",
  hash: "update",
  etcd: "update",
};

/** A client of etcd as the access says (TLS with the admin cert when it has one). */
export async function etcdClient(e: EtcdAccess): Promise<Etcd3> {
  return new Etcd3({
    hosts: await reachUrls(e.via, e.endpoints),
    dialTimeout: 5000,
    credentials: e.caPem
      ? {
          rootCertificate: Buffer.from(e.caPem),
          certChain: e.certPem ? Buffer.from(e.certPem) : undefined,
          privateKey: e.keyPem ? Buffer.from(e.keyPem) : undefined,
        }
      : undefined,
  });
}

async function withEtcd<T>(e: EtcdAccess, f: (c: Etcd3) => Promise<T>): Promise<T> {
  const client = await etcdClient(e);
  try {
    return await f(client);
  } finally {
    client.close();
  }
}

async function publish(i: LabDataInputs): Promise<void> {
  const ds = loadDataSet(i.set, i.data);
  if (ds.manifest.hash !== i.hash) {
    const where = typeof i.data === "string" ? i.data : i.data[i.set];
    throw new Error(
      `lab data "${i.set}" in ${where} changed while pulumi ran (hash ${ds.manifest.hash}, planned ${i.hash}); run pulumi up again`,
    );
  }
  await withEtcd(i.etcd, (c) => writeDataSet(c, ds));
}

export const labDataProvider = dynamicProvider<LabDataInputs, object>({
  rules: LAB_DATA_RULES,
  deleteBeforeReplace: true,
  idOf: (i) => `labdata-${i.set}`,
  create: async (i) => {
    await publish(i);
    return {};
  },
  update: (_olds, news) => publish(news),
  delete: (olds) => withEtcd(olds.etcd, (c) => deleteDataSet(c, olds.set)),
});

/** The admin client cert and the lab CA, as PEM texts. */
export interface FleetApiCredentials {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * The fleet API over TCP: every node's URL, tried in order while they do not answer
 * (fleet/api/client.ts), so a dead node does not stop `pulumi up`/`destroy`.
 */
export type FleetApiTcpAccess = FleetApiCredentials & {
  urls: string[];
  /** The hypervisor host's SSH, when the nodes are behind it (infra/reach). */
  via?: SshHop;
};

/** The fleet API as seen from the management host (fleet/api/client.ts targets). */
export type FleetApiAccess = { socket: string } | FleetApiTcpAccess;

/** The client for an access: every URL with the admin cert, or the node's socket. */
export async function fleetApiClient(a: FleetApiAccess): Promise<FleetClient> {
  if ("socket" in a) return new FleetClient({ socket: a.socket });
  const urls = await reachUrls(a.via, a.urls);
  return new FleetClient({ urls, ca: a.caPem, cert: a.certPem, key: a.keyPem });
}

export interface FleetUnitInputs {
  name: string;
  /** The unit file as text: what `pulumi preview` shows a diff of. */
  text: string;
  options: UnitOption[];
  desiredState: DesiredState;
  api: FleetApiAccess;
}

/**
 * A changed unit file is an in-place update, as fleet v1.0.0's `--replace`: the API
 * replaces the stored options and the unit's agent restarts it with the new file
 * (fleet/README.md); so is a changed desired state. Only a new name replaces. The
 * options are the file parsed; the access (URLs, credentials) is how to reach the
 * engine, not part of the unit, and delete uses the access recorded with the unit.
 */
const FLEET_UNIT_RULES: DiffRules<FleetUnitInputs> = {
  name: "replace",
  text: "update",
  options: "ignore",
  desiredState: "update",
  api: "ignore",
};

const submit = async (u: FleetUnitInputs) =>
  (await fleetApiClient(u.api)).putUnit(u.name, u.desiredState, u.options);

export const fleetUnitProvider = dynamicProvider<FleetUnitInputs, object>({
  rules: FLEET_UNIT_RULES,
  deleteBeforeReplace: true,
  idOf: (u) => u.name,
  create: async (u) => {
    await submit(u);
    return {};
  },
  update: (_olds, news) => submit(news),
  delete: async (olds) => (await fleetApiClient(olds.api)).deleteUnit(olds.name),
});
