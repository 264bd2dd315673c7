// What both drivers' dynamic providers share: loading their TypeScript operations in
// the provider host, the replace rule's key comparison, and the two provider shapes (a
// VM, updated in place where it can be; an object that is only ever replaced).
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";

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

/** What a driver's operation modules export: node.ts (one VM) and shared.ts (the rest). */
type DriverModules<NodeOps, SharedOps> = { node: NodeOps; shared: SharedOps };

/**
 * A driver's loader of its operation modules, node.ts and shared.ts next to its
 * providers.ts: `impl("node")` is node.ts's exports, typed `NodeOps`. The providers call
 * it inside their methods, so what Pulumi serializes is this small function and `dir`
 * (the driver's folder, fixed at program time: the provider host's own __dirname is
 * elsewhere), never the operations and everything they import.
 */
export function implLoader<NodeOps, SharedOps>(
  dir: string,
): <K extends "node" | "shared">(mod: K) => DriverModules<NodeOps, SharedOps>[K] {
  return <K extends "node" | "shared">(mod: K) =>
    loadImpl<DriverModules<NodeOps, SharedOps>[K]>(dir, mod);
}

/** Keys whose value differs between olds and news (deep, by JSON). */
export function changedKeys(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  keys: readonly string[],
): string[] {
  return keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
}

/** A dynamic resource's inputs or outputs, as the providers see them. */
export type Props = Record<string, unknown>;

/** A resource's props as the program passes them: each one may be an Output. */
export type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/**
 * A VM resource's props: its node operation's props, plus the Ignition's hash, which
 * stands for the Ignition in state (vmProvider never writes the Ignition there).
 */
export type VmProps<P> = P & { ignitionHash: string };

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

/**
 * The provider of an object that is never updated in place (libvirt's pool, network and
 * base image; VirtualBox's base image): a change to any of `keys` makes a new one, and
 * its outputs are its inputs plus what `createFn` returned. `deleteBeforeReplace` is for
 * an object whose name on the host is fixed, so old and new cannot exist side by side.
 * The functions are not named create/delete, for the reason given at vmProvider.
 */
export function replaceOnlyProvider<S extends object>(rule: {
  keys: readonly string[];
  /** The resource's id, from its inputs and what createFn returned. */
  idOf: (inputs: Props, state: S) => string;
  createFn: (inputs: Props) => Promise<S>;
  deleteFn: (olds: Props) => void;
  deleteBeforeReplace: boolean;
}) {
  const { keys, idOf, createFn, deleteFn, deleteBeforeReplace } = rule;
  return {
    async create(inputs: Props) {
      const state = await createFn(inputs);
      return { id: idOf(inputs, state), outs: { ...inputs, ...state } };
    },
    async diff(_id: string, olds: Props, news: Props) {
      const replaces = changedKeys(olds, news, keys);
      // Absent rather than false when not wanted: the answer each provider gave before
      // this helper existed (the engine reads both the same way).
      return {
        changes: replaces.length > 0,
        replaces,
        ...(deleteBeforeReplace && { deleteBeforeReplace }),
      };
    },
    async delete(_id: string, olds: Props) {
      deleteFn(olds);
    },
  };
}
