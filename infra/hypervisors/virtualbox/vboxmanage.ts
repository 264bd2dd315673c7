// The only place that runs VBoxManage (the role virsh.ts plays for libvirt). Errors
// name the stack config key to fix: fleetlab:hypervisor.vboxManage for the binary,
// fleetlab:hypervisor.hostOnlyInterface for the network.
import { checkArgv, Cli, cli, CLI_CHECK_TIMEOUT_MS, Grammar } from "../common/cli";
import { HostOnlyIf, LIST_HOSTONLYIFS, parseHostOnlyIfs, VERSION } from "./args";

export interface VBoxManage extends Cli {
  readonly bin: string;
}

/**
 * Every VBoxManage call the driver makes (args.ts): each command with how many values
 * (a VM name, a medium's path, a property) come before its options.
 */
const GRAMMAR: Grammar = {
  commands: {
    "--version": 0,
    list: 1,
    clonemedium: 3,
    modifymedium: 2,
    showmediuminfo: 2,
    closemedium: 2,
    createvm: 0,
    modifyvm: 1,
    storagectl: 1,
    storageattach: 1,
    guestproperty: 4,
    startvm: 1,
    controlvm: 2,
    showvminfo: 1,
    unregistervm: 1,
  },
  options: {
    "--format": 1,
    "--resize": 1,
    "--name": 1,
    "--ostype": 1,
    "--basefolder": 1,
    "--register": 0,
    "--memory": 1,
    "--cpus": 1,
    "--firmware": 1,
    "--ioapic": 1,
    "--rtcuseutc": 1,
    "--boot1": 1,
    "--boot2": 1,
    "--nic1": 1,
    "--hostonlyadapter1": 1,
    "--nictype1": 1,
    "--macaddress1": 1,
    "--cableconnected1": 1,
    "--nic2": 1,
    "--nictype2": 1,
    "--cableconnected2": 1,
    "--uart1": 2,
    "--uartmode1": 2,
    "--add": 1,
    "--controller": 1,
    "--storagectl": 1,
    "--port": 1,
    "--device": 1,
    "--type": 1,
    "--medium": 1,
    "--delete": 0,
    "--machinereadable": 0,
  },
};

/**
 * A VBoxManage command line in which no value can be read as an option. VBoxManage has
 * no end-of-options marker, so the guard is the grammar: the command's values first,
 * none starting with '-', then only the driver's own options. Throws on anything else.
 */
export function vboxManageArgs(args: string[]): string[] {
  const { cmd, values, options } = checkArgv("VBoxManage", GRAMMAR, args);
  const argv = [cmd, ...values, ...options];
  // Values after an option would be moved before it: refused rather than reordered, so
  // what runs is exactly what args.ts wrote.
  if (argv.some((a, i) => a !== args[i]))
    throw new Error(
      `VBoxManage ${cmd}: refusing ${JSON.stringify(args.join(" "))}: values must come before the options`,
    );
  return argv;
}

export function vboxManage(bin: string): VBoxManage {
  return {
    bin,
    ...cli({
      bin,
      argv: vboxManageArgs,
      cannotRun: (_args, why) =>
        `fleetlab:hypervisor.vboxManage = ${bin}: could not run it (${why}). ` +
        `Install VirtualBox (it ships VBoxManage), or set fleetlab:hypervisor.vboxManage to the ` +
        `binary's full path (pulumi config set --path 'fleetlab:hypervisor.vboxManage' /usr/bin/VBoxManage)`,
      failed: (args, err) => {
        // The property value itself (Ignition) is never echoed into an error.
        const shown = args[0] === "guestproperty" ? args.slice(0, 4) : args;
        return `VBoxManage ${shown.join(" ")} failed: ${err}`;
      },
    }),
  };
}

/** Fails naming fleetlab:hypervisor.vboxManage when the binary is missing or broken. */
export function checkVBoxManage(v: VBoxManage): string {
  return v.run(VERSION, { timeoutMs: CLI_CHECK_TIMEOUT_MS }).trim();
}

/**
 * VirtualBox 7 on macOS has no host-only adapters (vboxnetN), only host-only networks
 * (`VBoxManage hostonlynet`, NIC type `hostonlynet`), whose host interface the OS adds
 * only while a VM uses the network (VirtualBox manual, "Host-Only Networking"). The
 * driver needs the host's address before any VM starts (the Ignition server binds to
 * it), so it refuses macOS rather than half-supporting it.
 */
export function unsupportedHostProblem(platform: NodeJS.Platform): string | undefined {
  if (platform !== "darwin") return undefined;
  return (
    `fleetlab:hypervisor.kind = virtualbox: VirtualBox on macOS has only host-only networks ` +
    `(hostonlynet), which fleetlab's VirtualBox driver does not support (docs/virtualbox.md). ` +
    `Run the dev stack from a Linux or Windows host with VirtualBox, or use a libvirt stack ` +
    `(faculty: a remote KVM server over qemu+ssh://)`
  );
}

/**
 * The host-only interface the lab attaches to, with the host's address on it. Fails
 * listing the interfaces that exist when it is missing, and when its address is not
 * the lab network's gateway (the nodes' static config and the bootstrap URL use it).
 */
export function hostOnlyInterface(
  v: VBoxManage,
  name: string,
  gateway: string,
  platform: NodeJS.Platform = process.platform,
): HostOnlyIf {
  const unsupported = unsupportedHostProblem(platform);
  if (unsupported) throw new Error(unsupported);
  const ifs = parseHostOnlyIfs(v.run(LIST_HOSTONLYIFS));
  const found = ifs.find((i) => i.name === name);
  if (!found) {
    const have = ifs.length ? ifs.map((i) => `${i.name} (${i.ip})`).join(", ") : "none";
    throw new Error(
      `fleetlab:hypervisor.hostOnlyInterface = ${name}: VirtualBox has no such host-only ` +
        `interface (it has: ${have}). Create it (VBoxManage hostonlyif create; then ` +
        `VBoxManage hostonlyif ipconfig ${name} --ip ${gateway}) or set the key to one of those`,
    );
  }
  if (found.ip !== gateway) {
    throw new Error(
      `fleetlab:network.gateway = ${gateway}, but host-only interface ${name} has address ` +
        `${found.ip}: set the gateway to ${found.ip}, or run VBoxManage hostonlyif ipconfig ${name} --ip ${gateway}`,
    );
  }
  return found;
}
