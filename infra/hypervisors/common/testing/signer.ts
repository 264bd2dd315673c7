// A throwaway OpenPGP key for tests of the signed download: a fresh GnuPG home under the
// test's temp folder, an ed25519 signing key valid for a day, detached signatures by it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface Signer {
  /** The public key, armored, as the drivers' `key` option takes it. */
  key: string;
  /** Writes `<file>.sig`, a detached signature of `file`. */
  sign(file: string): void;
  /** Stops the gpg-agent that key generation started in this home. */
  close(): void;
}

export function makeSigner(dir: string): Signer {
  const home = path.join(dir, "gnupg");
  fs.mkdirSync(home, { mode: 0o700 });
  const gpg = (args: string[]): void => {
    const r = spawnSync(
      "gpg",
      ["--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", ...args],
      { encoding: "utf8", timeout: 60_000 },
    );
    if (r.status !== 0) throw new Error(`gpg ${args[0]} failed: ${r.stderr || r.error?.message}`);
  };
  gpg(["--quick-gen-key", "fleetlab test <test@fleetlab.invalid>", "ed25519", "sign", "1d"]);
  const key = path.join(dir, "key.asc");
  gpg(["--armor", "--output", key, "--export"]);
  return {
    key,
    sign: (file) => gpg(["--yes", "--detach-sign", "--output", `${file}.sig`, file]),
    close: () => void spawnSync("gpgconf", ["--homedir", home, "--kill", "gpg-agent"]),
  };
}

export interface ImageSandbox {
  /** A fresh temp folder; the image cache (FLEETLAB_IMAGE_DOWNLOADS) is its downloads/. */
  dir: string;
  signer: Signer;
}

/**
 * Gives a test file a temp folder, a throwaway signer and a private image cache, set up
 * before its tests and removed after them (the fields are filled in by beforeAll).
 */
export function imageSandbox(prefix: string): ImageSandbox {
  const box = {} as ImageSandbox;
  beforeAll(() => {
    box.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    box.signer = makeSigner(box.dir);
    process.env.FLEETLAB_IMAGE_DOWNLOADS = path.join(box.dir, "downloads");
  });
  afterAll(() => {
    delete process.env.FLEETLAB_IMAGE_DOWNLOADS;
    box.signer?.close();
    if (box.dir) fs.rmSync(box.dir, { recursive: true, force: true });
  });
  return box;
}
