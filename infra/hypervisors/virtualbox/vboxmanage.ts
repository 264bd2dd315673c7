// The only place that runs VBoxManage (the role virsh.ts plays for libvirt). Errors
// name the stack config key to fix: fleetlab:hypervisor.vboxManage for the binary,
// fleetlab:hypervisor.hostOnlyInterface for the network.
import { spawnSync } from "child_process";
import { orUndefined } from "../common/cli";
import { HostOnlyIf, LIST_HOSTONLYIFS, parseHostOnlyIfs, VERSION } from "./args";

export class VBoxManageError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
    message: string,
  ) {
    super(message);
    this.name = "VBoxManageError";
  }
}

export interface VBoxManage {
  readonly bin: string;
  run(args: string[], opts?: { timeoutMs?: number }): string;
  /** Like run, but returns undefined instead of throwing when the call fails. */
  tryRun(args: string[]): string | undefined;
}

export function vboxManage(bin: string): VBoxManage {
  const run = (args: string[], opts: { timeoutMs?: number } = {}): string => {
    // env passed explicitly: the caller's (possibly sandboxed) environment, not the
    // process's original one.
    const r = spawnSync(bin, args, {
      encoding: "utf8",
      env: process.env,
      timeout: opts.timeoutMs ?? 120_000,
    });
    if (r.error) {
      throw new VBoxManageError(
        args,
        "",
        `fleetlab:hypervisor.vboxManage = ${bin}: could not run it (${r.error.message}). ` +
          `Install VirtualBox (it ships VBoxManage), or set fleetlab:hypervisor.vboxManage to the ` +
          `binary's full path (pulumi config set --path 'fleetlab:hypervisor.vboxManage' /usr/bin/VBoxManage)`,
      );
    }
    if (r.status !== 0) {
      const err = (r.stderr || r.stdout).trim();
      // The property value itself (Ignition) is never echoed into an error.
      const shown = args[0] === "guestproperty" ? args.slice(0, 4) : args;
      throw new VBoxManageError(args, err, `VBoxManage ${shown.join(" ")} failed: ${err}`);
    }
    return r.stdout;
  };
  return {
    bin,
    run,
    tryRun: orUndefined(run),
  };
}

/** Fails naming fleetlab:hypervisor.vboxManage when the binary is missing or broken. */
export function checkVBoxManage(v: VBoxManage): string {
  return v.run(VERSION, { timeoutMs: 30_000 }).trim();
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
