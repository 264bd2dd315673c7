// File writes the daemons can never observe half-done: write a temp file beside the
// target, then rename over it (rename is atomic within one directory).
import { readFileSync, renameSync, writeFileSync } from "fs";

/** Writes `text` to `path` atomically; returns false when the file already held it. */
export function writeIfChanged(path: string, text: string | Buffer, mode = 0o644): boolean {
  try {
    if (readFileSync(path).equals(Buffer.from(text))) return false;
  } catch {
    // missing: write it
  }
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
  return true;
}
