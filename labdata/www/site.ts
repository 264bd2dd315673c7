// Web content as one deterministic tar.gz (ustar, sorted paths, zero mtimes/owners)
// so the same files always give the same bytes and hence the same content hash in
// etcd. Pure: packing on the management host, unpacking in the www sidekick.
import { gunzipSync, gzipSync } from "zlib";
import { SiteEntry, siteProblems } from "./rules";

export interface SiteFile {
  /** Relative path with '/' separators, e.g. "img/logo.png". */
  path: string;
  data: Buffer;
}

const SAFE_PATH = /^(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._~+-]+(\/[A-Za-z0-9._~+-]+)*$/;
export { MAX_FILE_BYTES, MAX_SITE_BYTES } from "./rules";

/**
 * Checks files (as read by walk.ts, or built in memory) against the folder rules
 * of rules.ts; throws a DataError listing every problem.
 */
export function validateSite(files: SiteFile[], dir = "data/www", publish: string[] = []): void {
  const entries: SiteEntry[] = files.map((f) => ({
    path: f.path,
    kind: "file",
    size: f.data.length,
  }));
  const dirs = new Set(
    files.flatMap((f) =>
      f.path
        .split("/")
        .slice(0, -1)
        .map((_, i, a) => a.slice(0, i + 1).join("/")),
    ),
  );
  entries.push(...[...dirs].map((path): SiteEntry => ({ path, kind: "directory", size: 0 })));
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const p = siteProblems(entries, dir, publish);
  for (const f of files)
    if (!SAFE_PATH.test(f.path))
      p.add(
        f.path,
        f.path,
        "is not a safe relative path",
        "rename it: letters, digits, . _ ~ + - and / only",
      );
  p.check("www");
}

function header(path: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, "utf8");
  const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, "0") + "\0";
  put(path, 0, 100);
  put(oct(0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(size, 12), 124, 12);
  put(oct(0, 12), 136, 12);
  put("        ", 148, 8); // checksum field counts as spaces while summing
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  const sum = h.reduce((a, b) => a + b, 0);
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return h;
}

export function packSite(files: SiteFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    parts.push(
      header(f.path, f.data.length),
      f.data,
      Buffer.alloc((512 - (f.data.length % 512)) % 512),
    );
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/** Reads regular files back; refuses anything but safe relative paths. */
export function unpackSite(archive: Buffer): SiteFile[] {
  const tar = gunzipSync(archive);
  const files: SiteFile[] = [];
  for (let off = 0; off + 512 <= tar.length;) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const path = h.toString("utf8", 0, 100).replace(/\0.*$/s, "");
    const size = parseInt(h.toString("ascii", 124, 136).replace(/\0.*$/s, "").trim() || "0", 8);
    const type = String.fromCharCode(h[156] || 48);
    if (type !== "0")
      throw new Error(
        `site archive: entry ${path} has type ${type}; only regular files are allowed`,
      );
    if (!SAFE_PATH.test(path)) throw new Error(`site archive: unsafe path ${JSON.stringify(path)}`);
    files.push({ path, data: Buffer.from(tar.subarray(off + 512, off + 512 + size)) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
