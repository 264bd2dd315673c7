// Typed fleet units for the lab's services: each service container plus a sidekick
// that feeds it from etcd. Pure: options in, unit files out. Placement lives in
// [X-Fleet]:
//   - DHCP only on machines with metadata lan=true (it must sit on the lab LAN);
//   - every sidekick MachineOf its service (it shares the service's directory);
//   - LDAP replicas Conflicts with each other, so two never share a machine;
//   - WWW anywhere;
//   - each image pulled ahead on every machine that may run it (Global prefetch units),
//     and each data set rendered ahead there (Global warm units): hot standby.
// A service unit is active once its daemon is up (an ExecStartPost waits for it).
import { execLine } from "../node/systemd";
import { DOCKER_UNIT, ETCD_ENV_PATH, TLS_DIR } from "../node/paths";
import { AUTO_INTERFACES } from "../containers/dhcp/interfaces";
import { labImage } from "../node/images";
import { renderUnitDefinition, type XFleetOptions } from "./unit";

/** The images the service units run. */
export const SERVICE_IMAGES = ["dhcp", "www", "ldap", "sidekick"] as const;
export type ServiceImage = (typeof SERVICE_IMAGES)[number];

export interface ServiceUnitOptions {
  /**
   * The reference each unit runs: the lab registry's by digest in a lab
   * (`<registry>/fleetlab/www@sha256:...`, infra/registry), a tag elsewhere.
   */
  images: Record<ServiceImage, string>;
  /**
   * The node's interface on the lab LAN, where Kea answers (e.g. eth1), or `auto`:
   * the sidekick picks the interfaces with an IPv4 address inside the DHCP data's
   * subnet (containers/dhcp/interfaces.ts), because the NIC's name differs per OS
   * and hypervisor (eth0, ens3, enp1s0...).
   */
  dhcpInterface: string;
  /** Host ports for WWW (nginx listens on 8080 inside) and LDAP (1389 inside). */
  wwwPort: number;
  ldapPort: number;
  /** Number of LDAP replicas; each is seeded from etcd by its own sidekick. */
  ldapReplicas: number;
}

export const DEFAULT_SERVICE_UNIT_OPTIONS: ServiceUnitOptions = {
  images: {
    dhcp: labImage("dhcp"),
    www: labImage("www"),
    ldap: labImage("ldap"),
    sidekick: labImage("sidekick"),
  },
  dhcpInterface: AUTO_INTERFACES,
  wwwPort: 80,
  ldapPort: 389,
  ldapReplicas: 1,
};

export interface FleetUnitFile {
  name: string;
  text: string;
  /** The one image the unit runs: a changed image changes exactly these units. */
  image: ServiceImage;
}

const DOCKER = "/usr/bin/docker";

