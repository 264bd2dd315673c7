// Picks the driver for spec.hypervisor.kind. Drivers are loaded by name so the
// program works (rendering Ignition only) before a driver exists for a kind.
import * as fs from "fs";
import * as path from "path";
import type { HypervisorKind } from "../config/types";
import type { HypervisorDriver } from "./types";

export * from "./types";

/** The driver for `kind`, or undefined when hypervisors/<kind>/ has no index yet. */
export function loadDriver(kind: HypervisorKind): HypervisorDriver | undefined {
  // A driver folder that exists but fails to load is a bug to surface, not "no driver".
  const present = ["index.ts", "index.js"].some((f) =>
    fs.existsSync(path.join(__dirname, kind, f)),
  );
  if (!present) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(`./${kind}`) as { driver?: HypervisorDriver };
  if (!mod.driver || mod.driver.kind !== kind) {
    throw new Error(
      `infra/hypervisors/${kind}/index.ts must export \`driver\` with kind "${kind}"`,
    );
  }
  return mod.driver;
}
