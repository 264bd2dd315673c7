// Writing a file that holds a secret (an Ignition file with a node's private key):
// a new temp file created 0600 with O_EXCL|O_NOFOLLOW in the same directory, synced,
// then renamed over the destination. So the secret never lives in a file with
// another mode (an existing 0644 file is replaced, not reused), a symlink at the
// destination is replaced (its target is never written), and a reader sees the old
// file or the whole new one, never half.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export function writeSecretFile(file: string, data: string | Buffer): void {
  const dir = path.dirname(file);
  const tmp = path.join(
    dir,
    `.${path.basename(file)}.${crypto.randomBytes(6).toString("hex")}.tmp`,
  );
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    fs.fchmodSync(fd, 0o600); // the umask can only take bits away; be exact anyway
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    if (fs.lstatSync(file, { throwIfNoEntry: false })?.isDirectory())
      throw new Error(`${file} is a directory; remove it or choose another output directory`);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