/** [registry[:port]/]path[:tag][@sha256:hex], starting with a letter or digit. */
const IMAGE_REFERENCE =
  /^[a-z0-9][a-z0-9._-]*(:\d+)?(\/[a-z0-9][a-z0-9._-]*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;
export const RUN_ROOT = "/run/fleetlab";

interface ContainerSpec {
  unit: string;
  container: string;
  description: string;
  /** docker run arguments between the name and the image. */
  args: string[][];
  image: ServiceImage;
  images: ServiceUnitOptions["images"];
  command?: string[];
  xfleet: XFleetOptions;
  /** Sidekicks: the service unit they belong to (BindsTo). */
  bindsTo?: string;
  /** Sidekicks: start only once that unit is active (After=), i.e. its daemon is up. */
  afterService?: boolean;
  /**
   * Services: the file the daemon makes once it is up, in the shared run directory. The
   * unit becomes active only when it exists (`fleetctl list-units` then tells the truth);
   * one left by an earlier container is removed before the start.
   */
  ready?: { path: string; kind: "file" | "socket" };
  /** Services: the data set whose warm copy (warmUnits) seeds the run directory. */
  warmFrom?: DataSet;
}

/** How long a start waits for its daemon: the image's pull can take minutes. */
const READY_SECONDS = 600;

/**
 * Polls, bounded, for a non-empty file or a socket; a unit that gives up fails, and
 * Restart= tries again.
 */
function waitFor(ready: NonNullable<ContainerSpec["ready"]>): string[] {
  const test = ready.kind === "socket" ? "-S" : "-s";
  return [
    "/bin/sh",
    "-c",
    `i=0; while [ ! ${test} "$1" ]; do i=$((i + 1)); [ "$i" -le ${READY_SECONDS * 2} ] || { echo "no $1 after ${READY_SECONDS} s" >&2; exit 1; }; sleep 0.5; done`,
    "wait-until-ready",
    ready.path,
  ];
}

/** A unit that runs one container and removes it on stop (no state on the node). */
function containerUnit(c: ContainerSpec): FleetUnitFile {
  const deps = c.bindsTo && c.afterService ? `${DOCKER_UNIT} ${c.bindsTo}` : DOCKER_UNIT;
  const text = renderUnitDefinition({
    name: c.unit,
    unit: {
      Description: c.description,
      Requires: DOCKER_UNIT,
      BindsTo: c.bindsTo,
      After: deps,
    },
    service: {
      // docker pulls on first start; never let systemd kill that as a slow start.
      TimeoutStartSec: 0,
      Restart: "always",
      RestartSec: 2,
      ExecStartPre: [
        `-${execLine([DOCKER, "rm", "-f", c.container])}`,
        execLine(["/usr/bin/mkdir", "-p", `${RUN_ROOT}/${c.container.replace(/-sidekick$/, "")}`]),
        ...(c.ready ? [execLine(["/usr/bin/rm", "-f", "--", c.ready.path])] : []),
        ...(c.warmFrom ? [`-${execLine(warmCopy(c.warmFrom, c.container))}`] : []),
      ],
      ExecStart: execLine([DOCKER, "run", "--rm", `--name=${c.container}`], ...c.args, [
        c.images[c.image],
        ...(c.command ?? []),
      ]),
      ExecStartPost: c.ready ? execLine(waitFor(c.ready)) : undefined,
      ExecStop: execLine([DOCKER, "stop", c.container]),
    },
    xfleet: c.xfleet,
  });
  return { name: c.unit, text, image: c.image };
}

const runDir = (svc: string) => ["-v", `${RUN_ROOT}/${svc}:${RUN_ROOT}/${svc}`];

/** The data sets the sidekicks render (containers/sidekick/appliers.ts). */
type DataSet = "dhcp" | "www" | "ldap";
const DATA_SETS: DataSet[] = ["dhcp", "www", "ldap"];

/** Where a machine keeps hot standby's rendered copy of a data set. */
const WARM_ROOT = `${RUN_ROOT}/warm`;

/**
 * Hot standby's copy into a service's run directory, before its container starts: the
 * daemon then starts on the data. No file already there is replaced (-n): the
 * service's own sidekick, started alongside, may have rendered newer data first. A
 * machine without a copy yet (it fails, the unit goes on: `-`) starts as before, the
 * daemon waiting for its sidekick.
 */
function warmCopy(set: DataSet, container: string): string[] {
  return ["/usr/bin/cp", "-a", "-n", "--", `${WARM_ROOT}/${set}/.`, `${RUN_ROOT}/${container}/`];
}

/** The sidekick of `svc`: etcd (TLS) from the node's etcd.env, the shared directory. */
function sidekick(
  o: ServiceUnitOptions,
  svc: string,
  serviceUnit: string,
  container: string,
  extra: string[][] = [],
  afterService = false,
): FleetUnitFile {
  return containerUnit({
    unit: serviceUnit.replace(/^([^@.]+)/, "$1-sidekick"),
    container: `${container}-sidekick`,
    description: `fleetlab ${svc} sidekick: renders lab data from etcd into ${container}`,
    args: [
      ["--net=host"],
      runDir(container),
      ["-v", `${TLS_DIR}:${TLS_DIR}:ro`],
      ["--env-file", ETCD_ENV_PATH],
      ["-e", `FLEETLAB_RUN=${RUN_ROOT}/${container}`],
      ...extra,
    ],
    image: "sidekick",
    images: o.images,
    command: [svc],
    xfleet: { machineOf: serviceUnit },
    bindsTo: serviceUnit,
    afterService,
  });
}

/** DHCP must sit on the lab LAN: only machines that say they do (metadata lan=true). */
const DHCP_PLACEMENT: XFleetOptions = { machineMetadata: { lan: "true" } };

export function dhcpUnits(o: ServiceUnitOptions): FleetUnitFile[] {
  return [
    containerUnit({
      unit: "dhcp.service",
      container: "dhcp",
      description: "fleetlab DHCP (Kea DHCPv4) on the lab LAN",
      // Host network: DHCP is layer 2 and must answer on the node's LAN link.
      args: [["--net=host"], runDir("dhcp")],
      image: "dhcp",
      images: o.images,
      xfleet: DHCP_PLACEMENT,
      warmFrom: "dhcp",
      // Kea opens it once it runs (its placeholder config until the sidekick's).
      ready: { path: `${RUN_ROOT}/dhcp/kea4-ctrl.sock`, kind: "socket" },
    }),
    // Not ordered after Kea: it starts alongside and pushes the config when Kea is up.
    sidekick(o, "dhcp", "dhcp.service", "dhcp", [
      ["-e", `FLEETLAB_DHCP_INTERFACES=${o.dhcpInterface}`],
    ]),
  ];
}

export function wwwUnits(o: ServiceUnitOptions): FleetUnitFile[] {
  return [
    containerUnit({
      unit: "www.service",
      container: "www",
      description: "fleetlab WWW (nginx)",
      args: [["-p", `${o.wwwPort}:8080`], runDir("www")],
      image: "www",
      images: o.images,
      xfleet: {},
      warmFrom: "www",
      // nginx's master writes it once it listens (its placeholder site until the
      // sidekick's; containers/www/entrypoint.sh).
      ready: { path: `${RUN_ROOT}/www/nginx.pid`, kind: "file" },
    }),
    // Shares nginx's PID namespace so it can SIGHUP the master after a config change:
    // that namespace exists once nginx runs, so it starts after www.service is active
    // (before, it failed `docker run` and restarted until the www image was pulled).
    sidekick(o, "www", "www.service", "www", [["--pid=container:www"]], true),
  ];
}

export function ldapUnits(o: ServiceUnitOptions): FleetUnitFile[] {
  const n = o.ldapReplicas;
  const replicas =
    n === 1
      ? [{ unit: "ldap.service", container: "ldap" }]
      : Array.from({ length: n }, (_, i) => ({
          unit: `ldap@${i + 1}.service`,
          container: `ldap-${i + 1}`,
        }));
  return replicas.flatMap(({ unit, container }) => [
    containerUnit({
      unit,
      container,
      description: `fleetlab LDAP (OpenLDAP slapd)${n > 1 ? ` replica ${container}` : ""}`,
      args: [["-p", `${o.ldapPort}:1389`], runDir(container)],
      image: "ldap",
      images: o.images,
      // Replicas publish the same port, and one machine holding two would make a
      // machine failure take both: keep them apart.
      xfleet: n > 1 ? { conflicts: "ldap@*.service" } : {},
      warmFrom: "ldap",
      // slapd opens it once it runs, and it runs only on a config its sidekick renders
      // (or the warm copy brought): so the sidekick must not wait for this unit (After=).
      ready: { path: `${RUN_ROOT}/${container}/ldapi`, kind: "socket" },
    }),
    sidekick(o, "ldap", unit, container),
  ]);
}

/** Every service unit, validated options first. */
/** What a caller may set: any option, and any of the images. */
export type ServiceUnitOverrides = Partial<Omit<ServiceUnitOptions, "images">> & {
  images?: Partial<ServiceUnitOptions["images"]>;
};

export function serviceUnits(partial: ServiceUnitOverrides = {}): FleetUnitFile[] {
  const o = {
    ...DEFAULT_SERVICE_UNIT_OPTIONS,
    ...partial,
    // An image left undefined keeps its default.
    images: {
      ...DEFAULT_SERVICE_UNIT_OPTIONS.images,
      ...Object.fromEntries(
        Object.entries(partial.images ?? {}).filter(([, v]) => v !== undefined),
      ),
    },
  };
  const problems: string[] = [];
  if (!Number.isInteger(o.ldapReplicas) || o.ldapReplicas < 1 || o.ldapReplicas > 9) {
    problems.push(
      `ldapReplicas = ${JSON.stringify(o.ldapReplicas)}: must be an integer from 1 to 9; fix: use 1, or one per machine`,
    );
  }
  for (const k of ["wwwPort", "ldapPort"] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1 || o[k] > 65535)
      problems.push(`${k} = ${JSON.stringify(o[k])}: not a TCP port; fix: use 1-65535`);
  }
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(o.dhcpInterface)) {
    problems.push(
      `dhcpInterface = ${JSON.stringify(o.dhcpInterface)}: not an interface name; fix: use ${AUTO_INTERFACES} (the interface in the DHCP subnet), or the node's LAN link, e.g. eth1`,
    );
  }
  // Each ends up as the image argument of `docker run`: one starting with '-' would be
  // read as an option.
  for (const name of SERVICE_IMAGES) {
    const ref = o.images[name];
    if (typeof ref !== "string" || !IMAGE_REFERENCE.test(ref))
      problems.push(
        `images.${name} = ${JSON.stringify(ref)}: not an image reference; fix: e.g. ${DEFAULT_SERVICE_UNIT_OPTIONS.images[name]} or <registry>/fleetlab/${name}@sha256:<hex>`,
      );
  }
  if (problems.length > 0) throw new Error(`service units: ${problems.join("; ")}`);
  return [...dhcpUnits(o), ...wwwUnits(o), ...ldapUnits(o), ...prefetchUnits(o), ...warmUnits(o)];
}

