// What may be published from the web data folder (data/www), decided from a listing
// of it before any file is read. Pure: the walk (walk.ts) lists, this judges.
//
// The rules, and why (docs/services.md, "Web site"):
// - only regular files and directories: a symbolic link is never followed, so
//   nothing outside the folder (/etc/passwd, a home directory) can be packed, and a
//   loop or a dangling link is a named problem, not ELOOP/ENOENT;
// - no hidden files (.env, .git/) and no editor leftovers (index.html~, .swp)
//   unless listed in the folder's `.publish` file (e.g. `.well-known/`);
// - names that mean the same file everywhere: letters, digits and . _ ~ + -, no
//   two paths that differ only in case, no Windows device names, no trailing dot;
// - a size limit per file and for the set (the archive travels through etcd).

import { Problems } from "../problems";
export type EntryKind = "file" | "directory" | "symlink" | "other";

export interface SiteEntry {
  /** Relative path with '/' separators, each name exactly as on disk. */
  path: string;
  kind: EntryKind;
  /** Bytes, for files. */
  size: number;
  /** For a symlink: its target as written and what is there, seen from the folder. */
  link?: { target: string; leads: "file" | "directory" | "missing" | "loop" | "outside" | "other" };
}

/** The folder's own list of hidden or backup paths to publish anyway; never published. */
export const PUBLISH_LIST = ".publish";
export const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** The whole archive travels through etcd: keep it well below its database quota. */
export const MAX_SITE_BYTES = 32 * 1024 * 1024;
export const MAX_ENTRIES = 10_000;
/** The ustar name field: longer paths would need the prefix field, which we do not write. */
export const MAX_PATH = 100;

const PORTABLE_NAME = /^[A-Za-z0-9._~+-]+$/;
const BACKUP = /(~|\.sw[a-p]|\.bak|\.orig|\.rej|\.tmp)$|^#.*#$/i;
const DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** Lines of `.publish`: paths relative to the folder; `dir/` lists a whole directory. */
export function parsePublishList(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.replace(/^\.\//, ""));
}

function listed(path: string, list: readonly string[]): boolean {
  return list.some((l) => (l.endsWith("/") ? `${path}/`.startsWith(l) : path === l));
}

function nameProblem(name: string): string | undefined {
  if (name === "." || name === "..") return `is "${name}"`;
  if (!PORTABLE_NAME.test(name))
    return /\\/.test(name)
      ? "has a backslash, which is a path separator on Windows and in URLs"
      : "has a character outside letters, digits and . _ ~ + -";
  if (DEVICE.test(name)) return "is a Windows device name";
  if (name.endsWith(".")) return "ends with a dot, which Windows drops";
  return undefined;
}

const LINK_PROBLEM = {
  file: "is a symbolic link (to a file)",
  directory: "is a symbolic link (to a directory)",
  outside: "is a symbolic link pointing outside the folder",
  missing: "is a symbolic link to something that does not exist (dangling)",
  loop: "is a symbolic link in a loop",
  other: "is a symbolic link to something that is not a regular file",
} as const;

/**
 * Every problem of a listed web folder, with the file (relative to `dir`), the
 * value and the fix. `truncated` says the walk stopped at MAX_ENTRIES.
 */
export function siteProblems(
  entries: readonly SiteEntry[],
  dir: string,
  publish: readonly string[] = [],
  truncated = false,
): Problems {
  const p = new Problems(dir);
  const refusedDirs: string[] = [];
  const byLower = new Map<string, string>();
  let total = 0;
  for (const e of entries) {
    // Below a refused directory: that directory's problem is the one to fix.
    if (refusedDirs.some((d) => e.path.startsWith(`${d}/`))) continue;
    const names = e.path.split("/");
    const name = names[names.length - 1];
    const refuse = (value: unknown, problem: string, fix: string) => {
      p.add(e.path, value, problem, fix);
      if (e.kind === "directory") refusedDirs.push(e.path);
    };
    if (e.path === PUBLISH_LIST) continue;
    if (e.kind === "symlink") {
      refuse(
        `-> ${e.link?.target ?? "?"}`,
        LINK_PROBLEM[e.link?.leads ?? "other"],
        `replace the link with a copy of what it points to (links are never followed, so nothing outside ${dir} is published)`,
      );
      continue;
    }
    if (e.kind === "other") {
      refuse(e.path, "is not a regular file or directory (a device, FIFO or socket)", "remove it");
      continue;
    }
    if (!listed(e.path, publish)) {
      if (name.startsWith(".")) {
        refuse(
          e.path,
          `is hidden (${e.kind === "directory" ? "a dot-directory" : "a dotfile"}) and would be published`,
          `remove it from ${dir}, or list it in ${dir}/${PUBLISH_LIST} to publish it (e.g. .well-known/)`,
        );
        continue;
      }
      if (BACKUP.test(name)) {
        refuse(
          e.path,
          "looks like an editor backup or temporary file and would be published",
          `remove it, or list it in ${dir}/${PUBLISH_LIST} to publish it`,
        );
        continue;
      }
    }
    const bad = nameProblem(name);
    if (bad) {
      refuse(e.path, `name ${bad}`, "rename it: letters, digits and . _ ~ + - only");
      continue;
    }
    if (e.path.length > MAX_PATH) {
      refuse(
        e.path,
        `is longer than ${MAX_PATH} characters`,
        "shorten the path or flatten directories",
      );
      continue;
    }
    const lower = e.path.toLowerCase();
    const other = byLower.get(lower);
    if (other !== undefined) {
      refuse(
        e.path,
        `differs from ${other} only in case: on macOS and Windows they are the same file`,
        "rename one of them",
      );
      continue;
    }
    byLower.set(lower, e.path);
    if (e.kind === "file") {
      if (e.size > MAX_FILE_BYTES)
        p.add(
          e.path,
          e.size,
          `is larger than ${MAX_FILE_BYTES} bytes`,
          "serve large files from elsewhere",
        );
      total += e.size;
    }
  }
  if (truncated)
    p.add(
      "(folder)",
      `> ${MAX_ENTRIES} entries`,
      `holds more than ${MAX_ENTRIES} files and directories`,
      "serve large trees from elsewhere",
    );
  if (total > MAX_SITE_BYTES)
    p.add(
      "(total size)",
      total,
      `exceeds ${MAX_SITE_BYTES} bytes`,
      "serve large files from elsewhere",
    );
  if (!entries.some((e) => e.path === "index.html" && e.kind === "file"))
    p.add("index.html", undefined, "missing", `add ${dir}/index.html (the page served at /)`);
  for (const l of publish)
    if (!entries.some((e) => e.path === l || `${e.path}/` === l))
      p.add(
        `${PUBLISH_LIST}: ${l}`,
        l,
        "lists a path that does not exist",
        `remove the line, or create ${dir}/${l}`,
      );
  return p;
}
