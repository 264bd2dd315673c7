// The base disk every node's copy-on-write volume sits on. Flatcar's QEMU image is
// fetched once into the cache and checked against Flatcar's OpenPGP signature before it
// is used (common/image.ts); a URL image is checked against its configured sha256 there;
// a path image is used in place.
import * as fs from "fs";
import * as path from "path";
import type { FlatcarChannel } from "../../config/types";
import { fetchSigned, imageCacheDir, runTool } from "../common/image";

export function flatcarImageUrl(channel: FlatcarChannel, version: string): string {
  return `https://${channel}.release.flatcar-linux.net/amd64-usr/${version}/flatcar_production_qemu_image.img`;
}

/** Downloads (once) and verifies the Flatcar QEMU image; returns the cached file. */
export function fetchFlatcar(
  channel: FlatcarChannel,
  version: string,
  opts: { key?: string; baseUrl?: string } = {},
): string {
  const dir = path.join(imageCacheDir(), "flatcar", channel, version);
  fs.mkdirSync(dir, { recursive: true });
  return fetchSigned({
    url: opts.baseUrl ?? flatcarImageUrl(channel, version),
    file: path.join(dir, "flatcar_production_qemu_image.img"),
    what: `Flatcar ${channel}/${version} image`,
    key: opts.key,
  });
}

/** Virtual size of a local image (what a COW volume over it must at least have). */
export function virtualSize(file: string): number {
  const info = JSON.parse(
    runTool("qemu-img", ["info", "--output=json", "-U", file], `reading ${file}`),
  ) as {
    "virtual-size": number;
  };
  return info["virtual-size"];
}
