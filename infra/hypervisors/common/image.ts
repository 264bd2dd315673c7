// Getting a base image onto the management host, the same for every driver: a bounded
// download into a cache, then a check before anything uses the bytes. A Flatcar image is
// checked against Flatcar's detached OpenPGP signature; a URL image against the sha256 in
// the stack config. Only what each hypervisor wants on top (which Flatcar file, unpacking
// it, uploading it) lives in the drivers.
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Flatcar's image signing key (public), as published by the Flatcar project. */
export const FLATCAR_SIGNING_KEY = path.join(__dirname, "flatcar-image-signing-key.asc");
export const FLATCAR_KEY_FINGERPRINT = "F88CFEDEFF29A5B4D9523864E25D9AED0593B34A";

export function imageCacheDir(): string {
  return (
    process.env.FLEETLAB_IMAGE_DOWNLOADS ?? path.join(os.homedir(), ".cache", "fleetlab", "images")
  );
}

/**
 * Runs a host tool to completion (an hour at most: images are large) and returns its
 * stdout. A missing tool names what to install: `pkg`, or scripts/setup.sh (which
 * installs every tool the drivers use) when no package is named.
 */
export function runTool(cmd: string, args: string[], what: string, pkg?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60 * 60_000 });
  if (r.error) {
    const install = pkg ? `install ${pkg}` : "install it (scripts/setup.sh)";
    throw new Error(`${what}: could not run ${cmd} (${r.error.message}); ${install}`);
  }
  if (r.status !== 0) throw new Error(`${what}: ${cmd} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Downloads `url` to `dest` through `dest.part`, so a broken transfer never looks done. */
export function download(url: string, dest: string): void {
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
  runTool("curl", args, `downloading ${url}`);
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

export interface SignedImage {
  /** Where the image is published; its detached signature is at `${url}.sig`. */
  url: string;
  /** Where the download is cached. */
  file: string;
  /** Names the image in errors, e.g. "Flatcar stable/current image". */
  what: string;
  /** Armored public key the signature must verify against; Flatcar's by default. */
  key?: string;
  /**
   * Turns the verified download into the file the driver uses (e.g. decompresses it).
   * It runs only after the signature matched, so it never sees unverified bytes.
   */
  unpack?: { to: string; run: (file: string) => void };
}

/**
 * Downloads (once) a signed image, checks its signature, and returns the file to use
 * (`unpack.to`, or the download itself). A `<file>.verified` marker records the check,
 * so a later run reuses the cache without a download.
 */
export function fetchSigned(img: SignedImage): string {
  const used = img.unpack?.to ?? img.file;
  const verified = `${used}.verified`;
  if (fs.existsSync(verified) && fs.existsSync(used)) return used;
  // "current" moves: never trust a cached copy whose signature was not checked.
  if (img.unpack) fs.rmSync(img.unpack.to, { force: true });
  if (!fs.existsSync(img.file)) download(img.url, img.file);
  download(`${img.url}.sig`, `${img.file}.sig`);
  try {
    verifySignature(img.file, `${img.file}.sig`, img.key ?? FLATCAR_SIGNING_KEY, img.what);
  } catch (e) {
    fs.rmSync(img.file, { force: true });
    throw e;
  }
  img.unpack?.run(img.file);
  fs.writeFileSync(verified, `${new Date().toISOString()} ${FLATCAR_KEY_FINGERPRINT}\n`);
  return used;
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
