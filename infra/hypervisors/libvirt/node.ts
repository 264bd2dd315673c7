// Create and delete one lab machine: its Ignition volume, its copy-on-write disk, its
// domain; create returns once SSH answers. Called by the Node dynamic provider.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  consoleLogPath,
  detectDomainType,
  domainUsingMac,
  removeConsoleLog,
  tailConsole,
} from "./host";
import { probeSsh, waitForSsh } from "../common/readiness";
import { hopOfUri, reachAddress } from "../../reach";
import { Undo } from "../common/undo";
import { checkConnection, virsh, Virsh } from "./virsh";
import { domainXml, DomainType, volumeXml } from "./xml";

export interface NodeProps {
  uri: string;
  pool: string;
  /** Domain name; also the prefix of the node's volumes. */
  name: string;
  domainType: "auto" | DomainType;
  vcpus: number;
  memoryMiB: number;
  diskBytes: number;
  base: { path: string; format: "qcow2" | "raw"; capacityBytes: number };
  mac: string;
  ip: string;
  attach: { network: string } | { bridge: string };
  fwCfgKey: string;
  ignition: string;
  directKernelBoot?: { kernel: string; initrd: string; cmdline: string };
  readinessTimeoutSec: number;
}

export interface NodeState {
  domainUuid: string;
  /** What "auto" resolved to on this host. */
  actualDomainType: DomainType;
  diskVolume: string;
  ignitionVolume: string;
  consoleLog: string;
  readyAfterMs: number;
}

export const FIRSTBOOT_ARG = "ignition.firstboot";

