// Reading one lab-data text file (data/dhcp.yaml, data/ldap/*) as a problem with
// file, value and fix instead of a raw ENOENT/EISDIR, and never more than a data
// file can sensibly hold (a path to /dev/zero must not hang or exhaust memory).
import { Problems } from "./problems";
import * as fs from "fs";
import type { DataSetName } from "./keys";

export const MAX_DATA_FILE_BYTES = 4 * 1024 * 1024;

const WHY: Record<string, string> = {
  ENOENT: "does not exist",
  ELOOP: "is a symbolic link in a loop",
  EACCES: "cannot be read (permission denied)",
  ENOTDIR: "has a path component that is not a directory",
};

/** The file's text, or a DataError of `set` naming `label` and the fix. */
export function readDataText(file: string, label: string, set: DataSetName, fix: string): string {
  const p = new Problems(label);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code ?? "";
    p.add("(file)", file, WHY[c] ?? `cannot be read (${c})`, fix);
  }
  if (st && !st.isFile())
    p.add(
      "(file)",
      file,
      st.isDirectory()
        ? "is a directory, not a file"
        : "is not a regular file (a device, FIFO or socket)",
      fix,
    );
  else if (st && st.size > MAX_DATA_FILE_BYTES)
    p.add(
      "(file)",
      st.size,
      `is larger than ${MAX_DATA_FILE_BYTES} bytes`,
      "keep lab data files small; split extra LDIF entries over files",
    );
  p.check(set);
  const buf = fs.readFileSync(file);
  const text = buf.toString("utf8");
  if (text.includes("\uFFFD") && !buf.includes(Buffer.from("\uFFFD")))
    p.add("(file)", file, "is not UTF-8 text", "save the file as UTF-8");
  p.check(set);
  return text;
}

/** The names in a data directory, or a DataError naming it and the fix. */
export function listDataDir(dir: string, label: string, set: DataSetName, fix: string): string[] {
  const p = new Problems(label);
  try {
    if (fs.statSync(dir).isDirectory()) return fs.readdirSync(dir).sort();
    p.add("(folder)", dir, "is not a directory", fix);
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code ?? "";
    p.add("(folder)", dir, WHY[c] ?? `cannot be read (${c})`, fix);
  }
  p.check(set);
  return [];
}
