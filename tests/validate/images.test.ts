// The lab images' repository and version are written once for the TypeScript side
// (node/images.ts, from package.json) and read by the shell scripts that build and bake
// the images (containers/lib.sh): both must name the same images.
import { execFileSync } from "child_process";
import * as path from "path";
import { IMAGE_VERSION, labImage } from "../../node/images";
import { DEFAULTS } from "../../infra/config/keys";
import { DEFAULT_SERVICE_UNIT_OPTIONS } from "../../units/services";
import { version } from "../../package.json";

const ROOT = path.join(__dirname, "../..");
const fromShell = (expr: string, env: Record<string, string> = {}) => {
  const clean = { ...process.env, ...env };
  for (const k of ["FLEETLAB_IMAGE_REPO", "FLEETLAB_IMAGE_VERSION", "FLEETLAB_FLEET_IMAGE"])
    if (!(k in env)) delete clean[k];
  return execFileSync("bash", ["-c", `. containers/lib.sh && echo "${expr}"`], {
    cwd: ROOT,
    env: clean,
    encoding: "utf8",
  }).trim();
};

test("the image version is the project's, on both sides", () => {
  expect(IMAGE_VERSION).toBe(version);
  expect(fromShell("$FLEETLAB_IMAGE_VERSION")).toBe(version);
});

test("the shell scripts name the images the program runs", () => {
  expect(fromShell("$FLEETLAB_FLEET_IMAGE")).toBe(DEFAULTS.fleetImage);
  const o = DEFAULT_SERVICE_UNIT_OPTIONS;
  expect(fromShell("$FLEETLAB_IMAGE_REPO/www:$FLEETLAB_IMAGE_VERSION")).toBe(o.images.www);
});

test("a version set for one build reaches every image name of it", () => {
  expect(fromShell("$FLEETLAB_FLEET_IMAGE", { FLEETLAB_IMAGE_VERSION: "bench" })).toBe(
    labImage("fleet", undefined, "bench"),
  );
});