/**
 * The machines each image (and each service's data set) may be needed on: those its
 * units' [X-Fleet] machine rules allow (Conflicts and MachineOf say where among them,
 * not which machines qualify; a sidekick goes wherever any service goes, and WWW may go
 * anywhere).
 */
const STANDBY_PLACEMENT: Record<ServiceImage, XFleetOptions> = {
  dhcp: DHCP_PLACEMENT,
  www: {},
  ldap: {},
  sidekick: {},
};

/** How long hot standby yields to the node's own starts before it goes on anyway. */
const YIELD_SECONDS = 300;
/** Each poll runs sh, sleep, systemctl and grep: real CPU on an emulated node. */
const YIELD_POLL_SECONDS = 5;

/**
 * The warm containers' CPU shares: the lowest cgroup v2 cpu.weight, 1 (runc's mapping is
 * in infra/ignition/docker.ts), against the kernel's default 100 for a service or
 * sidekick container, which sets none (the e2e reads both on every node). The yield
 * below does not cover everything: a sidekick's start job ends when its container runs,
 * before its Node.js start and first render, so the node may look quiet while those
 * still run. With the lowest weight the warm processes get
 * only the CPU the node's own services leave idle, and all of it once those are up.
 */
export const STANDBY_CPU_SHARES = 2;

