// Images the lab runs but does not build: etcd's. `up` copies each into the lab
// registry (fleetlab/<name>, by digest) from this host's docker, pulling it there first
// when the host does not hold it, so the nodes need no registry but the lab's own and
// a lab on a network without internet still boots. Only the management host reaches
// the image's home registry, once, and only when its docker lacks the image.
import { execFileSync } from "child_process";
import type { LocalImage } from "./build";

export const MIRRORED_IMAGES = ["etcd"] as const;
export type MirroredImageName = (typeof MIRRORED_IMAGES)[number];

/** The stack config key that names each mirrored image, for errors. */
const CONFIG_KEY: Record<MirroredImageName, string> = { etcd: "fleetlab:etcdImage" };

const DOCKER = "/usr/bin/docker";

/** What the mirror needs of a docker engine; the real one by default, a double in tests. */
export interface DockerImages {
  /** The image ID of `ref` on this engine, or undefined when it has no such image. */
  id(ref: string): string | undefined;
  /** Pulls `ref`; throws with the engine's message. */
  pull(ref: string): void;
}

function lastLine(e: unknown): string {
  const out = e as { stderr?: Buffer | string; message?: string };
  const text = String(out.stderr ?? "").trim() || String(out.message ?? e);
  return text.split("\n").pop()!.trim();
}

export const hostDocker: DockerImages = {
  id(ref) {
    try {
      return execFileSync(DOCKER, ["image", "inspect", "-f", "{{.Id}}", "--", ref], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      }).trim();
    } catch {
      return undefined;
    }
  },
  pull(ref) {
    try {
      execFileSync(DOCKER, ["pull", "--quiet", "--", ref], {
        stdio: ["ignore", "pipe", "pipe"],
        // A first pull over a slow link; bounded so a hung registry ends the run.
        timeout: 15 * 60_000,
      });
    } catch (e) {
      throw new Error(lastLine(e));
    }
  },
};

/**
 * The image `ref` on this host's docker, pulled first if the host lacks it. `say` is told
 * before a pull (it can take minutes). A pull that fails ends the run naming the config
 * key, the image and the two ways out.
 */
export function mirrorSource(
  name: MirroredImageName,
  ref: string,
  say: (message: string) => void = () => undefined,
  docker: DockerImages = hostDocker,
): LocalImage<MirroredImageName> {
  let id = docker.id(ref);
  if (id === undefined) {
    say(`pulling ${ref} on this host to mirror it into the lab registry`);
    try {
      docker.pull(ref);
    } catch (e) {
      throw new Error(
        `${CONFIG_KEY[name]} = ${JSON.stringify(ref)}: this host's docker does not hold the image and could not pull it (${(e as Error).message}); ` +
          `fix: let this host reach the image's registry once (docker pull ${ref}), or docker load a saved copy, or set ${CONFIG_KEY[name]} to an image this host holds`,
      );
    }
    id = docker.id(ref);
    if (id === undefined)
      throw new Error(
        `${CONFIG_KEY[name]} = ${JSON.stringify(ref)}: docker pulled the image but does not list it; run docker pull ${ref} by hand and see what it says`,
      );
  }
  return { name, ref, id };
}
