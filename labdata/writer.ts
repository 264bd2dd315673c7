// Writes an encoded data set into etcd: chunks first (one request each: etcd caps a
// request at ~1.5 MiB, so they cannot share a transaction), then the manifest, then
// `current`, so a watcher only ever sees complete blobs. Blob keys are named by
// hash, so a write cut short leaves nothing a reader would use. Old blobs are
// deleted afterwards; an unchanged set writes nothing.
import { Etcd3 } from "etcd3";
import { dataKeys, EncodedDataSet } from "./keys";

export async function writeDataSet(
  client: Etcd3,
  ds: EncodedDataSet,
): Promise<{ changed: boolean }> {
  const k = dataKeys(ds.set);
  const hash = ds.manifest.hash;
  if ((await client.get(k.current).string()) === hash) return { changed: false };
  for (let i = 0; i < ds.chunks.length; i++) await client.put(k.chunk(hash, i)).value(ds.chunks[i]);
  await client.put(k.manifest(hash)).value(JSON.stringify(ds.manifest));
  await client.put(k.current).value(hash);
  await deleteOtherBlobs(client, ds.set, hash);
  return { changed: true };
}

/** Removes every blob of `set` except `keep` (all of them when keep is undefined). */
export async function deleteOtherBlobs(client: Etcd3, set: string, keep?: string): Promise<void> {
  const k = dataKeys(set);
  const keys = await client
    .getAll()
    .prefix(k.blobsPrefix)
    .keys()
    .then((ks) => ks.map(String));
  for (const key of keys) {
    const hash = key.slice(k.blobsPrefix.length).split("/")[0];
    if (hash !== keep) await client.delete().key(key);
  }
}

/** Removes a data set entirely (Pulumi destroy). */
export async function deleteDataSet(client: Etcd3, set: string): Promise<void> {
  await client.delete().prefix(dataKeys(set).prefix);
}
