// What every driver's createLab starts from: its own hypervisor settings out of the spec.
// The program picks the driver by spec.hypervisor.kind (../index.ts), so a mismatch here
// is a wiring bug, not a config mistake; it still names the key and the value it saw.
import type { HypervisorKind, HypervisorSettings, LabSpec } from "../../config/types";

/** The settings of the `kind` hypervisor, e.g. LibvirtSettings for "libvirt". */
export type SettingsOf<K extends HypervisorKind> = Extract<HypervisorSettings, { kind: K }>;

/** spec.hypervisor, narrowed to the driver's `kind`; throws when the spec is for another. */
export function hypervisorSettings<K extends HypervisorKind>(
  spec: LabSpec,
  kind: K,
): SettingsOf<K> {
  const hv = spec.hypervisor;
  if (hv.kind !== kind) throw new Error(`${kind} driver got fleetlab:hypervisor.kind = ${hv.kind}`);
  return hv as SettingsOf<K>;
}
