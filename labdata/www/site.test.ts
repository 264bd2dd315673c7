import { DataError } from "../problems";
import { packSite, unpackSite, validateSite } from "./site";

const files = [
  { path: "index.html", data: Buffer.from("<h1>hi</h1>\n") },
  { path: "img/a.txt", data: Buffer.alloc(1500, 7) },
];

describe("site archive", () => {
  it("round-trips files and is deterministic (same files, same bytes)", () => {
    const a = packSite(files);
    expect(packSite([...files].reverse()).equals(a)).toBe(true);
    const back = unpackSite(a);
    expect(back.map((f) => f.path)).toEqual(["img/a.txt", "index.html"]);
    expect(back[0].data.equals(files[1].data)).toBe(true);
  });

  it("is readable by GNU tar", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { execFileSync } = require("child_process") as typeof import("child_process");
    const list = execFileSync("tar", ["-tzf", "-"], { input: packSite(files) }).toString();
    expect(list.trim().split("\n")).toEqual(["img/a.txt", "index.html"]);
  });

  it("rejects unsafe paths and a missing index.html", () => {
    expect(() => validateSite([{ path: "../etc/passwd", data: Buffer.alloc(1) }])).toThrow(
      DataError,
    );
    expect(() => validateSite([{ path: "a.html", data: Buffer.alloc(1) }])).toThrow(
      /data\/www: index.html = \(not set\): missing/,
    );
    expect(() => validateSite(files)).not.toThrow();
  });
});
