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
