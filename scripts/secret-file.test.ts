// Secret files are written atomically with their final mode: never through an
// existing file's looser mode, never through a symlink, no temp file left behind.
import * as fs from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { writeSecretFile } from "./secret-file";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(join(tmpdir(), "flt-secret-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
const mode = (f: string) => fs.statSync(f).mode & 0o777;

test("a new file is 0600 with the content", () => {
  writeSecretFile(join(dir, "a.ign"), "key");
  expect(mode(join(dir, "a.ign"))).toBe(0o600);
  expect(fs.readFileSync(join(dir, "a.ign"), "utf8")).toBe("key");
  expect(fs.readdirSync(dir)).toEqual(["a.ign"]);
});

test("an existing 0644 file is replaced by a new 0600 file, not rewritten in place", () => {
  const f = join(dir, "a.ign");
  fs.writeFileSync(f, "old", { mode: 0o644 });
  fs.chmodSync(f, 0o644);
  const held = fs.openSync(f, "r"); // a reader of the old file keeps the old content
  const ino = fs.statSync(f).ino;
  writeSecretFile(f, "secret");
  expect(mode(f)).toBe(0o600);
  expect(fs.statSync(f).ino).not.toBe(ino);
  expect(fs.readFileSync(held, "utf8")).toBe("old");
  fs.closeSync(held);
});

test("a symlink at the destination is replaced; its target is never written", () => {
  const target = join(dir, "elsewhere");
  fs.writeFileSync(target, "untouched", { mode: 0o644 });
  fs.symlinkSync(target, join(dir, "a.ign"));
  writeSecretFile(join(dir, "a.ign"), "secret");
  expect(fs.lstatSync(join(dir, "a.ign")).isSymbolicLink()).toBe(false);
  expect(fs.readFileSync(target, "utf8")).toBe("untouched");
  expect(mode(join(dir, "a.ign"))).toBe(0o600);
});

test("a dangling symlink at the destination creates nothing at its target", () => {
  fs.symlinkSync(join(dir, "created-by-link"), join(dir, "a.ign"));
  writeSecretFile(join(dir, "a.ign"), "secret");
  expect(fs.existsSync(join(dir, "created-by-link"))).toBe(false);
});

test("a directory at the destination is a clear error and leaves no temp file", () => {
  fs.mkdirSync(join(dir, "a.ign"));
  expect(() => writeSecretFile(join(dir, "a.ign"), "secret")).toThrow(/is a directory/);
  expect(fs.readdirSync(dir)).toEqual(["a.ign"]);
});