/** Hot standby's own units: a node's yield (below) does not wait for them. */
const STANDBY_SUFFIXES = ["-prefetch.service", "-warm.service"];

/**
 * One lock per node for hot standby's steps: the yield (one poller at a time) and each
 * pull (one pull at a time). A lock, not After= between the units, because fleet units
 * reach a machine one by one as they are submitted, and an After= or Wants= on a unit
 * systemd has not loaded yet orders nothing: in the faculty e2e a warm unit loaded before
 * the sidekick's prefetch started at once, 87 s before that prefetch, beside the node's
 * first service pulls. flock(1) is util-linux's, on Flatcar and on the stand-in image;
 * a unit waiting for it costs no CPU. A file in /run: gone with the boot that held it.
 */
const STANDBY_LOCK = "/run/fleetlab-standby.lock";
const standbyLocked = (argv: string[]): string[] => ["/usr/bin/flock", STANDBY_LOCK, ...argv];

/**
 * Waits until systemd has no job on the node but hot standby's, on two polls in a row,
 * bounded, under the standby lock. So the node's own services start first: with the pulls
 * ahead of need beside them, a one-vCPU emulated node started every service a minute
 * later. systemd's job list is the node's own truth; the engine does not know or care.
 * Under the lock one unit polls at a time: four polling at once, every 3 s, starved an
 * emulated node's services.
 */
function yieldToNode(): string[] {
  const polls = Math.ceil(YIELD_SECONDS / YIELD_POLL_SECONDS);
  return standbyLocked([
    "/bin/sh",
    "-c",
    `quiet=0; i=0; while [ "$quiet" -lt 2 ]; do i=$((i + 1)); [ "$i" -le ${polls} ] || { echo "the node still starts units after ${YIELD_SECONDS} s; going on anyway" >&2; exit 0; }; sleep ${YIELD_POLL_SECONDS}; if /usr/bin/systemctl list-jobs --no-legend | grep -qvF ${STANDBY_SUFFIXES.map((_, i) => `-e "$${i + 1}"`).join(" ")}; then quiet=0; else quiet=$((quiet + 1)); fi; done`,
    "yield-to-node",
    // A job line is "<id> <unit> <type> <state>": the space ends the unit's name.
    ...STANDBY_SUFFIXES.map((s) => `${s} `),
  ]);
}

/**
 * Hot standby, its image half: one Global unit per image that pulls it on every machine
 * that could run it, ahead of need. A service that moves then starts from an image
 * already there instead of a pull, which under emulation was most of a failover. It
 * only pulls: it binds no port and runs no daemon, so it can never serve. It pulls once
 * the node's own units have started (yieldToNode), one pull at a time on the node (the
 * standby lock), in name order where the units arrived together (After=). An image
 * changed by digest changes its unit, so a rollout pulls the new image everywhere. A failed pull (the registry not reachable yet) is
 * tried again.
 */
