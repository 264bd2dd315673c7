// The sidekick loop: read the data set's `current` hash from etcd, fetch and check
// the blob, apply it, then watch `current` and apply every new hash. Apply errors
// are logged and retried on the next change or after a back-off, never fatal: a
// bad blob must not take the service down, the last good config keeps serving.
import { Etcd3, Watcher } from "etcd3";
import { dataKeys, decodeChunks, Manifest } from "../../labdata/keys";
import { ApplyContext, Applier } from "./appliers";

/** Fetches and verifies the payload of one blob. */
export async function fetchBlob(client: Etcd3, set: string, hash: string): Promise<string> {
  const k = dataKeys(set);
  const manifestText = await client.get(k.manifest(hash)).string();
  if (manifestText === null) throw new Error(`${k.manifest(hash)} is missing; re-run pulumi up`);
  const manifest = JSON.parse(manifestText) as Manifest;
  const chunks: string[] = [];
  for (let i = 0; i < manifest.chunks; i++)
    chunks.push((await client.get(k.chunk(hash, i)).string()) ?? "");
  return decodeChunks(manifest, chunks);
}

export interface Sidekick {
  /** Hash applied last (undefined until the first success). */
  applied(): string | undefined;
  /** Resolves when `hash` has been applied (bounded by timeoutMs). */
  waitFor(hash: string, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function runSidekick(
  client: Etcd3,
  set: string,
  apply: Applier,
  ctx: ApplyContext,
): Promise<Sidekick> {
  const k = dataKeys(set);
  let applied: string | undefined;
  let running: Promise<void> = Promise.resolve();
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  const waiters: { hash: string; resolve: () => void }[] = [];

  const applyHash = (hash: string | null) => {
    if (!hash || hash === applied || stopped) return;
    // Serialise applies: a burst of changes is handled one after the other, in order.
    running = running.then(async () => {
      if (hash === applied || stopped) return;
      try {
        await apply(await fetchBlob(client, set, hash), hash, ctx);
        applied = hash;
        for (const w of waiters.splice(0)) {
          if (w.hash === hash) w.resolve();
          else waiters.push(w);
        }
      } catch (e) {
        ctx.log(`${set} ${hash}: apply failed, keeping the previous data: ${(e as Error).message}`);
        clearTimeout(retry);
        if (stopped) return;
        retry = setTimeout(() => {
          client
            .get(k.current)
            .string()
            .then(applyHash, (err: Error) => ctx.log(`${set}: etcd: ${err.message}`));
        }, 5000);
      }
    });
  };

  const watcher: Watcher = await client.watch().key(k.current).create();
  watcher.on("put", (kv) => applyHash(kv.value.toString()));
  applyHash(await client.get(k.current).string());
  return {
    applied: () => applied,
    waitFor: (hash, timeoutMs) =>
      new Promise((resolve, reject) => {
        if (applied === hash) return resolve();
        const t = setTimeout(
          () => reject(new Error(`${set}: ${hash} not applied within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({ hash, resolve: () => (clearTimeout(t), resolve()) });
      }),
    stop: async () => {
      stopped = true;
      clearTimeout(retry);
      await watcher.cancel();
      await running;
    },
  };
}
