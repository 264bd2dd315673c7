// The base disk every node's VDI is cloned from. Flatcar publishes a VirtualBox image per
// channel/version as flatcar_production_virtualbox_image.vmdk.bz2 with a detached OpenPGP
// signature (.sig) by its image signing key; it is fetched once into the cache and its
// signature checked by the same signed download the libvirt driver uses
// (common/image.ts), and only then decompressed. A URL image is checked against its
// configured sha256 (common/image.ts fetchUrl); a path image is used in place.
import * as fs from "fs";
import * as path from "path";
import type { FlatcarChannel } from "../../config/types";
import { fetchSigned, imageCacheDir, runTool } from "../common/image";

export const FLATCAR_VBOX_FILE = "flatcar_production_virtualbox_image.vmdk";

export function flatcarVirtualBoxUrl(channel: FlatcarChannel, version: string): string {
  return `https://${channel}.release.flatcar-linux.net/amd64-usr/${version}/${FLATCAR_VBOX_FILE}.bz2`;
}

/** Downloads (once), verifies and decompresses Flatcar's VirtualBox image. */
export function fetchFlatcarVirtualBox(
  channel: FlatcarChannel,
  version: string,
  opts: { key?: string; url?: string } = {},
): string {
  const dir = path.join(imageCacheDir(), "flatcar-virtualbox", channel, version);
  fs.mkdirSync(dir, { recursive: true });
  const vmdk = path.join(dir, FLATCAR_VBOX_FILE);
  const bz2 = `${vmdk}.bz2`;
  return fetchSigned({
    url: opts.url ?? flatcarVirtualBoxUrl(channel, version),
    file: bz2,
    what: `Flatcar ${channel}/${version} VirtualBox image`,
    key: opts.key,
    unpack: {
      to: vmdk,
      run: (file) =>
        runTool("bunzip2", ["--keep", "--force", file], `decompressing ${file}`, "bzip2"),
    },
  });
}
