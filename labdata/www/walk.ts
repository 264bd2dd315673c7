// Reads the web data folder for packing: lists it without following any link
// (lstat), lets rules.ts judge the listing, and only then reads the files, each
// opened with O_NOFOLLOW and checked again (still a regular file, same size), so a
// file swapped for a link or grown in between is refused, not published.
import { Problems } from "../problems";
import * as fs from "fs";
import { join, relative, resolve, sep } from "path";
import {
  MAX_ENTRIES,
  MAX_FILE_BYTES,
  parsePublishList,
  PUBLISH_LIST,
  SiteEntry,
  siteProblems,
} from "./rules";
import type { SiteFile } from "./site";

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);

/** What a symlink leads to, judged from the folder `root` (realpath'd). */
function linkLeads(full: string, root: string): NonNullable<SiteEntry["link"]>["leads"] {
  let real: string;
  try {
    real = fs.realpathSync(full);
  } catch (e) {
    return code(e) === "ELOOP" ? "loop" : "missing";
  }
  if (real !== root && !real.startsWith(root + sep)) return "outside";
  const st = fs.statSync(real);
  return st.isFile() ? "file" : st.isDirectory() ? "directory" : "other";
}

function kindOf(st: fs.Stats): SiteEntry["kind"] {
  return st.isSymbolicLink()
    ? "symlink"
    : st.isFile()
      ? "file"
      : st.isDirectory()
        ? "directory"
        : "other";
}

/** Reads a regular file without following a link; undefined with a problem otherwise. */
function readRegular(full: string, want: number | undefined, p: Problems, key: string) {
  let fd: number;
  try {
    fd = fs.openSync(
      full,
      fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK,
    );
  } catch (e) {
    p.add(
      key,
      code(e),
      "cannot be opened as a regular file (was it replaced by a link?)",
      "make it a plain file and retry",
    );
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > MAX_FILE_BYTES || (want !== undefined && st.size !== want)) {
      p.add(
        key,
        st.size,
        "changed while being read (type or size)",
        "retry when nothing is writing to the folder",
      );
      return undefined;
    }
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The folder as entries, sorted, at most MAX_ENTRIES (then `truncated`). */
export function listSite(
  dir: string,
  label: string,
): { entries: SiteEntry[]; truncated: boolean; root: string } {
  const p = new Problems(label);
  let root: string;
  try {
    root = fs.realpathSync(resolve(dir));
    if (!fs.statSync(root).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
  } catch (e) {
    const why: Record<string, string> = {
      ENOENT: "does not exist (or is a dangling link)",
      ELOOP: "is a symbolic link in a loop",
      ENOTDIR: "is not a directory",
      EACCES: "cannot be read (permission denied)",
    };
    p.add(
      "(folder)",
      dir,
      why[code(e)] ?? `cannot be read (${code(e)})`,
      "point fleetlab:data.www at the web site's directory (e.g. data/www)",
    );
    p.check("www");
    throw e; // unreachable: check() threw
  }
  const entries: SiteEntry[] = [];
  let truncated = false;
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(d).sort();
    } catch (e) {
      p.add(
        relative(root, d) || "(folder)",
        code(e),
        "cannot be listed",
        "make the directory readable",
      );
      return;
    }
    for (const name of names) {
      if (entries.length >= MAX_ENTRIES) {
        truncated = true;
        return;
      }
      const full = join(d, name);
      const path = relative(root, full).split(sep).join("/");
      let e: SiteEntry;
      try {
        const st = fs.lstatSync(full);
        e = { path, kind: kindOf(st), size: st.size };
        if (e.kind === "symlink")
          e.link = { target: fs.readlinkSync(full), leads: linkLeads(full, root) };
      } catch (err) {
        p.add(
          path,
          code(err),
          "vanished or cannot be read while listing",
          "retry when nothing is writing to the folder",
        );
        continue;
      }
      entries.push(e);
      if (e.kind === "directory") walk(full);
    }
  };
  walk(root);
  p.check("www");
  return { entries, truncated, root };
}

/**
 * The web site's files, or a DataError naming every problem (relative to `label`,
 * e.g. data/www). Nothing is read before the listing passes the rules.
 */
export function readSite(dir: string, label = "data/www"): SiteFile[] {
  const { entries, truncated, root } = listSite(dir, label);
  const p = new Problems(label);
  const listEntry = entries.find((e) => e.path === PUBLISH_LIST);
  let publish: string[] = [];
  if (listEntry) {
    const text =
      listEntry.kind === "file"
        ? readRegular(join(root, PUBLISH_LIST), undefined, p, PUBLISH_LIST)
        : undefined;
    if (listEntry.kind !== "file")
      p.add(
        PUBLISH_LIST,
        listEntry.kind,
        "is not a regular file",
        `make ${PUBLISH_LIST} a plain text file`,
      );
    publish = text ? parsePublishList(text.toString("utf8")) : [];
  }
  p.list.push(...siteProblems(entries, label, publish, truncated).list);
  p.check("www");
  const files: SiteFile[] = [];
  for (const e of entries) {
    if (e.kind !== "file" || e.path === PUBLISH_LIST) continue;
    const data = readRegular(join(root, ...e.path.split("/")), e.size, p, e.path);
    if (data) files.push({ path: e.path, data });
  }
  p.check("www");
  return files;
}
