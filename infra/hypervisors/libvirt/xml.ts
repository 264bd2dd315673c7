// libvirt XML for everything the lab creates, rendered by pure functions so the exact
// documents are pinned by snapshot tests and never assembled inside a provider.

export type DomainType = "kvm" | "qemu";

export interface NetworkXmlInput {
  name: string;
  /** isolated: no <forward>, the lab cannot reach out; nat: forwarded to the uplink. */
  mode: "isolated" | "nat";
  /** Host side of the lab subnet (spec.network.gateway). */
  gateway: string;
  netmask: string;
}

export interface VolumeXmlInput {
  name: string;
  /** Logical size; for a COW volume at least the backing image's size. */
  capacityBytes: number;
  format: "qcow2" | "raw";
  /** Path of the backing file (the base image volume) for a copy-on-write volume. */
  backingPath?: string;
  backingFormat?: "qcow2" | "raw";
  /** Octal mode; Ignition files must be readable by the QEMU process (not root). */
  mode?: string;
}

export interface DomainXmlInput {
  name: string;
  /** Set when redefining an existing domain: libvirt matches the definition by UUID. */
  uuid?: string;
  type: DomainType;
  vcpus: number;
  memoryMiB: number;
  pool: string;
  diskVolume: string;
  diskFormat: "qcow2" | "raw";
  mac: string;
  /** libvirt network name, or a host bridge. */
  attach: { network: string } | { bridge: string };
  fwCfg: { key: string; file: string };
  consoleLog: string;
  directKernelBoot?: { kernel: string; initrd: string; cmdline: string };
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Tagged template: every interpolated value is XML-escaped. */
function x(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  return strings.reduce(
    (out, s, i) => out + s + (i < values.length ? escapeXml(String(values[i])) : ""),
    "",
  );
}

export function networkXml(n: NetworkXmlInput): string {
  // No <dhcp>: nodes get static addresses from Ignition, and the lab's own DHCP service
  // (Kea, a fleet unit) must be the only DHCP server on the segment.
  const forward = n.mode === "nat" ? "  <forward mode='nat'/>\n" : "";
  return (
    x`<network>\n  <name>${n.name}</name>\n` +
    forward +
    x`  <bridge stp='off'/>\n  <ip address='${n.gateway}' netmask='${n.netmask}'/>\n</network>\n`
  );
}

export function poolXml(name: string, path: string): string {
  return x`<pool type='dir'>\n  <name>${name}</name>\n  <target>\n    <path>${path}</path>\n  </target>\n</pool>\n`;
}

export function volumeXml(v: VolumeXmlInput): string {
  const backing = v.backingPath
    ? x`  <backingStore>\n    <path>${v.backingPath}</path>\n    <format type='${v.backingFormat ?? "qcow2"}'/>\n  </backingStore>\n`
    : "";
  const perms = v.mode
    ? x`    <permissions>\n      <mode>${v.mode}</mode>\n    </permissions>\n`
    : "";
  return (
    x`<volume>\n  <name>${v.name}</name>\n  <capacity unit='bytes'>${v.capacityBytes}</capacity>\n` +
    x`  <target>\n    <format type='${v.format}'/>\n` +
    perms +
    `  </target>\n` +
    backing +
    `</volume>\n`
  );
}

export function domainXml(d: DomainXmlInput): string {
  const boot = d.directKernelBoot
    ? x`    <kernel>${d.directKernelBoot.kernel}</kernel>\n    <initrd>${d.directKernelBoot.initrd}</initrd>\n    <cmdline>${d.directKernelBoot.cmdline}</cmdline>\n`
    : `    <boot dev='hd'/>\n`;
  const nic =
    "network" in d.attach
      ? x`    <interface type='network'>\n      <source network='${d.attach.network}'/>\n`
      : x`    <interface type='bridge'>\n      <source bridge='${d.attach.bridge}'/>\n`;
  // host-passthrough needs KVM; under TCG QEMU's default CPU model is the one that works.
  const cpu = d.type === "kvm" ? `  <cpu mode='host-passthrough'/>\n` : "";
  return (
    x`<domain type='${d.type}'>\n  <name>${d.name}</name>\n` +
    (d.uuid ? x`  <uuid>${d.uuid}</uuid>\n` : "") +
    x`  <memory unit='MiB'>${d.memoryMiB}</memory>\n  <vcpu>${d.vcpus}</vcpu>\n` +
    // fw_cfg is how QEMU hands Ignition its config (Flatcar's and Debian's both read it).
    x`  <sysinfo type='fwcfg'>\n    <entry name='${d.fwCfg.key}' file='${d.fwCfg.file}'/>\n  </sysinfo>\n` +
    `  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n` +
    boot +
    `  </os>\n` +
    // ACPI lets `virsh shutdown` ask the guest to power off cleanly.
    `  <features>\n    <acpi/>\n    <apic/>\n  </features>\n` +
    cpu +
    `  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n` +
    `  <devices>\n` +
    x`    <disk type='volume' device='disk'>\n      <driver name='qemu' type='${d.diskFormat}'/>\n` +
    x`      <source pool='${d.pool}' volume='${d.diskVolume}'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n` +
    nic +
    x`      <mac address='${d.mac}'/>\n      <model type='virtio'/>\n    </interface>\n` +
    // The serial console goes to a file so a node that never comes up can be diagnosed.
    x`    <serial type='pty'>\n      <log file='${d.consoleLog}' append='off'/>\n      <target port='0'/>\n    </serial>\n` +
    `    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n` +
    // Fresh machines generate SSH host keys at first boot; a virtio RNG keeps that fast.
    `    <rng model='virtio'>\n      <backend model='random'>/dev/urandom</backend>\n    </rng>\n` +
    `  </devices>\n</domain>\n`
  );
}