export function prefetchUnits(o: ServiceUnitOptions): FleetUnitFile[] {
  const name = (image: ServiceImage) => `${image}-prefetch.service`;
  // In name order, the order the agent queues a machine's units in: an After= orders
  // two jobs only when the earlier is queued first. Each is After= every earlier one
  // (DHCP's exists only where lan=true; an After= on a unit not there orders nothing).
  const inOrder = [...SERVICE_IMAGES].sort((a, b) => name(a).localeCompare(name(b)));
  return inOrder.map((image, i) => {
    const earlier = inOrder.slice(0, i).map(name);
    const text = renderUnitDefinition({
      name: name(image),
      unit: {
        Description: `fleetlab: pulls the ${image} image ahead of need (hot standby)`,
        Requires: DOCKER_UNIT,
        After: [DOCKER_UNIT, ...earlier].join(" "),
      },
      service: {
        Type: "oneshot",
        RemainAfterExit: true,
        // A pull under emulation takes minutes; never let systemd call that a failure.
        TimeoutStartSec: 0,
        Restart: "on-failure",
        RestartSec: 10,
        ExecStartPre: execLine(yieldToNode()),
        ExecStart: execLine(standbyLocked([DOCKER, "pull", o.images[image]])),
      },
      xfleet: { ...STANDBY_PLACEMENT[image], global: true },
    });
    return { name: name(image), text, image };
  });
}

/**
 * Hot standby, its data half: one Global unit per data set, on every machine that could
 * run its service (placed like it), running the sidekick in `warm` mode: it renders the
 * data set from etcd into the machine's warm directory and keeps it current, like a
 * sidekick, but touches no daemon, binds no port and serves nothing. A service that
 * moves there copies it into its run directory before its daemon starts (warmCopy), so
 * the daemon starts on the data instead of waiting for its sidekick's Node.js start and
 * render (slapd loads the LDAP seed with slapadd first: containers/ldap/entrypoint.sh).
 * It starts once the node's own units have started (its own yield, under the standby
 * lock: it does not rely on its prefetch's unit being loaded first), after the sidekick
 * image's pull where that unit is there (Wants= and After=), so it adds no pull of its
 * own. Its container has the lowest CPU weight (STANDBY_CPU_SHARES), so it takes only CPU
 * the node's own services leave idle.
 */
export function warmUnits(o: ServiceUnitOptions): FleetUnitFile[] {
  return DATA_SETS.map((set) => {
    const name = `${set}-warm.service`;
    const container = `${set}-warm`;
    const dir = `${WARM_ROOT}/${set}`;
    const prefetch = "sidekick-prefetch.service";
    const text = renderUnitDefinition({
      name,
      unit: {
        Description: `fleetlab: keeps the ${set} data rendered ahead of need (hot standby; never serves)`,
        Requires: DOCKER_UNIT,
        Wants: prefetch,
        After: `${DOCKER_UNIT} ${prefetch}`,
      },
      service: {
        TimeoutStartSec: 0,
        Restart: "always",
        RestartSec: 10,
        ExecStartPre: [
          `-${execLine([DOCKER, "rm", "-f", container])}`,
          execLine(["/usr/bin/mkdir", "-p", dir]),
          execLine(yieldToNode()),
        ],
        ExecStart: execLine(
          [DOCKER, "run", "--rm", `--name=${container}`, `--cpu-shares=${STANDBY_CPU_SHARES}`],
          // Host network: DHCP's render resolves this machine's LAN interface.
          ["--net=host"],
          ["-v", `${dir}:${dir}`],
          ["-v", `${TLS_DIR}:${TLS_DIR}:ro`],
          ["--env-file", ETCD_ENV_PATH],
          ["-e", `FLEETLAB_RUN=${dir}`],
          // The paths inside the service's container that the rendered files name
          // (WWW's and DHCP's; LDAP's name none, so any replica may take them).
          ["-e", `FLEETLAB_SERVICE_RUN=${RUN_ROOT}/${set}`],
          ...(set === "dhcp" ? [["-e", `FLEETLAB_DHCP_INTERFACES=${o.dhcpInterface}`]] : []),
          [o.images.sidekick, "warm", set],
        ),
        ExecStop: execLine([DOCKER, "stop", container]),
      },
      xfleet: { ...STANDBY_PLACEMENT[set], global: true },
    });
    return { name, text, image: "sidekick" as const };
  });
}
