// VBoxManage argument lists for everything the lab does to VirtualBox, rendered by pure
// functions (the role libvirt's xml.ts plays there) so the exact calls are pinned by
// snapshot tests and never assembled inside a provider. Each function returns one argv
// (without the VBoxManage binary itself); the provider runs them in order.

export interface VmArgsInput {
  /** VM name, unique on the host (fleetlab-<stack>-<node>). */
  name: string;
  /** Folder VirtualBox keeps the VM's files in (its .vbox, disk, logs). */
  baseFolder: string;
  cpus: number;
  memoryMiB: number;
  /** Lower-case aa:bb:cc:dd:ee:ff, as in the LabSpec. */
  mac: string;
  hostOnlyInterface: string;
  /** File the VM's first serial port writes to (the console, for diagnosis). */
  consoleLog: string;
}

export interface DiskArgsInput {
  /** The node's VM name (for errors). */
  name: string;
  /** Verified base image (Flatcar's .vmdk, or a .vdi/.vmdk given by path). */
  basePath: string;
  /** The node's own copy, a .vdi in the VM's folder. */
  diskPath: string;
  diskMiB: number;
}

/** The storage controller the node's disk hangs on. */
export const CONTROLLER = "SATA";
/** Guest property Ignition's `virtualbox` provider reads (coreos/ignition PR 1269). */
export const IGNITION_PROPERTY = "/Ignition/Config";

/** VirtualBox writes MACs as 12 hex digits, no separators, upper case. */
export function vboxMac(mac: string): string {
  const hex = mac.replace(/[:-]/g, "").toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(hex)) throw new Error(`not a MAC address: ${mac}`);
  return hex;
}

/**
 * The node's disk: a full VDI copy of the base image (VirtualBox has no backing-file
 * chain across unregistered media, unlike qcow2). Flatcar grows its root filesystem to
 * the disk on first boot.
 */
export function cloneDiskArgs(d: Pick<DiskArgsInput, "basePath" | "diskPath">): string[] {
  return ["clonemedium", "disk", d.basePath, d.diskPath, "--format", "VDI"];
}

/** Grows the node's disk; VirtualBox cannot shrink one (see diskResizeMiB). */
export function resizeDiskArgs(diskPath: string, diskMiB: number): string[] {
  return ["modifymedium", "disk", diskPath, "--resize", String(diskMiB)];
}

export function showMediumInfoArgs(path: string): string[] {
  return ["showmediuminfo", "disk", path];
}

/** The "Capacity: 12534 MBytes" line of `showmediuminfo` (the virtual size, in MiB). */
export function parseCapacityMiB(out: string): number {
  const m = /^Capacity:\s+(\d+)\s+MBytes/m.exec(out);
  if (!m) throw new Error(`VBoxManage showmediuminfo printed no capacity:\n${out.slice(0, 400)}`);
  return Number(m[1]);
}

/**
 * The size to resize the node's disk to: the requested size when it is larger than the
 * base image, none when it is equal. `modifymedium --resize` only grows a disk (the
 * VirtualBox manual's VBoxManage modifymedium section: --resize expands, never
 * shrinks, and only VDI/VHD images, which is why the clone is a VDI), and
 * Flatcar's VirtualBox image is about 12.3 GiB of partitions, more than the old dev
 * default of 10 GiB, so a smaller request is refused here, before any copy exists, as
 * the libvirt driver sizes a volume to max(requested, image) (libvirt/node.ts).
 */
export function diskResizeMiB(d: DiskArgsInput, baseMiB: number): number | undefined {
  if (d.diskMiB > baseMiB) return d.diskMiB;
  if (d.diskMiB === baseMiB) return undefined;
  const minGiB = Math.ceil(baseMiB / 1024);
  throw new Error(
    `fleetlab:nodes[${d.name}].diskGiB (or fleetlab:nodeDefaults.diskGiB) = ${d.diskMiB / 1024}: ` +
      `the base image ${d.basePath} is already ${(baseMiB / 1024).toFixed(2)} GiB and VirtualBox ` +
      `can only grow a disk. Set diskGiB to ${minGiB} or more (the dev stack uses 20)`,
  );
}

