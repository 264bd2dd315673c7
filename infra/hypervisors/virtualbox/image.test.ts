// Flatcar's VirtualBox image is a signed .bz2: fetched through the shared signed download
// and decompressed only after the check (file:// URLs, a throwaway key; no network).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { imageSandbox } from "../common/testing/signer";
import { FLATCAR_VBOX_FILE, fetchFlatcarVirtualBox } from "./image";

jest.setTimeout(60_000);

const box = imageSandbox("fleetlab-vbox-image-");

it("downloads the signed .bz2, checks it, and returns the decompressed vmdk", () => {
  const tmp = box.dir;
  const vmdk = path.join(tmp, "published.vmdk");
  fs.writeFileSync(vmdk, "a vmdk disk");
  expect(spawnSync("bzip2", [vmdk]).status).toBe(0);
  box.signer.sign(`${vmdk}.bz2`);
  const got = fetchFlatcarVirtualBox("stable", "1.2.3", {
    key: box.signer.key,
    url: `file://${vmdk}.bz2`,
  });
  const dir = path.join(tmp, "downloads", "flatcar-virtualbox", "stable", "1.2.3");
  expect(got).toBe(path.join(dir, FLATCAR_VBOX_FILE));
  expect(fs.readFileSync(got, "utf8")).toBe("a vmdk disk");
  expect(fs.existsSync(`${got}.verified`)).toBe(true);
});