function uploadVolume(v: Virsh, pool: string, name: string, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-ign-"));
  try {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content, { mode: 0o600 });
    // 0644: QEMU runs as an unprivileged user and reads the file when the domain starts.
    const xml = volumeXml({
      name,
      capacityBytes: Buffer.byteLength(content),
      format: "raw",
      mode: "0644",
    });
    v.withXml(["vol-create", "--pool", pool], xml);
    v.run(["vol-upload", "--pool", pool, name, file]);
    return v.run(["vol-path", "--pool", pool, name]).trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function deleteVolume(v: Virsh, pool: string, name: string): void {
  if (v.tryRun(["vol-info", "--pool", pool, name]) !== undefined)
    v.run(["vol-delete", "--pool", pool, name]);
}

function deleteDomain(v: Virsh, name: string): void {
  const state = v.tryRun(["domstate", name]);
  if (state === undefined) return;
  if (!state.includes("shut off")) v.run(["destroy", name]);
  v.run(["undefine", name]);
}

async function checkFree(v: Virsh, p: NodeProps): Promise<void> {
  if (v.tryRun(["domstate", p.name]) !== undefined) {
    throw new Error(
      `libvirt domain ${p.name} already exists on ${p.uri}: remove it (virsh -c ${p.uri} undefine ${p.name}) or rename the stack`,
    );
  }
  const owner = domainUsingMac(v, p.mac);
  if (owner) {
    throw new Error(
      `fleetlab:nodes ${p.name}.mac = ${p.mac} is already used by libvirt domain ${owner}: pick another mac or remove ${owner}`,
    );
  }
  // Anything that answers (even with a refusal) on the node's address means the IP is
  // taken. Through a remote server's SSH only a banner shows: ssh's forward accepts every
  // connection here and closes it when the far end refuses.
  const hop = hopOfUri(p.uri);
  const to = await reachAddress(hop, p.ip, 22);
  const probe = await probeSsh(to.host, to.port, 1500);
  if (hop ? probe === "ssh" : probe !== "silent") {
    throw new Error(
      `fleetlab:nodes ${p.name}.ip = ${p.ip} already answers on the lab network: pick a free address for ${p.name}`,
    );
  }
}

export function withoutFirstboot(cmdline: string): string {
  return cmdline
    .split(/\s+/)
    .filter((a) => a !== FIRSTBOOT_ARG && !a.startsWith(`${FIRSTBOOT_ARG}=`))
    .join(" ");
}

export async function createNode(p: NodeProps): Promise<NodeState> {
  const v = virsh(p.uri);
  checkConnection(v);
  if (v.tryRun(["pool-info", p.pool]) === undefined) {
    throw new Error(
      `fleetlab:hypervisor.pool = ${p.pool}: no such storage pool on ${p.uri}; create it or set fleetlab:hypervisor.poolPath`,
    );
  }
  await checkFree(v, p);
  const undo = new Undo();
  return undo.guard(async () => {
    const ignitionVolume = `${p.name}.ign`;
    const ignPath = uploadVolume(v, p.pool, ignitionVolume, p.ignition);
    undo.push(`delete volume ${ignitionVolume}`, () => deleteVolume(v, p.pool, ignitionVolume));

    const diskVolume = `${p.name}.qcow2`;
    const disk = volumeXml({
      name: diskVolume,
      capacityBytes: Math.max(p.diskBytes, p.base.capacityBytes),
      format: "qcow2",
      backingPath: p.base.path,
      backingFormat: p.base.format,
    });
    v.withXml(["vol-create", "--pool", p.pool], disk);
    undo.push(`delete volume ${diskVolume}`, () => deleteVolume(v, p.pool, diskVolume));

    const domainType = p.domainType === "auto" ? detectDomainType(v) : p.domainType;
    const consoleLog = consoleLogPath(p.name);
    const render = (cmdline?: string, uuid?: string): string =>
      domainXml({
        name: p.name,
        ...(uuid && { uuid }),
        type: domainType,
        vcpus: p.vcpus,
        memoryMiB: p.memoryMiB,
        pool: p.pool,
        diskVolume,
        diskFormat: "qcow2",
        mac: p.mac,
        attach: p.attach,
        fwCfg: { key: p.fwCfgKey, file: ignPath },
        consoleLog,
        ...(p.directKernelBoot && {
          directKernelBoot: {
            ...p.directKernelBoot,
            cmdline: cmdline ?? p.directKernelBoot.cmdline,
          },
        }),
      });
    v.withXml(["define"], render());
    undo.push(`delete domain ${p.name}`, () => deleteDomain(v, p.name));
    undo.push(`remove ${consoleLog}`, () => removeConsoleLog(p.uri, consoleLog));
    v.run(["start", p.name]);
    const domainUuid = v.run(["domuuid", p.name]).trim();

    const readyAfterMs = await waitForSsh(p.ip, {
      timeoutMs: p.readinessTimeoutSec * 1000,
      label: `node ${p.name} (libvirt domain on ${p.uri})`,
      hint: `Check that Ignition ran (fw_cfg key ${p.fwCfgKey}) and the node's static IP is on the lab network.`,
      diagnose: () => tailConsole(p.uri, consoleLog),
      // A remote server's lab network is behind its NAT: ask through its SSH.
      reach: (ip, port) => reachAddress(hopOfUri(p.uri), ip, port),
    });
    // Ignition must run on the first boot only (Flatcar's bootloader drops the flag the
    // same way); the new definition applies from the next boot on.
    if (p.directKernelBoot?.cmdline.includes(FIRSTBOOT_ARG)) {
      v.withXml(["define"], render(withoutFirstboot(p.directKernelBoot.cmdline), domainUuid));
    }
    return {
      domainUuid,
      actualDomainType: domainType,
      diskVolume,
      ignitionVolume,
      consoleLog,
      readyAfterMs,
    };
  });
}

export function deleteNode(
  p: Pick<NodeProps, "uri" | "pool" | "name">,
  s: Partial<NodeState>,
): void {
  const v = virsh(p.uri);
  checkConnection(v);
  deleteDomain(v, p.name);
  deleteVolume(v, p.pool, s.diskVolume ?? `${p.name}.qcow2`);
  deleteVolume(v, p.pool, s.ignitionVolume ?? `${p.name}.ign`);
  removeConsoleLog(p.uri, s.consoleLog ?? consoleLogPath(p.name));
}
