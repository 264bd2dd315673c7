// The base disk every node's VDI is cloned from. Flatcar publishes a VirtualBox image per
// channel/version as flatcar_production_virtualbox_image.vmdk.bz2 with a detached OpenPGP
// signature (.sig) by its image signing key; it is fetched once into a cache, its
// signature checked with the libvirt driver's verifier (same key, same check) and only
// then decompressed. A URL image is checked against its configured sha256 (the libvirt
// driver's fetchUrl); a path image is used in place.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { FlatcarChannel } from "../../config/types";
import {
  FLATCAR_KEY_FINGERPRINT,
  FLATCAR_SIGNING_KEY,
  imageCacheDir,
  verifySignature,
} from "../libvirt/image";

export const FLATCAR_VBOX_FILE = "flatcar_production_virtualbox_image.vmdk";

export function flatcarVirtualBoxUrl(channel: FlatcarChannel, version: string): string {
  return `https://${channel}.release.flatcar-linux.net/amd64-usr/${version}/${FLATCAR_VBOX_FILE}.bz2`;
}

function tool(cmd: string, args: string[], what: string, pkg: string): void {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60 * 60_000 });
  if (r.error)
    throw new Error(`${what}: could not run ${cmd} (${r.error.message}); install ${pkg}`);
  if (r.status !== 0) throw new Error(`${what}: ${cmd} failed: ${(r.stderr || r.stdout).trim()}`);
}

// The libvirt driver's downloader is private to its image.ts; this is the same bounded
// curl call (see the report: both belong in a shared module).
function fetchTo(url: string, dest: string): void {
  const part = `${dest}.part`;
  const bounds = ["--connect-timeout", "30", "--speed-limit", "1024", "--speed-time", "60"];
  tool("curl", ["-fLsS", ...bounds, "-o", part, url], `downloading ${url}`, "curl");
  fs.renameSync(part, dest);
}

/** Downloads (once), verifies and decompresses Flatcar's VirtualBox image. */
export function fetchFlatcarVirtualBox(
  channel: FlatcarChannel,
  version: string,
  opts: { key?: string; url?: string } = {},
): string {
  const url = opts.url ?? flatcarVirtualBoxUrl(channel, version);
  const dir = path.join(imageCacheDir(), "flatcar-virtualbox", channel, version);
  fs.mkdirSync(dir, { recursive: true });
  const vmdk = path.join(dir, FLATCAR_VBOX_FILE);
  const bz2 = `${vmdk}.bz2`;
  const verified = `${vmdk}.verified`;
  if (fs.existsSync(verified) && fs.existsSync(vmdk)) return vmdk;
  // "current" moves: a cached copy whose signature was not checked is never trusted.
  fs.rmSync(vmdk, { force: true });
  if (!fs.existsSync(bz2)) fetchTo(url, bz2);
  fetchTo(`${url}.sig`, `${bz2}.sig`);
  try {
    verifySignature(
      bz2,
      `${bz2}.sig`,
      opts.key ?? FLATCAR_SIGNING_KEY,
      `Flatcar ${channel}/${version} VirtualBox image`,
    );
  } catch (e) {
    fs.rmSync(bz2, { force: true });
    throw e;
  }
  // Decompressed only after the signature matched: bunzip2 never sees unverified bytes.
  tool("bunzip2", ["--keep", "--force", bz2], `decompressing ${bz2}`, "bzip2");
  fs.writeFileSync(verified, `${new Date().toISOString()} ${FLATCAR_KEY_FINGERPRINT}\n`);
  return vmdk;
}