export function createVmArgs(v: VmArgsInput): string[] {
  return [
    "createvm",
    "--name",
    v.name,
    "--ostype",
    "Linux26_64",
    "--basefolder",
    v.baseFolder,
    "--register",
  ];
}

export function modifyVmArgs(v: VmArgsInput): string[] {
  return [
    "modifyvm",
    v.name,
    "--memory",
    String(v.memoryMiB),
    "--cpus",
    String(v.cpus),
    // Flatcar's VirtualBox image boots with BIOS; I/O APIC is required for >1 CPU.
    "--firmware",
    "bios",
    "--ioapic",
    "on",
    "--rtcuseutc",
    "on",
    "--boot1",
    "disk",
    "--boot2",
    "none",
    // NIC1: the lab network. Its MAC is the one the node's Ignition matches its static
    // address on, so the lab address lands on this NIC and nowhere else.
    "--nic1",
    "hostonly",
    "--hostonlyadapter1",
    v.hostOnlyInterface,
    "--nictype1",
    "virtio",
    "--macaddress1",
    vboxMac(v.mac),
    "--cableconnected1",
    "on",
    // NIC2: NAT for egress (image pulls); a host-only network has no route out. Its MAC
    // is left to VirtualBox.
    "--nic2",
    "nat",
    "--nictype2",
    "virtio",
    "--cableconnected2",
    "on",
    // COM1 to a file: the console of a node that never comes up can still be read.
    "--uart1",
    "0x3F8",
    "4",
    "--uartmode1",
    "file",
    v.consoleLog,
  ];
}

export function storageArgs(name: string, diskPath: string): string[][] {
  return [
    ["storagectl", name, "--name", CONTROLLER, "--add", "sata", "--controller", "IntelAhci"],
    [
      "storageattach",
      name,
      "--storagectl",
      CONTROLLER,
      "--port",
      "0",
      "--device",
      "0",
      "--type",
      "hdd",
      "--medium",
      diskPath,
    ],
  ];
}

export function ignitionPropertyArgs(name: string, smallConfig: string): string[] {
  return ["guestproperty", "set", name, IGNITION_PROPERTY, smallConfig];
}

export function startVmArgs(name: string, headless: boolean): string[] {
  return ["startvm", name, "--type", headless ? "headless" : "gui"];
}

export function powerOffArgs(name: string): string[] {
  return ["controlvm", name, "poweroff"];
}

/** Unregisters the VM and deletes its files, attached disk included. */
export function unregisterArgs(name: string): string[] {
  return ["unregistervm", name, "--delete"];
}

/** Removes a medium VirtualBox registered (the node's disk, when the VM never got it). */
export function closeMediumArgs(diskPath: string): string[] {
  return ["closemedium", "disk", diskPath, "--delete"];
}

export function showVmInfoArgs(name: string): string[] {
  return ["showvminfo", name, "--machinereadable"];
}

export const LIST_HOSTONLYIFS = ["list", "hostonlyifs"];
export const VERSION = ["--version"];

export interface HostOnlyIf {
  name: string;
  ip: string;
}

/** Parses `VBoxManage list hostonlyifs` (blocks of `Key:   value` lines). */
export function parseHostOnlyIfs(out: string): HostOnlyIf[] {
  return out
    .split(/\n\s*\n/)
    .map((block) => {
      const get = (k: string): string =>
        new RegExp(`^${k}:\\s*(.*)$`, "m").exec(block)?.[1]?.trim() ?? "";
      return { name: get("Name"), ip: get("IPAddress") };
    })
    .filter((i) => i.name !== "");
}

/** Parses `showvminfo --machinereadable` (key="value" or key=value lines). */
export function parseMachineReadable(out: string): Record<string, string> {
  const info: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const m = /^"?([^"=]+)"?=(.*)$/.exec(line.trim());
    if (m) info[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return info;
}
