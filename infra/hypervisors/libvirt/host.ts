// Facts about the libvirt host that creates depend on: which domain type works, which
// MACs are taken, and the tail of a node's console log (read locally or over ssh).
import { spawnSync } from "child_process";
import * as fs from "fs";
import { shellWord, sshArgs as sshCommand } from "../../../fleet/cli/ssh";
import { tailFile } from "../common/readiness";
import { hopOfUri, hopOptions, type SshHop } from "../../reach/hop";
import { names, Virsh } from "./virsh";

export { shellWord };

/**
 * ssh's argv for `command` on a remote libvirt host: the URI's own login (port,
 * keyfile=, batch mode: never a prompt), `--` before the target, the words quoted.
 */
export const serverArgs = (hop: SshHop, command: string[]): string[] =>
  sshCommand({ host: hop.host }, command, hopOptions(hop));
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

/** Terminal colour codes make a console log unreadable inside an error message. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
}

export function tailConsole(uri: string, file: string, lines = 40): string {
  return stripAnsi(readTail(uri, file, lines));
}

/** `command` on the remote libvirt host, with the URI's own login (port, keyfile=). */
export function onServer(hop: SshHop, command: string[], timeoutMs = 20_000) {
  return spawnSync("ssh", serverArgs(hop, command), { encoding: "utf8", timeout: timeoutMs });
}

function readTail(uri: string, file: string, lines: number): string {
  const hop = hopOfUri(uri);
  if (hop) {
    const r = onServer(hop, ["tail", "-n", String(lines), "--", file]);
    return r.status === 0
      ? r.stdout
      : `(could not read ${file} on ${hop.host}: ${r.stderr || r.error?.message})`;
  }
  return tailFile(file, lines);
}

export function removeConsoleLog(uri: string, file: string): void {
  const hop = hopOfUri(uri);
  if (hop) {
    onServer(hop, ["rm", "-f", "--", file]);
  } else {
    fs.rmSync(file, { force: true });
  }
}
