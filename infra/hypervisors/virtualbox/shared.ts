// What the nodes share: the verified base image on the management host (VirtualBox runs
// where Pulumi runs, so there is no upload). Nothing is registered with VirtualBox here;
// each node clones the file into its own VDI. Called by the BaseImage dynamic provider.
import * as fs from "fs";
import type { FlatcarChannel } from "../../config/types";
import { fetchUrl } from "../common/image";
import { fetchFlatcarVirtualBox } from "./image";

export type BaseSource =
  | { kind: "flatcar"; channel: FlatcarChannel; version: string }
  | { kind: "url"; url: string; sha256: string }
  | { kind: "path"; path: string };

export interface BaseImageProps {
  source: BaseSource;
}

export interface BaseImageState {
  path: string;
}

export async function createBaseImage(p: BaseImageProps): Promise<BaseImageState> {
  const src = p.source;
  if (src.kind === "flatcar") return { path: fetchFlatcarVirtualBox(src.channel, src.version) };
  if (src.kind === "url") return { path: fetchUrl(src.url, src.sha256) };
  if (!fs.existsSync(src.path)) {
    throw new Error(
      `fleetlab:hypervisor.image.path = ${src.path}: no such file on this host; ` +
        `give the path of a .vdi or .vmdk disk image, or use image.kind flatcar`,
    );
  }
  return { path: src.path };
}

/** The cache is kept (the next `up` needs no download); a path image is the user's. */
export function deleteBaseImage(): void {}
