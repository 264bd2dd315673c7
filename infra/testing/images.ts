// Lab images for tests that build a Lab under mocks: the names and tags the build
// scripts give, and an image ID per name (`version` changes them all), with no docker.
import { createHash } from "crypto";
import { labImage } from "../../node/images";
import type { LabImageName, LocalImage } from "../registry/build";

export function fixedLabImages(version = "1"): (names: readonly LabImageName[]) => LocalImage[] {
  return (names) =>
    names.map((name) => ({
      name,
      ref: labImage(name),
      id: `sha256:${createHash("sha256").update(`${name}:${version}`).digest("hex")}`,
    }));
}
