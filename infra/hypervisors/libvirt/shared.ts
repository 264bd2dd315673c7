// Create and delete what the nodes share: the storage pool (when the lab owns it), the
// lab network and the base image volume. Called by the dynamic providers.
import * as fs from "fs";
import type { FlatcarChannel } from "../../config/types";
import { fetchUrl } from "../common/image";
import { fetchFlatcar, virtualSize } from "./image";
import { hopOfUri } from "../../reach/hop";
import { Undo } from "../common/undo";
import { checkConnection, virsh, Virsh } from "./virsh";
import { networkXml, poolXml, volumeXml } from "./xml";

export interface PoolProps {
  uri: string;
  name: string;
  path: string;
}

export async function createPool(p: PoolProps): Promise<{ created: boolean }> {
  const v = virsh(p.uri);
  checkConnection(v);
  if (v.tryRun(["pool-info", p.name]) !== undefined) {
    throw new Error(
      `fleetlab:hypervisor.pool = ${p.name} already exists on ${p.uri}: remove fleetlab:hypervisor.poolPath to use it as is`,
    );
  }
  const undo = new Undo();
  return undo.guard(async () => {
    v.withXml(["pool-define"], poolXml(p.name, p.path));
    undo.push(`undefine pool ${p.name}`, () => v.run(["pool-undefine", p.name]));
    v.run(["pool-build", p.name]);
    v.run(["pool-start", p.name]);
    undo.push(`stop pool ${p.name}`, () => v.run(["pool-destroy", p.name]));
    v.run(["pool-autostart", p.name]);
    return { created: true };
  });
}

export function deletePool(p: PoolProps): void {
  const v = virsh(p.uri);
  checkConnection(v);
  const info = v.tryRun(["pool-info", p.name]);
  if (info === undefined) return;
  if (/State:\s+running/.test(info)) {
    // pool-delete removes the directory and fails while volumes remain: never wipe
    // volumes fleetlab did not create.
    v.tryRun(["pool-delete", p.name]);
    v.run(["pool-destroy", p.name]);
  }
  v.run(["pool-undefine", p.name]);
}

export interface NetworkProps {
  uri: string;
  name: string;
  mode: "isolated" | "nat";
  gateway: string;
  netmask: string;
}

export async function createNetwork(p: NetworkProps): Promise<{ bridge: string }> {
  const v = virsh(p.uri);
  checkConnection(v);
  if (v.tryRun(["net-info", p.name]) !== undefined) {
    throw new Error(
      `fleetlab:network.name = ${p.name}: a libvirt network of that name already exists on ${p.uri}; remove it (virsh net-undefine) or rename the lab network`,
    );
  }
  const undo = new Undo();
  return undo.guard(async () => {
    v.withXml(["net-define"], networkXml(p));
    undo.push(`undefine network ${p.name}`, () => v.run(["net-undefine", p.name]));
    try {
      v.run(["net-start", p.name]);
    } catch (e) {
      throw new Error(
        `fleetlab:network = ${p.gateway}/${p.netmask}: libvirt could not start network ${p.name} (${(e as Error).message}); the subnet probably overlaps another network on the host: pick another fleetlab:network cidr`,
      );
    }
    undo.push(`stop network ${p.name}`, () => v.run(["net-destroy", p.name]));
    v.run(["net-autostart", p.name]);
    const info = v.run(["net-info", p.name]);
    return { bridge: /Bridge:\s+(\S+)/.exec(info)?.[1] ?? "" };
  });
}

export function deleteNetwork(p: Pick<NetworkProps, "uri" | "name">): void {
  const v = virsh(p.uri);
  checkConnection(v);
  const info = v.tryRun(["net-info", p.name]);
  if (info === undefined) return;
  if (/Active:\s+yes/.test(info)) v.run(["net-destroy", p.name]);
  v.run(["net-undefine", p.name]);
}

export type BaseSource =
  | { kind: "flatcar"; channel: FlatcarChannel; version: string }
  | { kind: "url"; url: string; sha256: string; format: "qcow2" | "raw" }
  | { kind: "path"; path: string; format: "qcow2" | "raw" };

export interface BaseImageProps {
  uri: string;
  pool: string;
  /** Volume name for an uploaded image. */
  volume: string;
  source: BaseSource;
}

export interface BaseImageState {
  path: string;
  format: "qcow2" | "raw";
  capacityBytes: number;
  /** Whether fleetlab uploaded a volume (and so deletes it). */
  uploaded: boolean;
}

function volumeCapacity(v: Virsh, pool: string, volume: string): number {
  const info = v.run(["vol-info", "--bytes", "--pool", pool, volume]);
  return Number(/Capacity:\s+(\d+)/.exec(info)?.[1] ?? 0);
}

export async function createBaseImage(p: BaseImageProps): Promise<BaseImageState> {
  const v = virsh(p.uri);
  checkConnection(v);
  if (v.tryRun(["pool-info", p.pool]) === undefined) {
    throw new Error(
      `fleetlab:hypervisor.pool = ${p.pool}: no such storage pool on ${p.uri}; create it (virsh pool-define-as ${p.pool} dir --target /var/lib/libvirt/images/${p.pool}) or set fleetlab:hypervisor.poolPath`,
    );
  }
  const src = p.source;
  if (src.kind === "path") {
    // The image already lives on the hypervisor host; nodes' volumes use it as backing
    // file in place (no 1-2 GB copy per `up`).
    const local = hopOfUri(p.uri) === undefined;
    if (local && !fs.existsSync(src.path)) {
      throw new Error(
        `fleetlab:hypervisor.image.path = ${src.path}: no such file on the hypervisor host; build it (image/build.sh) or fix the path`,
      );
    }
    return {
      path: src.path,
      format: src.format,
      capacityBytes: local ? virtualSize(src.path) : 0,
      uploaded: false,
    };
  }
  const file =
    src.kind === "flatcar" ? fetchFlatcar(src.channel, src.version) : fetchUrl(src.url, src.sha256);
  const format = src.kind === "flatcar" ? "qcow2" : src.format;
  if (v.tryRun(["vol-info", "--pool", p.pool, p.volume]) !== undefined) {
    throw new Error(
      `volume ${p.volume} already exists in pool ${p.pool} on ${p.uri}: delete it (virsh vol-delete --pool ${p.pool} ${p.volume}) or rename the stack`,
    );
  }
  const undo = new Undo();
  return undo.guard(async () => {
    const size = fs.statSync(file).size;
    v.withXml(
      ["vol-create", "--pool", p.pool],
      volumeXml({ name: p.volume, capacityBytes: size, format: "raw", mode: "0644" }),
    );
    undo.push(`delete volume ${p.volume}`, () => v.run(["vol-delete", "--pool", p.pool, p.volume]));
    // Uploaded byte for byte; the format is the file's own (qcow2 stays qcow2).
    v.run(["vol-upload", "--pool", p.pool, p.volume, file], { timeoutMs: 60 * 60_000 });
    v.run(["pool-refresh", p.pool]);
    const path = v.run(["vol-path", "--pool", p.pool, p.volume]).trim();
    return {
      path,
      format,
      capacityBytes: Math.max(volumeCapacity(v, p.pool, p.volume), virtualSize(file)),
      uploaded: true,
    };
  });
}

export function deleteBaseImage(p: BaseImageProps, s: Partial<BaseImageState>): void {
  if (!s.uploaded) return;
  const v = virsh(p.uri);
  checkConnection(v);
  if (v.tryRun(["vol-info", "--pool", p.pool, p.volume]) !== undefined)
    v.run(["vol-delete", "--pool", p.pool, p.volume]);
}
