// Which Flatcar releases a hypervisor can provision. Pure: the rule is checked in
// parseLabSpec, before anything is created.
import type { Problems } from "../../labdata/problems";
import { fullKey } from "./errors";
import type { FlatcarSpec, HypervisorSettings } from "./types";

/**
 * First Flatcar major release whose kernel has the vboxguest driver. Ignition's
 * `virtualbox` provider reads the guest property /Ignition/Config through
 * /dev/vboxguest (coreos/ignition, internal/providers/virtualbox); without the driver
 * no node provisions. Checked against flatcar/scripts: the amd64 kernel config of
 * the 6.18 kernel (coreos-modules/files/amd64_defconfig-6.18) sets
 * CONFIG_VBOXGUEST=m, the 6.12 one (stable 4593.x and LTS) does not; the VirtualBox
 * OEM rework that uses it (flatcar/flatcar-website PR 567, May 2026) first shipped in
 * alpha 4722.0.0 (2026-06-15). Beta gets the majors alpha had before it (Flatcar's
 * "Switching release channels" page), so beta's `current` is assumed to be past it too;
 * that and the release dates are from documentation, not from booting an image.
 */
export const VBOXGUEST_FIRST_MAJOR = 4722;

/** Channels whose `current` release is at or past VBOXGUEST_FIRST_MAJOR. */
const VBOXGUEST_CURRENT_CHANNELS: readonly string[] = ["alpha", "beta"];

/** The major release of "4722.0.0", or undefined for "current". */
function major(version: string): number | undefined {
  const m = /^(\d+)\./.exec(version);
  return m ? Number(m[1]) : undefined;
}

/** Whether the Flatcar release can read its Ignition from a VirtualBox guest property. */
export function hasVBoxGuest(flatcar: FlatcarSpec): boolean {
  const m = major(flatcar.version);
  return m === undefined
    ? VBOXGUEST_CURRENT_CHANNELS.includes(flatcar.channel)
    : m >= VBOXGUEST_FIRST_MAJOR;
}

/**
 * Refuses a VirtualBox lab on the Flatcar image of a release without vboxguest. A
 * {path} or {url} image is the user's (the test stand-in, a custom build): not checked.
 */
export function checkFlatcarForHypervisor(
  problems: Problems,
  flatcar: FlatcarSpec,
  hypervisor: HypervisorSettings | undefined,
  raw: { flatcarChannel?: unknown; flatcarVersion?: unknown },
): void {
  if (hypervisor?.kind !== "virtualbox" || hypervisor.image.kind !== "flatcar") return;
  if (hasVBoxGuest(flatcar)) return;
  const pinned = major(flatcar.version) !== undefined;
  problems.add(
    fullKey(pinned ? "flatcarVersion" : "flatcarChannel"),
    pinned ? (raw.flatcarVersion ?? flatcar.version) : (raw.flatcarChannel ?? flatcar.channel),
    `Flatcar ${flatcar.channel} ${flatcar.version} has no vboxguest driver, so its Ignition ` +
      `cannot read the VirtualBox guest property /Ignition/Config and no node would provision ` +
      `(the driver ships from release ${VBOXGUEST_FIRST_MAJOR} on, alpha and beta first)`,
    `set ${fullKey("flatcarChannel")} to alpha (or beta) and ${fullKey("flatcarVersion")} to ` +
      `${VBOXGUEST_FIRST_MAJOR}.0.0 or later (docs/virtualbox.md), or use the libvirt hypervisor`,
  );
}
