// The base disk every node's copy-on-write volume sits on. Flatcar's image is fetched
// once into a cache and checked against Flatcar's OpenPGP signature before it is used;
// a URL image is checked against its configured sha256; a path image is used in place.
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { FlatcarChannel } from "../../config/types";

/** Flatcar's image signing key (public), as published by the Flatcar project. */
export const FLATCAR_SIGNING_KEY = path.join(__dirname, "flatcar-image-signing-key.asc");
export const FLATCAR_KEY_FINGERPRINT = "F88CFEDEFF29A5B4D9523864E25D9AED0593B34A";

export function flatcarImageUrl(channel: FlatcarChannel, version: string): string {
  return `https://${channel}.release.flatcar-linux.net/amd64-usr/${version}/flatcar_production_qemu_image.img`;
}

export function imageCacheDir(): string {
  return (
    process.env.FLEETLAB_IMAGE_DOWNLOADS ?? path.join(os.homedir(), ".cache", "fleetlab", "images")
  );
}

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60 * 60_000 });
  if (r.error)
    throw new Error(
      `${what}: could not run ${cmd} (${r.error.message}); install it (scripts/setup.sh)`,
    );
  if (r.status !== 0) throw new Error(`${what}: ${cmd} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

function download(url: string, dest: string): void {
  const part = `${dest}.part`;
  // Bounded: give up on a connection that does not open or a transfer that stalls.
  const bounds = ["--connect-timeout", "30", "--speed-limit", "1024", "--speed-time", "60"];
  const args = [
    "--fail",
    "--location",
    "--silent",
    "--show-error",
    ...bounds,
    "--output",
    part,
    url,
  ];
  run("curl", args, `downloading ${url}`);
  fs.renameSync(part, dest);
}

export function sha256File(file: string): string {
  const h = crypto.createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(4 << 20);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

export function verifySha256(file: string, want: string, key: string): void {
  const got = sha256File(file);
  if (got !== want) {
    throw new Error(
      `${key} = ${want} does not match the downloaded image (sha256 ${got}, ${file}): ` +
        `the download is corrupt or the image changed; check the URL and set ${key} to the published checksum`,
    );
  }
}

/** Verifies a detached OpenPGP signature with gpgv against exactly one armored key. */
export function verifySignature(file: string, sig: string, armoredKey: string, what: string): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-gpg-"));
  try {
    const keyring = path.join(dir, "keyring.gpg");
    const r = spawnSync("gpg", ["--batch", "--dearmor", "--output", keyring, armoredKey], {
      encoding: "utf8",
    });
    if (r.status !== 0)
      throw new Error(`${what}: cannot read signing key ${armoredKey}: ${r.stderr}`);
    const v = spawnSync("gpgv", ["--keyring", keyring, sig, file], { encoding: "utf8" });
    if (v.error) throw new Error(`${what}: could not run gpgv (${v.error.message}); install gpgv`);
    if (v.status !== 0) {
      throw new Error(
        `${what}: OpenPGP signature check FAILED for ${file} (${v.stderr.trim()}). ` +
          `The image is not the one Flatcar signed; it was removed from the cache. Retry the download, or check the mirror.`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Downloads (once) and verifies the Flatcar QEMU image; returns the cached file. */
export function fetchFlatcar(
  channel: FlatcarChannel,
  version: string,
  opts: { key?: string; baseUrl?: string } = {},
): string {
  const url = opts.baseUrl ?? flatcarImageUrl(channel, version);
  const dir = path.join(imageCacheDir(), "flatcar", channel, version);
  fs.mkdirSync(dir, { recursive: true });
  const img = path.join(dir, "flatcar_production_qemu_image.img");
  const verified = `${img}.verified`;
  if (fs.existsSync(verified) && fs.existsSync(img)) return img;
  // "current" moves: never trust a cached copy whose signature was not checked.
  if (!fs.existsSync(img)) download(url, img);
  download(`${url}.sig`, `${img}.sig`);
  try {
    verifySignature(
      img,
      `${img}.sig`,
      opts.key ?? FLATCAR_SIGNING_KEY,
      `Flatcar ${channel}/${version} image`,
    );
  } catch (e) {
    fs.rmSync(img, { force: true });
    throw e;
  }
  fs.writeFileSync(verified, `${new Date().toISOString()} ${FLATCAR_KEY_FINGERPRINT}\n`);
  return img;
}

/** Downloads (once) a URL image and checks its sha256; returns the cached file. */
export function fetchUrl(url: string, sha256: string): string {
  const dir = path.join(imageCacheDir(), "sha256");
  fs.mkdirSync(dir, { recursive: true });
  const img = path.join(dir, sha256);
  if (!fs.existsSync(img)) {
    download(url, `${img}.unverified`);
    try {
      verifySha256(`${img}.unverified`, sha256, "fleetlab:hypervisor.image.sha256");
    } catch (e) {
      fs.rmSync(`${img}.unverified`, { force: true });
      throw e;
    }
    fs.renameSync(`${img}.unverified`, img);
  }
  return img;
}

/** Virtual size of a local image (what a COW volume over it must at least have). */
export function virtualSize(file: string): number {
  const info = JSON.parse(
    run("qemu-img", ["info", "--output=json", "-U", file], `reading ${file}`),
  ) as {
    "virtual-size": number;
  };
  return info["virtual-size"];
}
