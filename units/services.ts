// Typed fleet units for the lab's services: each service container plus a sidekick
// that feeds it from etcd. Pure: options in, unit files out. Placement lives in
// [X-Fleet]:
//   - DHCP only on machines with metadata lan=true (it must sit on the lab LAN);
//   - every sidekick MachineOf its service (it shares the service's directory);
//   - LDAP replicas Conflicts with each other, so two never share a machine;
//   - WWW anywhere.
import { execLine, renderUnit, UnitSections } from "../node/systemd";
import { DOCKER_UNIT, ETCD_ENV_PATH, TLS_DIR } from "../node/paths";
import { AUTO_INTERFACES } from "../containers/dhcp/interfaces";
import { IMAGE_REPO, IMAGE_VERSION } from "../node/images";

export interface ServiceUnitOptions {
  /** Image repository and version of the service and sidekick images. */
  imageRepo: string;
  version: string;
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
  imageRepo: IMAGE_REPO,
  version: IMAGE_VERSION,
  dhcpInterface: AUTO_INTERFACES,
  wwwPort: 80,
  ldapPort: 389,
  ldapReplicas: 1,
};

export interface FleetUnitFile {
  name: string;
  text: string;
}

const DOCKER = "/usr/bin/docker";
export const RUN_ROOT = "/run/fleetlab";

interface ContainerSpec {
  unit: string;
  container: string;
  description: string;
  /** docker run arguments between the name and the image. */
  args: string[][];
  image: string;
  command?: string[];
  xfleet: Record<string, string | string[]>;
  /** Sidekicks: the service unit they belong to (BindsTo + After). */
  bindsTo?: string;
}

/** A unit that runs one container and removes it on stop (no state on the node). */
function containerUnit(c: ContainerSpec): FleetUnitFile {
  const deps = c.bindsTo ? `${DOCKER_UNIT} ${c.bindsTo}` : DOCKER_UNIT;
  const sections: UnitSections = {
    Unit: {
      Description: c.description,
      Requires: DOCKER_UNIT,
      BindsTo: c.bindsTo,
      After: deps,
    },
    Service: {
      // docker pulls on first start; never let systemd kill that as a slow start.
      TimeoutStartSec: 0,
      Restart: "always",
      RestartSec: 2,
      ExecStartPre: [
        `-${execLine([DOCKER, "rm", "-f", c.container])}`,
        execLine(["/usr/bin/mkdir", "-p", `${RUN_ROOT}/${c.container.replace(/-sidekick$/, "")}`]),
      ],
      ExecStart: execLine([DOCKER, "run", "--rm", `--name=${c.container}`], ...c.args, [
        c.image,
        ...(c.command ?? []),
      ]),
      ExecStop: execLine([DOCKER, "stop", c.container]),
    },
  };
  // fleet treats a unit without [X-Fleet] as placeable anywhere; omit an empty one.
  if (Object.keys(c.xfleet).length > 0) sections["X-Fleet"] = c.xfleet;
  return { name: c.unit, text: renderUnit(sections) };
}

const runDir = (svc: string) => ["-v", `${RUN_ROOT}/${svc}:${RUN_ROOT}/${svc}`];

/** The sidekick of `svc`: etcd (TLS) from the node's etcd.env, the shared directory. */
function sidekick(
  o: ServiceUnitOptions,
  svc: string,
  serviceUnit: string,
  container: string,
  extra: string[][] = [],
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
    image: `${o.imageRepo}/sidekick:${o.version}`,
    command: [svc],
    xfleet: { MachineOf: serviceUnit },
    bindsTo: serviceUnit,
  });
}

export function dhcpUnits(o: ServiceUnitOptions): FleetUnitFile[] {
  return [
    containerUnit({
      unit: "dhcp.service",
      container: "dhcp",
      description: "fleetlab DHCP (Kea DHCPv4) on the lab LAN",
      // Host network: DHCP is layer 2 and must answer on the node's LAN link.
      args: [["--net=host"], runDir("dhcp")],
      image: `${o.imageRepo}/dhcp:${o.version}`,
      xfleet: { MachineMetadata: "lan=true" },
    }),
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
      image: `${o.imageRepo}/www:${o.version}`,
      xfleet: {},
    }),
    // Shares nginx's PID namespace so it can SIGHUP the master after a config change.
    sidekick(o, "www", "www.service", "www", [["--pid=container:www"]]),
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
      image: `${o.imageRepo}/ldap:${o.version}`,
      // Replicas publish the same port, and one machine holding two would make a
      // machine failure take both: keep them apart.
      xfleet: n > 1 ? { Conflicts: "ldap@*.service" } : {},
    }),
    sidekick(o, "ldap", unit, container),
  ]);
}

/** Every service unit, validated options first. */
export function serviceUnits(partial: Partial<ServiceUnitOptions> = {}): FleetUnitFile[] {
  const o = { ...DEFAULT_SERVICE_UNIT_OPTIONS, ...partial };
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
  // Both end up as the image argument of `docker run`: one starting with '-' would be
  // read as an option.
  if (!/^[a-z0-9][a-z0-9._-]*(:\d+)?(\/[a-z0-9][a-z0-9._-]*)*$/.test(o.imageRepo))
    problems.push(
      `imageRepo = ${JSON.stringify(o.imageRepo)}: not a registry path; fix: e.g. ${DEFAULT_SERVICE_UNIT_OPTIONS.imageRepo}`,
    );
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(o.version))
    problems.push(`version = ${JSON.stringify(o.version)}: not an image tag; fix: e.g. 0.1.0`);
  if (problems.length > 0) throw new Error(`service units: ${problems.join("; ")}`);
  return [...dhcpUnits(o), ...wwwUnits(o), ...ldapUnits(o)];
}
