// What both drivers' dynamic providers share: loading their TypeScript operations in
// the provider host, and the replace rule's key comparison.
import * as path from "path";

// The dynamic-provider host is plain node, not ts-node: the serialized methods load
// our TypeScript through ts-node by absolute path instead of capturing its code.
const TS_NODE = require.resolve("ts-node");
const TS_CONFIG = path.join(__dirname, "..", "..", "..", "tsconfig.json");

/** `require(dir/mod)` of a driver's operations module, registering ts-node once. */
export function loadImpl<T>(dir: string, mod: string): T {
  const r = require;
  if (!r.extensions[".ts"]) {
    (r(TS_NODE) as { register: (o: object) => void }).register({
      transpileOnly: true,
      project: TS_CONFIG,
    });
  }
  return r(`${dir}/${mod}`) as T;
}

/** Keys whose value differs between olds and news (deep, by JSON). */
export function changedKeys(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  keys: readonly string[],
): string[] {
  return keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
}

type Props = Record<string, unknown>;

/**
 * The diff rule of a VM: a change to one of `replaceKeys` (what the VM is made of: its
 * Ignition hash, shape, disk, address) replaces it, old one first, because its name,
 * MAC and IP are fixed per node; a change to another of `keys` updates in place.
 */
export function vmDiff(
  olds: Props,
  news: Props,
  replaceKeys: readonly string[],
  keys: readonly string[],
): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  const replaces = changedKeys(olds, news, replaceKeys);
  const changed = changedKeys(olds, news, [...replaceKeys, ...keys]);
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: true };
}

/**
 * The VM provider of both drivers. The Ignition input is never written to state (it
 * carries the node's key; its hash stands for it). The functions are not named
 * create/delete: Pulumi serializes each method as a function of that name, which
 * would shadow a captured variable of the same name.
 */
export function vmProvider(
  createFn: (inputs: Props) => Promise<object>,
  deleteFn: (olds: Props) => void,
  replaceKeys: readonly string[],
  keys: readonly string[],
) {
  return {
    async create(inputs: Props) {
      const state = await createFn(inputs);
      const { ignition: _secret, ...outs } = inputs;
      void _secret;
      return { id: inputs.name as string, outs: { ...outs, ...state } };
    },
    async diff(_id: string, olds: Props, news: Props) {
      return vmDiff(olds, news, replaceKeys, keys);
    },
    async update(_id: string, olds: Props, news: Props) {
      const { ignition: _secret, ...outs } = news;
      void _secret;
      return { outs: { ...olds, ...outs } };
    },
    async delete(_id: string, olds: Props) {
      deleteFn(olds);
    },
  };
}
