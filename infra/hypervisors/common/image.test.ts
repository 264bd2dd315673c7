// The download and its checks against files on this machine (file:// URLs: curl runs
// for real, nothing leaves the host). The signing key is a throwaway one.
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
  FLATCAR_KEY_FINGERPRINT,
  FLATCAR_SIGNING_KEY,
  fetchSigned,
  fetchUrl,
  verifySha256,
} from "./image";
import { imageSandbox } from "./testing/signer";

jest.setTimeout(60_000);

const box = imageSandbox("fleetlab-image-");
let tmp: string;
let www: string;
const url = (name: string): string => `file://${path.join(www, name)}`;
const sha = (s: string): string => crypto.createHash("sha256").update(s).digest("hex");

beforeAll(() => {
  tmp = box.dir;
  www = path.join(tmp, "www");
  fs.mkdirSync(www);
});

describe("sha256-checked URL image", () => {
  it("rejects a mismatch naming the key, both sums and the fix, and caches nothing", () => {
    fs.writeFileSync(path.join(www, "bad.img"), "not the image you are looking for");
    const want = "0".repeat(64);
    expect(() => fetchUrl(url("bad.img"), want)).toThrow(
      `fleetlab:hypervisor.image.sha256 = ${want} does not match the downloaded image ` +
        `(sha256 ${sha("not the image you are looking for")}, `,
    );
    expect(fs.readdirSync(path.join(tmp, "downloads", "sha256"))).toEqual([]);
  });

  it("caches a matching image under its sha256 and reuses it without downloading again", () => {
    fs.writeFileSync(path.join(www, "good.img"), "a disk image");
    const file = fetchUrl(url("good.img"), sha("a disk image"));
    expect(file).toBe(path.join(tmp, "downloads", "sha256", sha("a disk image")));
    expect(fs.readFileSync(file, "utf8")).toBe("a disk image");
    fs.rmSync(path.join(www, "good.img"));
    expect(fetchUrl(url("good.img"), sha("a disk image"))).toBe(file);
  });

  it("says which key holds the wrong checksum", () => {
    const f = path.join(tmp, "x");
    fs.writeFileSync(f, "x");
    expect(() => verifySha256(f, "00", "some.key")).toThrow(/^some\.key = 00 does not match/);
    expect(() => verifySha256(f, sha("x"), "some.key")).not.toThrow();
  });
});

describe("signed download", () => {
  const publish = (name: string, content: string): void => {
    fs.writeFileSync(path.join(www, name), content);
    box.signer.sign(path.join(www, name));
  };

  it("returns the download once its signature matched, and the cache after that", () => {
    publish("signed.img", "signed bytes");
    const file = path.join(tmp, "signed.img");
    const got = fetchSigned({
      url: url("signed.img"),
      file,
      what: "test image",
      key: box.signer.key,
    });
    expect(got).toBe(file);
    expect(fs.readFileSync(got, "utf8")).toBe("signed bytes");
    expect(fs.readFileSync(`${file}.verified`, "utf8")).toContain(FLATCAR_KEY_FINGERPRINT);
    // Cached and verified: no download (the source is gone).
    fs.rmSync(path.join(www, "signed.img"));
    expect(
      fetchSigned({ url: url("signed.img"), file, what: "test image", key: box.signer.key }),
    ).toBe(file);
  });

  it("rejects bytes the key did not sign, removes them and never unpacks them", () => {
    publish("tampered.img", "signed bytes");
    fs.appendFileSync(path.join(www, "tampered.img"), "tampered");
    const file = path.join(tmp, "tampered.img");
    const run = jest.fn();
    expect(() =>
      fetchSigned({
        url: url("tampered.img"),
        file,
        what: "test image",
        key: box.signer.key,
        unpack: { to: `${file}.out`, run },
      }),
    ).toThrow(/^test image: OpenPGP signature check FAILED for /);
    expect(run).not.toHaveBeenCalled();
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(`${file}.out.verified`)).toBe(false);
  });

  it("unpacks after the check and marks the unpacked file verified", () => {
    publish("packed.img", "packed");
    const file = path.join(tmp, "packed.img");
    const to = path.join(tmp, "unpacked.img");
    const unpack = { to, run: (f: string) => fs.writeFileSync(to, `${fs.readFileSync(f)}!`) };
    const img = { url: url("packed.img"), file, what: "test image", key: box.signer.key, unpack };
    expect(fetchSigned(img)).toBe(to);
    expect(fs.readFileSync(to, "utf8")).toBe("packed!");
    expect(fs.existsSync(`${to}.verified`)).toBe(true);
  });

  it("ships Flatcar's signing key (by fingerprint) next to the code", () => {
    const r = spawnSync("gpg", ["--batch", "--show-keys", "--with-colons", FLATCAR_SIGNING_KEY], {
      encoding: "utf8",
    });
    expect(r.stdout).toContain(`fpr:::::::::${FLATCAR_KEY_FINGERPRINT}:`);
  });
});
