// Loading a driver's TypeScript operations inside the dynamic-provider host, so that
// what Pulumi serializes with a provider is a small loader, not the operations and
// everything they import.
import * as path from "path";

// The dynamic-provider host is plain node, not ts-node: the serialized methods load
// our TypeScript through ts-node by absolute path instead of capturing its code, with
// the config the program itself runs under (tsconfig.pulumi.json: esbuild, no type check).
const TS_NODE = require.resolve("ts-node");
const TS_CONFIG = path.join(__dirname, "..", "..", "tsconfig.pulumi.json");

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
