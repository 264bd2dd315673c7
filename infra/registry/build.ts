// The lab's own images on the management host's docker, built from containers/ and
// fleet/ by their scripts, which rebuild only when a build context changed (the
// context hash kept as a label): a warm run is a bundle and an inspect per image.
// Runs when the program runs (preview too), so the image IDs it returns, the inputs of
// the LabImage resources, always stand for the sources in the checkout: a changed
// sidekick shows in `preview` as exactly the units that run the sidekick.
import { execFileSync } from "child_process";
import * as path from "path";
import { labImage } from "../../node/images";
import { SERVICE_IMAGES } from "../../units/services";

export const LAB_IMAGES = ["fleet", ...SERVICE_IMAGES] as const;
export type LabImageName = (typeof LAB_IMAGES)[number];

const ROOT = path.join(__dirname, "..", "..");
const DOCKER = "/usr/bin/docker";

/** An image on this host's docker, to push to the lab registry as fleetlab/<name>. */
export interface LocalImage<N extends string = string> {
  name: N;
  /** The tag the build scripts give it on this host's docker. */
  ref: string;
  /** Its image ID: changes exactly when its content does. */
  id: string;
}

function run(what: string, file: string, args: string[]): void {
  try {
    execFileSync(file, args, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30 * 60_000,
    });
  } catch (e) {
    const out = e as { stdout?: Buffer; stderr?: Buffer; message: string };
    const tail = `${out.stdout ?? ""}${out.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
    throw new Error(`lab images: ${what} failed:\n${tail || out.message}`);
  }
}

/** Builds what changed of `names` (fleet/build-image.sh, containers/build.sh) and returns them. */
export function buildLabImages(
  names: readonly LabImageName[] = LAB_IMAGES,
): LocalImage<LabImageName>[] {
  if (names.includes("fleet"))
    run("fleet/build-image.sh", "bash", [path.join(ROOT, "fleet", "build-image.sh")]);
  const services = names.filter((n) => n !== "fleet");
  if (services.length)
    run("containers/build.sh", "bash", [path.join(ROOT, "containers", "build.sh"), ...services]);
  return names.map((name) => {
    const ref = labImage(name);
    const id = execFileSync(DOCKER, ["image", "inspect", "-f", "{{.Id}}", "--", ref], {
      encoding: "utf8",
    }).trim();
    return { name, ref, id };
  });
}
