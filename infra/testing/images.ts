// Lab images for tests that build a Lab under mocks: the names and tags the build
// scripts give, and an image ID per name (`version` changes them all), with no docker.
import { createHash } from "crypto";
import { labImage } from "../../node/images";
import type { LabImageName, LocalImage } from "../registry/build";
import type { MirroredImageName } from "../registry/mirror";

export function fixedLabImages(
  version = "1",
): (names: readonly LabImageName[]) => LocalImage<LabImageName>[] {
  return (names) =>
    names.map((name) => ({
      name,
      ref: labImage(name),
      id: `sha256:${createHash("sha256").update(`${name}:${version}`).digest("hex")}`,
    }));
}

/** A mirror source as mirrorSource gives it, with an image ID made from the reference. */
export function fixedMirror(name: MirroredImageName, ref: string): LocalImage<MirroredImageName> {
  return { name, ref, id: `sha256:${createHash("sha256").update(ref).digest("hex")}` };
}
