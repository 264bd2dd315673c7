// How the node's Docker is started and how fleetlab's own containers run under it.
import { DOCKER_UNIT } from "../../node/paths";
import type { IgnitionLink, IgnitionUnit } from "./types";

/**
 * Docker on at boot, the way Flatcar documents it for current releases
 * (flatcar/flatcar-website, content/docs/latest/container-runtimes/
 * getting-started-with-docker.md, "Permanently running a container"): `enabled: true`
 * plus a multi-user.target.wants link, which the page says releases from the 3761
 * major on need (it gives no reason; we take it to be Docker moving into a
 * systemd-sysext image, flatcar/scripts PR 1216, so its unit is not on disk when
 * Ignition's presets apply; not checked). etcd and the fleet agent
 * Require docker.service, so they would start it anyway; the link makes a node's
 * Docker come up at boot like the docs say, not on the first client.
 */
export const DOCKER_ENABLED_UNIT: IgnitionUnit = { name: DOCKER_UNIT, enabled: true };
export const DOCKER_WANTS_LINK: IgnitionLink = {
  path: `/etc/systemd/system/multi-user.target.wants/${DOCKER_UNIT}`,
  target: `/usr/lib/systemd/system/${DOCKER_UNIT}`,
  hard: false,
  overwrite: true,
};

/**
 * CPU for the lab's own daemons first. Under cgroup v2 (Flatcar's, and the test
 * image's) runc turns a container's `--cpu-shares` into cpu.weight as
 * 1 + (shares - 2) * 9999 / 262142; a container started without it keeps the kernel's
 * default weight, 100 (the e2e reads 100 for the service containers), the same as
 * docker.service and containerd.service beside it in system.slice. A node pulling images
 * (the unpacking runs in those daemons) then starved its etcd member and fleet agent,
 * one weight among equals: on the emulated e2e lab two agents of three missed
 * their renewals while their first service images unpacked, fenced, and every unit
 * moved to the third node. 26214 shares give a weight of 1000, ten times a daemon's,
 * so the lease holder and the quorum keep their time whatever the workloads do.
 */
export const HOST_CONTAINER_CPU_SHARES = 26214;

/**
 * The weight of the units that run those containers, for what runs in the unit's own
 * cgroup: the fleet agent's watcher (a missed deadline there stops every fleet unit) and
 * etcd's join script (bounded waits on its peers).
 */
export const HOST_UNIT_CPU_WEIGHT = 1000;

/**
 * `docker run` options for fleetlab's host-level containers (the etcd member, its join
 * helper and the fleet agent). Flatcar runs Docker with SELinux support and SELinux
 * permissive by default; an admin may turn enforcing on (Flatcar's "SELinux on Flatcar
 * Container Linux" page: setenforce 1, or a permanent /etc/selinux/config). Then a
 * container's own label (svirt/container_t) may not use the host's D-Bus socket or
 * the unlabelled bind mounts (/var/lib/etcd, /etc/fleetlab/tls, /run/fleet), which is
 * exactly what these containers are for. `label=disable` runs them without label
 * separation (Docker's `--security-opt` reference), as host daemons run; relabelling
 * the mounts with `:z` instead would change labels on host paths others use. The CPU
 * shares are above.
 */
export const HOST_CONTAINER_OPTS = [
  "--security-opt",
  "label=disable",
  `--cpu-shares=${HOST_CONTAINER_CPU_SHARES}`,
];
