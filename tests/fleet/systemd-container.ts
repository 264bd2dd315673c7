// A container whose PID 1 is systemd (the fleet image plus systemd and dbus, built by
// scripts/setup.d/45-fleet-image.sh), on the host network so its agent reaches the
// test's etcd on 127.0.0.1. FLEETLAB_FLEET_BUNDLE mounts a bundle of the working tree
// (esbuild fleet/main.ts) over the image's, to test code newer than the image.
import { execFileSync } from "child_process";
import { waitFor } from "../support/wait";

export const DOCKER = "/usr/bin/docker";
const IMAGE = process.env.FLEETLAB_FLEET_SYSTEMD_IMAGE ?? "fleetlab/fleet-systemd-test:latest";
const BUNDLE = process.env.FLEETLAB_FLEET_BUNDLE;

export const docker = (...args: string[]): string =>
  execFileSync(DOCKER, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

export interface SystemdContainer {
  id: string;
  /** run a command inside; its stdout (also when it exits non-zero) */
  inside(...cmd: string[]): string;
  /** write a file inside */
  write(path: string, contents: string, mode?: string): void;
  remove(): void;
}

export async function startSystemdContainer(name: string): Promise<SystemdContainer> {
  const id = docker(
    "run",
    "-d",
    "--rm",
    "--name",
    `${name}-${process.pid}`,
    "--net=host",
    "--cap-add",
    "SYS_ADMIN",
    "--security-opt",
    "seccomp=unconfined",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
    "-v",
    "/sys/fs/cgroup:/sys/fs/cgroup:ro",
    ...(BUNDLE ? ["-v", `${BUNDLE}:/usr/lib/fleet/lib/fleet.js:ro`] : []),
    IMAGE,
  );
  const inside = (...cmd: string[]) => {
    try {
      return docker("exec", id, ...cmd);
    } catch (e) {
      return ((e as { stdout?: string }).stdout ?? "").trim();
    }
  };
  const c: SystemdContainer = {
    id,
    inside,
    write: (path, contents, mode = "644") => {
      execFileSync(
        DOCKER,
        ["exec", "-i", id, "sh", "-c", `cat >'${path}' && chmod ${mode} '${path}'`],
        {
          input: contents,
        },
      );
    },
    remove: () => {
      docker("rm", "-f", id);
    },
  };
  try {
    await waitFor(
      "systemd up in the container",
      () => /^(running|degraded)$/.test(inside("systemctl", "is-system-running")),
      60_000,
      500,
    );
  } catch (e) {
    c.remove();
    throw e;
  }
  return c;
}

/**
 * When systemd logged `<verb> <unit>` ("Started", "Stopped"), as epoch ms, from its
 * journal: systemd's own record, which outlives the unit (a stopped unit that nothing
 * references is unloaded, and its timestamp properties with it).
 */
export function unitEvents(c: SystemdContainer, unit: string, verb: string): number[] {
  const out = c.inside("journalctl", "-u", unit, "-o", "json", "--no-pager");
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { MESSAGE?: string; __REALTIME_TIMESTAMP: string })
    .filter((e) => typeof e.MESSAGE === "string" && e.MESSAGE.startsWith(`${verb} `))
    .map((e) => Number(e.__REALTIME_TIMESTAMP) / 1000);
}
