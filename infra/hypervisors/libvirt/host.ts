// Facts about the libvirt host that creates depend on: which domain type works, which
// MACs are taken, and the tail of a node's console log (read locally or over ssh).
import { spawnSync } from "child_process";
import * as fs from "fs";
import { shellWord, sshArgs as sshCommand } from "../../../fleet/cli/ssh";
import { tailFile } from "../common/readiness";
import { names, Virsh } from "./virsh";

export { shellWord };

/** ssh arguments for the libvirt host: batch mode (no password prompt), `--`, quoted words. */
export const sshArgs = (t: { host: string; port?: string }, command: string[]): string[] =>
  sshCommand(t, command, ["-o", "BatchMode=yes"]);
import type { DomainType } from "./xml";

/**
 * kvm only when libvirt offers it AND the host CPU has hardware virtualization. A
 * /dev/kvm without vmx/svm (a paravirtual device in a nested guest, as on our CI
 * machines) is listed by libvirt but hangs normal guests, so it counts as no KVM.
 */
export function detectDomainType(v: Virsh): DomainType {
  if (v.tryRun(["domcapabilities", "--virttype", "kvm"]) === undefined) return "qemu";
  const caps = v.tryRun(["capabilities"]) ?? "";
  const hostCpu = caps.split("</cpu>")[0] ?? "";
  return /<feature name='(vmx|svm)'\/>/.test(hostCpu) ? "kvm" : "qemu";
}

/** The domain (if any) that already has an interface with this MAC. */
export function domainUsingMac(v: Virsh, mac: string): string | undefined {
  for (const dom of names(v.tryRun(["list", "--all", "--name"]))) {
    const ifaces = v.tryRun(["domiflist", dom]) ?? "";
    if (ifaces.toLowerCase().includes(mac.toLowerCase())) return dom;
  }
  return undefined;
}

export function consoleLogPath(domain: string): string {
  return `/var/log/libvirt/qemu/${domain}-console.log`;
}

/**
 * ssh target of a qemu+ssh URI, or undefined for a local connection. A target that
 * ssh could read as an option (`-oProxyCommand=...`) throws, even though the config
 * check (infra/config/names.ts) refuses such URIs first.
 */
export function sshTarget(uri: string): { host: string; port?: string } | undefined {
  const m = /^qemu\+ssh:\/\/([^/:?]+)(?::(\d+))?\//.exec(uri);
  if (m && (m[1].startsWith("-") || m[1].includes("@-")))
    throw new Error(`fleetlab:hypervisor.uri = ${uri}: the ssh target starts with '-'`);
  return m ? { host: m[1], ...(m[2] && { port: m[2] }) } : undefined;
}

/** Terminal colour codes make a console log unreadable inside an error message. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
}

export function tailConsole(uri: string, file: string, lines = 40): string {
  return stripAnsi(readTail(uri, file, lines));
}

function readTail(uri: string, file: string, lines: number): string {
  const ssh = sshTarget(uri);
  if (ssh) {
    const args = sshArgs(ssh, ["tail", "-n", String(lines), "--", file]);
    const r = spawnSync("ssh", args, { encoding: "utf8", timeout: 20_000 });
    return r.status === 0
      ? r.stdout
      : `(could not read ${file} on ${ssh.host}: ${r.stderr || r.error?.message})`;
  }
  return tailFile(file, lines);
}

export function removeConsoleLog(uri: string, file: string): void {
  const ssh = sshTarget(uri);
  if (ssh) {
    spawnSync("ssh", sshArgs(ssh, ["rm", "-f", "--", file]), { timeout: 20_000 });
  } else {
    fs.rmSync(file, { force: true });
  }
}
