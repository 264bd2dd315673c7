// Create and delete one lab machine on VirtualBox: its disk, its VM, the small Ignition
// in the guest property and the short-lived server behind it; create returns once the
// node fetched its config and answers SSH. Called by the Node dynamic provider.
import * as fs from "fs";
import * as path from "path";
import { Deadline } from "../common/deadline";
import { tailFile, waitForSsh } from "../common/readiness";
import { Undo } from "../common/undo";
import {
  closeMediumArgs,
  cloneDiskArgs,
  createVmArgs,
  diskResizeMiB,
  ignitionPropertyArgs,
  modifyVmArgs,
  parseCapacityMiB,
  parseMachineReadable,
  powerOffArgs,
  resizeDiskArgs,
  showMediumInfoArgs,
  showVmInfoArgs,
  startVmArgs,
  storageArgs,
  unregisterArgs,
  VmArgsInput,
} from "./args";
import { bootstrapConfig, configUrl } from "./bootstrap";
import { serveIgnition } from "./serve";
import { checkVBoxManage, hostOnlyInterface, VBoxManage, vboxManage } from "./vboxmanage";

export interface NodeProps {
  vboxManage: string;
  /** VM name (fleetlab-<stack>-<node>). */
  name: string;
  /** Folder the VM's files go in; VirtualBox makes <baseFolder>/<name>/. */
  baseFolder: string;
  hostOnlyInterface: string;
  /** The host's address on the host-only network (fleetlab:network.gateway). */
  gateway: string;
  headless: boolean;
  cpus: number;
  memoryMiB: number;
  diskMiB: number;
  basePath: string;
  mac: string;
  ip: string;
  ignition: string;
  readinessTimeoutSec: number;
}

export interface NodeState {
  vmUuid: string;
  diskPath: string;
  consoleLog: string;
  readyAfterMs: number;
}

export function vmFolder(p: Pick<NodeProps, "baseFolder" | "name">): string {
  return path.join(p.baseFolder, p.name);
}

/**
 * Powers off (if running) and unregisters the VM with its files; absent is fine. Then
 * removes what VirtualBox does not know it owns in the VM's folder (the console log) and
 * the folder itself, but only if nothing else is left in it.
 */
export function removeVm(v: VBoxManage, name: string, folder?: string): void {
  unregisterVm(v, name);
  if (!folder) return;
  fs.rmSync(path.join(folder, `${name}-console.log`), { force: true });
  try {
    fs.rmdirSync(folder);
  } catch {
    // not empty or already gone: leave it
  }
}

function unregisterVm(v: VBoxManage, name: string): void {
  const info = v.tryRun(showVmInfoArgs(name));
  if (info === undefined) return;
  const state = parseMachineReadable(info).VMState ?? "";
  if (!["poweroff", "aborted", "saved"].includes(state)) v.tryRun(powerOffArgs(name));
  // The VM's session stays locked for a moment after poweroff: bounded retries.
  for (let attempt = 1; ; attempt++) {
    try {
      v.run(unregisterArgs(name));
      return;
    } catch (e) {
      if (attempt >= 10) throw e;
      // Synchronous so the undo stack (sync steps) can use it too.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
  }
}

export async function createNode(p: NodeProps): Promise<NodeState> {
  const v = vboxManage(p.vboxManage);
  checkVBoxManage(v);
  const hostIf = hostOnlyInterface(v, p.hostOnlyInterface, p.gateway);
  if (v.tryRun(showVmInfoArgs(p.name)) !== undefined) {
    throw new Error(
      `VirtualBox VM ${p.name} already exists: remove it (VBoxManage unregistervm ${p.name} --delete) or rename the stack`,
    );
  }
  const folder = vmFolder(p);
  const diskPath = path.join(folder, `${p.name}.vdi`);
  const consoleLog = path.join(folder, `${p.name}-console.log`);
  const vm: VmArgsInput = {
    name: p.name,
    baseFolder: p.baseFolder,
    cpus: p.cpus,
    memoryMiB: p.memoryMiB,
    mac: p.mac,
    hostOnlyInterface: p.hostOnlyInterface,
    consoleLog,
  };
  const disk = { name: p.name, basePath: p.basePath, diskPath, diskMiB: p.diskMiB };
  // Refused before anything exists: a disk smaller than the image cannot be made.
  const resizeMiB = diskResizeMiB(disk, parseCapacityMiB(v.run(showMediumInfoArgs(p.basePath))));
  const undo = new Undo();
  // Bound to the host-only address only, and closed whatever happens below.
  const server = await serveIgnition(hostIf.ip, p.name, p.ignition);
  try {
    return await undo.guard(async () => {
      const small = bootstrapConfig(configUrl(hostIf.ip, server.port, p.name), p.ignition);
      v.run(cloneDiskArgs(disk), { timeoutMs: 30 * 60_000 });
      undo.push(`delete disk ${diskPath}`, () => v.tryRun(closeMediumArgs(diskPath)));
      if (resizeMiB !== undefined) v.run(resizeDiskArgs(diskPath, resizeMiB));
      v.run(createVmArgs(vm));
      // Deleting the VM deletes its attached disk too (closemedium above is then a no-op).
      undo.push(`delete VM ${p.name}`, () => removeVm(v, p.name, folder));
      v.run(modifyVmArgs(vm));
      for (const args of storageArgs(p.name, diskPath)) v.run(args);
      v.run(ignitionPropertyArgs(p.name, small));
      v.run(startVmArgs(p.name, p.headless));
      const vmUuid = parseMachineReadable(v.run(showVmInfoArgs(p.name))).UUID ?? "";

      const deadline = new Deadline(p.readinessTimeoutSec * 1000);
      const label = `node ${p.name} (VirtualBox VM)`;
      await deadline.race(
        server.fetched,
        () =>
          new Error(
            `${label}: never fetched its Ignition from ${configUrl(hostIf.ip, server.port, p.name)} ` +
              `within ${p.readinessTimeoutSec}s. Check that the VM boots from its disk and that its ` +
              `NIC can reach ${hostIf.ip}. Console log tail:\n${tailFile(consoleLog)}`,
          ),
      );
      await waitForSsh(p.ip, {
        timeoutMs: Math.max(1000, deadline.remaining()),
        label,
        hint: `The node fetched its Ignition; check that its static IP is on the host-only network ${p.hostOnlyInterface}.`,
        diagnose: () => tailFile(consoleLog),
      });
      return { vmUuid, diskPath, consoleLog, readyAfterMs: deadline.elapsed() };
    });
  } finally {
    await server.close();
  }
}

export function deleteNode(p: Pick<NodeProps, "vboxManage" | "name" | "baseFolder">): void {
  const v = vboxManage(p.vboxManage);
  checkVBoxManage(v);
  removeVm(v, p.name, vmFolder(p));
}
