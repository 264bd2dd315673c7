// The drivers, one per hypervisor kind. The map is typed by every kind the config
// accepts, so a kind without a driver does not compile.
import type { HypervisorKind } from "../config/types";
import { driver as libvirt } from "./libvirt";
import type { HypervisorDriver } from "./types";
import { driver as virtualbox } from "./virtualbox";

export * from "./types";

export const DRIVERS: Readonly<Record<HypervisorKind, HypervisorDriver>> = { libvirt, virtualbox };

/** The driver for spec.hypervisor.kind. */
export function driverFor(kind: HypervisorKind): HypervisorDriver {
  return DRIVERS[kind];
}
