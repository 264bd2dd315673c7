// The web data folder as an attacker or a careless editor leaves it: every case is
// refused with the file, the value and a fix, and nothing is packed.
import { execFileSync } from "child_process";
import * as fs from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { expectProblem } from "../expect-problem";
import { loadDataSet } from "../load";
import { MAX_ENTRIES, MAX_FILE_BYTES } from "./rules";
import { unpackSite } from "./site";
import { readSite } from "./walk";

let root: string;
let site: string;
beforeEach(() => {
  root = fs.mkdtempSync(join(tmpdir(), "flt-www-"));
  site = join(root, "www");
  fs.mkdirSync(site);
  fs.writeFileSync(join(site, "index.html"), "<h1>lab</h1>\n");
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const put = (rel: string, data: string | Buffer = "x") => {
  fs.mkdirSync(join(site, rel, ".."), { recursive: true });
  fs.writeFileSync(join(site, rel), data);
};
const link = (target: string, rel: string) => {
  fs.mkdirSync(join(site, rel, ".."), { recursive: true });
  fs.symlinkSync(target, join(site, rel));
};
const sparse = (rel: string, bytes: number) => {
  put(rel, "");
  fs.truncateSync(join(site, rel), bytes);
};

type Case = [string, () => void, string, string | undefined, RegExp];
const LINK_FIX = /replace the link with a copy/;
const PUBLISH_FIX = /list it in data\/www\/\.publish/;
const RENAME = /rename/;
const cases: Case[] = [
  [
    "symlink to /etc/passwd",
    () => link("/etc/passwd", "passwd"),
    "passwd",
    "-> /etc/passwd",
    LINK_FIX,
  ],
  ["symlink to /etc", () => link("/etc", "etc"), "etc", "-> /etc", LINK_FIX],
  [
    "relative symlink escaping",
    () => link("../../../../etc/hostname", "h.txt"),
    "h.txt",
    "-> ../",
    LINK_FIX,
  ],
  [
    "symlink to a file inside",
    () => link("index.html", "home.html"),
    "home.html",
    "-> index.html",
    LINK_FIX,
  ],
  [
    "symlink to a dir inside",
    () => (put("img/a.png"), link("img", "pics")),
    "pics",
    "-> img",
    LINK_FIX,
  ],
  [
    "dangling symlink",
    () => link("nowhere.html", "gone.html"),
    "gone.html",
    "-> nowhere.html",
    LINK_FIX,
  ],
  ["symlink loop a<->b", () => (link("b", "a"), link("a", "b")), "a", "-> b", LINK_FIX],
  ["self loop", () => link("self", "self"), "self", "-> self", LINK_FIX],
  [
    "symlink in a subdirectory",
    () => link("/root", "docs/root"),
    "docs/root",
    "-> /root",
    LINK_FIX,
  ],
  [".env", () => put(".env", "DB_PASSWORD=x"), ".env", ".env", PUBLISH_FIX],
  [".git/config", () => put(".git/config"), ".git", ".git", PUBLISH_FIX],
  [
    ".htaccess in a subdirectory",
    () => put("sub/.htaccess"),
    "sub/.htaccess",
    "htaccess",
    PUBLISH_FIX,
  ],
  ["vim swap as dotfile", () => put(".index.html.swp"), ".index.html.swp", "swp", PUBLISH_FIX],
  ["backup with ~", () => put("index.html~"), "index.html~", "index.html~", PUBLISH_FIX],
  ["swap without dot", () => put("page.html.swp"), "page.html.swp", "swp", PUBLISH_FIX],
  ["swo", () => put("page.html.swo"), "page.html.swo", "swo", PUBLISH_FIX],
  ["emacs autosave", () => put("#index.html#"), "#index.html#", "#index.html#", PUBLISH_FIX],
  [".bak", () => put("rules.html.bak"), "rules.html.bak", "bak", PUBLISH_FIX],
  [".orig", () => put("style.css.orig"), "style.css.orig", "orig", PUBLISH_FIX],
  [".tmp", () => put("upload.tmp"), "upload.tmp", "tmp", PUBLISH_FIX],
  ["backslash", () => put("a\\b.html"), "a\\b.html", "a\\\\b.html", RENAME],
  ["case collision of files", () => put("Index.html"), "index.html", "index.html", RENAME],
  [
    "case collision of directories",
    () => (put("IMG/a.png"), put("img/b.png")),
    "img",
    "img",
    RENAME,
  ],
  ["space in a name", () => put("my page.html"), "my page.html", "my page", RENAME],
  ["non-ASCII name", () => put("zażółć.html"), "zażółć.html", "za", RENAME],
  ["newline in a name", () => put("a\nb.html"), "a\nb.html", "a\\nb", RENAME],
  ["colon", () => put("a:b.html"), "a:b.html", "a:b", RENAME],
  ["asterisk", () => put("a*.html"), "a*.html", "a*", RENAME],
  ["Windows device name", () => put("con.html"), "con.html", "con.html", RENAME],
  ["Windows device name without extension", () => put("docs/AUX"), "docs/AUX", "AUX", RENAME],
  ["trailing dot", () => put("file."), "file.", "file.", RENAME],
  [
    "path over 100 characters",
    () => put(`${"d".repeat(60)}/${"f".repeat(50)}.html`),
    `${"d".repeat(60)}/${"f".repeat(50)}.html`,
    "ddd",
    /shorten/,
  ],
  [
    "file over the per-file limit",
    () => sparse("big.iso", MAX_FILE_BYTES + 1),
    "big.iso",
    String(MAX_FILE_BYTES + 1),
    /elsewhere/,
  ],
  [
    "set over the total limit",
    () => [1, 2, 3, 4, 5].forEach((i) => sparse(`v${i}.bin`, MAX_FILE_BYTES - 1)),
    "(total size)",
    "",
    /elsewhere/,
  ],
  ["FIFO", () => execFileSync("mkfifo", [join(site, "pipe")]), "pipe", "pipe", /remove it/],
  [
    "no index.html",
    () => fs.rmSync(join(site, "index.html")),
    "index.html",
    "(not set)",
    /add data\/www\/index.html/,
  ],
  [
    "index.html is a directory",
    () => (fs.rmSync(join(site, "index.html")), put("index.html/x.html")),
    "index.html",
    "(not set)",
    /add data\/www\/index.html/,
  ],
  [
    "index.html is a symlink",
    () => (
      fs.renameSync(join(site, "index.html"), join(site, "main.html")),
      link("main.html", "index.html")
    ),
    "index.html",
    "-> main.html",
    LINK_FIX,
  ],
  [
    ".publish lists a missing path",
    () => put(".publish", "docs/.nothing\n"),
    ".publish: docs/.nothing",
    "docs/.nothing",
    /remove the line/,
  ],
  [".publish is a directory", () => put(".publish/x"), ".publish", "directory", /plain text file/],
  [
    ".publish is a symlink",
    () => link("/etc/passwd", ".publish"),
    ".publish",
    "symlink",
    /plain text file/,
  ],
  [
    "the folder does not exist",
    () => fs.rmSync(site, { recursive: true }),
    "(folder)",
    "www",
    /fleetlab:data.www/,
  ],
  [
    "the folder is a file",
    () => (fs.rmSync(site, { recursive: true }), fs.writeFileSync(site, "x")),
    "(folder)",
    "www",
    /fleetlab:data.www/,
  ],
  [
    "the folder is a dangling link",
    () => (fs.rmSync(site, { recursive: true }), fs.symlinkSync(join(root, "no"), site)),
    "(folder)",
    "www",
    /fleetlab:data.www/,
  ],
  [
    "the folder is a link loop",
    () => (fs.rmSync(site, { recursive: true }), fs.symlinkSync(site, site)),
    "(folder)",
    "www",
    /fleetlab:data.www/,
  ],
];

describe("the www data set refuses", () => {
  test.each(cases)("%s", (_name, setup, key, value, fix) => {
    setup();
    const before = execFileSync("ls", ["-lAR", root]).toString();
    expectProblem(() => loadDataSet("www", { dhcp: "", ldap: "", www: site }, () => "data/www"), {
      file: "data/www",
      key,
      value,
      fix,
    });
    // Nothing created or changed beside the folder.
    expect(execFileSync("ls", ["-lAR", root]).toString()).toBe(before);
  });

  test("a tree of more than MAX_ENTRIES entries", () => {
    for (let i = 0; i <= MAX_ENTRIES; i++) fs.writeFileSync(join(site, `f${i}.txt`), "");
    expectProblem(() => readSite(site), {
      key: "(folder)",
      value: String(MAX_ENTRIES),
      fix: /elsewhere/,
    });
  });

  test("a refused directory is reported once, not file by file", () => {
    put(".git/config");
    put(".git/objects/ab/cdef");
    expectProblem(() => readSite(site), { key: ".git", value: ".git", fix: PUBLISH_FIX });
    expect(() => readSite(site)).toThrow(/lab data "www": 1 problem\n/);
  });
});

describe("the www data set accepts", () => {
  test("hidden files and backups the folder lists in .publish, never .publish itself", () => {
    put(".well-known/security.txt", "Contact: mailto:admin@lab.example\n");
    put("notes.txt~");
    put(".publish", "# published on purpose\n.well-known/\nnotes.txt~\n");
    put("img/logo.png", Buffer.alloc(10, 1));
    const files = unpackSite(
      Buffer.from(loadDataSet("www", { dhcp: "", ldap: "", www: site }).chunks.join(""), "base64"),
    );
    expect(files.map((f) => f.path)).toEqual([
      ".well-known/security.txt",
      "img/logo.png",
      "index.html",
      "notes.txt~",
    ]);
  });

  test("the folder itself given through a symlink (the admin's choice of path)", () => {
    fs.symlinkSync(site, join(root, "alias"));
    expect(readSite(join(root, "alias")).map((f) => f.path)).toEqual(["index.html"]);
  });
});
