// Where the lab's own images come from: one repository and one version for all of them
// (the fleet agent, the service images, the sidekick). The version is the project's
// own (package.json), which the shell scripts read too (containers/lib.sh), so a
// release changes it in one place.
import { version } from "../package.json";

export const IMAGE_REPO = "ghcr.io/fleetlab";
export const IMAGE_VERSION: string = version;

/** A lab image's reference, e.g. ghcr.io/fleetlab/www:0.1.0. */
export function labImage(name: string, repo = IMAGE_REPO, tag = IMAGE_VERSION): string {
  return `${repo}/${name}:${tag}`;
}
