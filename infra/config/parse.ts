// Stack config (keys without the "fleetlab:" namespace) -> LabSpec. Pure: no I/O, no
// Pulumi. Throws one ConfigError listing every problem, before anything is created.
import { ConfigError, Problems } from "../../labdata/problems";
import { unknownKeyFix } from "../../labdata/suggest";
import { timingForTtl } from "../../fleet/agent/config";
import { watchdogTimingProblem } from "../../fleet/agent/watchdog";
import { fullKey } from "./errors";
import { NODE_TCP_PORTS, TIMING_DEFAULTS, TIMING_KEYS, TimingProfile } from "./defaults";
import { checkFlatcarForHypervisor } from "./flatcar";
import { CONFIG_KEYS, DATA_DEFAULTS, DEFAULTS } from "./keys";
import { parseHypervisor } from "./hypervisor";
import { parseNetwork } from "./network";
import { parseNodeDefaults, parseNodes } from "./nodes";
import { Raw, Reader } from "./read";
import { sshPublicKeyProblem } from "./ssh";
import { parseUnits } from "./units";
import { ENVIRONMENTS, EtcdSpec, FLATCAR_CHANNELS, LabDataSpec, LabSpec } from "./types";

// A registry reference with an explicit tag, a digest, or both (docker pins to the
// digest then): "latest" or no tag would make two `pulumi up`s produce different
// clusters.
const IMAGE_REF =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@sha256:[0-9a-f]{64})?$/;
const FLATCAR_VERSION = /^(current|\d+\.\d+\.\d+)$/;

/** What the program knows of the host before it parses (how the VMs will run). */
export interface HostFacts {
  /** The VMs run under software emulation: unset timing keys take the emulated defaults. */
  emulated?: boolean;
}

export function parseLabSpec(stackName: string, raw: Raw, host: HostFacts = {}): LabSpec {
  const profile: TimingProfile = host.emulated ? "emulated" : "hardware";
  const timing = TIMING_DEFAULTS[profile];
  const problems = new Problems();
  const r = new Reader(problems);
  for (const k of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k)) {
      problems.add(fullKey(k), raw[k], "unknown config key", unknownKeyFix(k, CONFIG_KEYS));
    }
  }
  const environment = r.oneOf(fullKey("environment"), raw.environment, ENVIRONMENTS);
  const hypervisor = parseHypervisor(r, raw.hypervisor, stackName);
  const net = parseNetwork(r, raw.network, stackName);
  const nodes = parseNodes(
    r,
    raw.nodes,
    parseNodeDefaults(r, raw.nodeDefaults),
    net,
    hypervisor?.kind,
  );
  const sshKeys = parseSshKeys(r, raw.sshKeys);
  const flatcar = {
    channel: r.oneOf(
      fullKey("flatcarChannel"),
      raw.flatcarChannel,
      FLATCAR_CHANNELS,
      DEFAULTS.flatcarChannel,
    )!,
    version: r.string(fullKey("flatcarVersion"), raw.flatcarVersion, DEFAULTS.flatcarVersion)!,
    updates: r.boolean(fullKey("flatcarUpdates"), raw.flatcarUpdates, DEFAULTS.flatcarUpdates),
  };
  if (!FLATCAR_VERSION.test(flatcar.version)) {
    problems.add(
      fullKey("flatcarVersion"),
      raw.flatcarVersion,
      "is not a Flatcar release",
      "use current or a release number such as 4081.2.0",
    );
  } else {
    checkFlatcarForHypervisor(problems, flatcar, hypervisor, raw);
  }
  const etcd = parseEtcd(r, raw, timing);
  const fleet = {
    image: image(r, "fleetImage", raw.fleetImage, DEFAULTS.fleetImage),
    leaseTtlSec: r.integer(
      fullKey("fleetLeaseTtlSec"),
      raw.fleetLeaseTtlSec,
      timing.fleetLeaseTtlSec,
      2,
      MAX_LEASE_TTL_SEC,
    ),
    rebalance: r.boolean(fullKey("fleetRebalance"), raw.fleetRebalance, DEFAULTS.fleetRebalance),
  };
  // An agent renews through etcd; while etcd elects a new leader (1 to 2 election
  // timeouts after losing one) nothing renews. The agent fences after 70% of the TTL
  // without a renewal, so that window must outlast an election, or losing one etcd
  // member stops every service in the lab (seen in the e2e test).
  const fenceAfterMs = fleet.leaseTtlSec * 1000 * 0.7;
  if (fenceAfterMs < 3 * etcd.electionMs) {
    problems.add(
      fullKey("fleetLeaseTtlSec"),
      raw.fleetLeaseTtlSec ?? fleet.leaseTtlSec,
      `lets agents fence after ${fenceAfterMs} ms without renewal, shorter than 3 x ${fullKey("etcdElectionMs")} (${etcd.electionMs} ms): an etcd leader election would stop every unit`,
      leaseFix(etcd.electionMs),
    );
  }
  // A frozen agent (alive, renewing nothing) is fenced by the watcher on its unit
  // (fleet/agent/watchdog.ts): its deadline must leave a healthy agent a renewal.
  const watchdogProblem = watchdogTimingProblem(timingForTtl(fleet.leaseTtlSec));
  if (watchdogProblem) {
    problems.add(
      fullKey("fleetLeaseTtlSec"),
      raw.fleetLeaseTtlSec ?? fleet.leaseTtlSec,
      `gives timings where ${watchdogProblem}`,
      `use a larger TTL (the default is ${timing.fleetLeaseTtlSec})`,
    );
  }
  const data = parseData(r, raw.data);
  const machines = r.boolean(fullKey("machines"), raw.machines, DEFAULTS.machines);
  // Services on wherever there are machines to run them, unless the stack says not.
  const services = r.boolean(fullKey("services"), raw.services, machines);
  const units = parseUnits(r, raw.unitsDir, raw.units);
  const registryPort = r.integer(
    fullKey("registryPort"),
    raw.registryPort,
    DEFAULTS.registryPort,
    1,
    65535,
  );
  // The services are submitted to the fleet agents of the lab's VMs: without VMs
  // there is no engine to take them, and pulumi up would only time out.
  if (services && !machines) {
    problems.add(
      fullKey("services"),
      raw.services,
      `needs machines: ${fullKey("machines")} is false, so there is no fleet engine to run them`,
      `set ${fullKey("machines")} to true, or ${fullKey("services")} to false`,
    );
  }
  if (problems.count > 0 || !environment || !hypervisor || !net) {
    throw new ConfigError(stackName, problems.list);
  }
  return {
    stack: stackName,
    environment,
    hypervisor,
    network: net.spec,
    nodes,
    sshKeys,
    flatcar,
    etcd,
    fleet,
    data,
    machines,
    services,
    units,
    registry: { port: registryPort },
    timing: { profile, defaulted: TIMING_KEYS.filter((k) => raw[k] === undefined) },
  };
}

/** The fix for a lease TTL too short for etcd's elections: only values that exist. */
function leaseFix(electionMs: number): string {
  const ttl = Math.ceil((3 * electionMs) / 700);
  const maxElection = Math.floor((MAX_LEASE_TTL_SEC * 700) / 3);
  return ttl <= MAX_LEASE_TTL_SEC
    ? `raise it to at least ${ttl}, or lower ${fullKey("etcdElectionMs")}`
    : `no ${fullKey("fleetLeaseTtlSec")} up to ${MAX_LEASE_TTL_SEC} is enough: lower ${fullKey("etcdElectionMs")} to at most ${maxElection} and set ${fullKey("fleetLeaseTtlSec")} to ${MAX_LEASE_TTL_SEC}`;
}

const MAX_LEASE_TTL_SEC = 120;
const MAX_ELECTION_MS = 50_000;

/** The fix for an election timeout under 5 heartbeats: a value inside the allowed range. */
function electionFix(heartbeatMs: number): string {
  if (heartbeatMs * 10 <= MAX_ELECTION_MS)
    return `use about 10 x the heartbeat, e.g. ${heartbeatMs * 10}`;
  if (heartbeatMs * 5 <= MAX_ELECTION_MS)
    return `use ${MAX_ELECTION_MS} (the most allowed), or lower ${fullKey("etcdHeartbeatMs")} to about ${MAX_ELECTION_MS / 10}`;
  return `lower ${fullKey("etcdHeartbeatMs")} to at most ${MAX_ELECTION_MS / 5} (about ${MAX_ELECTION_MS / 10}), then use 10 x the heartbeat`;
}

function image(r: Reader, name: string, v: unknown, fallback: string): string {
  const ref = r.string(fullKey(name), v, fallback)!;
  const m = IMAGE_REF.exec(ref);
  const pinned = m !== null && (m.groups?.tag !== undefined || ref.includes("@sha256:"));
  if (!m || !pinned) {
    r.problems.add(
      fullKey(name),
      v,
      "is not an image reference with a tag or digest",
      `write registry/name:tag (or name:tag@sha256:<digest>), e.g. ${fallback}`,
    );
  } else if (m.groups?.tag === "latest" && !ref.includes("@sha256:")) {
    r.problems.add(
      fullKey(name),
      v,
      'has the tag "latest", which moves: two runs could start different images',
      `pin a release tag or a digest, e.g. ${fallback}`,
    );
  }
  return ref;
}

function parseEtcd(r: Reader, raw: Raw, timing: (typeof TIMING_DEFAULTS)[TimingProfile]): EtcdSpec {
  const clientPort = r.integer(
    fullKey("etcdClientPort"),
    raw.etcdClientPort,
    DEFAULTS.etcdClientPort,
    1,
    65535,
  );
  const peerPort = r.integer(
    fullKey("etcdPeerPort"),
    raw.etcdPeerPort,
    DEFAULTS.etcdPeerPort,
    1,
    65535,
  );
  if (clientPort === peerPort) {
    r.problems.add(
      fullKey("etcdPeerPort"),
      raw.etcdPeerPort,
      `equals ${fullKey("etcdClientPort")}`,
      `use different ports (defaults ${DEFAULTS.etcdClientPort} and ${DEFAULTS.etcdPeerPort})`,
    );
  }
  for (const [key, port] of [
    ["etcdClientPort", clientPort],
    ["etcdPeerPort", peerPort],
  ] as const) {
    if (NODE_TCP_PORTS[port]) {
      r.problems.add(
        fullKey(key),
        port,
        `is the port of ${NODE_TCP_PORTS[port]} on every node`,
        `pick a free port (default ${DEFAULTS[key]})`,
      );
    }
  }
  const heartbeatMs = r.integer(
    fullKey("etcdHeartbeatMs"),
    raw.etcdHeartbeatMs,
    timing.etcdHeartbeatMs,
    10,
    10_000,
  );
  const electionMs = r.integer(
    fullKey("etcdElectionMs"),
    raw.etcdElectionMs,
    timing.etcdElectionMs,
    50,
    MAX_ELECTION_MS,
  );
  // etcd itself refuses to start when the election timeout is under 5 heartbeats.
  if (electionMs < 5 * heartbeatMs) {
    r.problems.add(
      fullKey("etcdElectionMs"),
      raw.etcdElectionMs ?? electionMs,
      `is less than 5 x ${fullKey("etcdHeartbeatMs")} (${heartbeatMs} ms); etcd refuses to start`,
      electionFix(heartbeatMs),
    );
  }
  return {
    image: image(r, "etcdImage", raw.etcdImage, DEFAULTS.etcdImage),
    clientPort,
    peerPort,
    heartbeatMs,
    electionMs,
  };
}

function parseSshKeys(r: Reader, v: unknown): string[] {
  const key = fullKey("sshKeys");
  const list =
    r.array(key, v, '["ssh-ed25519 AAAA... you@laptop"] (the contents of ~/.ssh/id_ed25519.pub)') ??
    [];
  if (Array.isArray(v) && list.length === 0) {
    r.problems.add(
      key,
      v,
      "is empty: nobody could log in to the nodes",
      "add the contents of your ~/.ssh/id_ed25519.pub (run ssh-keygen -t ed25519 if you have none)",
    );
  }
  return list.flatMap((k, i) => {
    const problem = typeof k === "string" ? sshPublicKeyProblem(k) : "must be a string";
    if (problem) {
      // Never echo a private key back into logs.
      const shown = typeof k === "string" && /PRIVATE KEY/.test(k) ? "(private key, not shown)" : k;
      r.problems.add(
        `${key}[${i}]`,
        shown,
        problem,
        "paste the PUBLIC key: one line from ~/.ssh/id_ed25519.pub, like ssh-ed25519 AAAA... you@host",
      );
      return [];
    }
    return [(k as string).trim()];
  });
}

function parseData(r: Reader, v: unknown): LabDataSpec {
  const d = r.object(fullKey("data"), v, Object.keys(DATA_DEFAULTS)) ?? {};
  return {
    dhcp: r.string(`${fullKey("data")}.dhcp`, d.dhcp, DATA_DEFAULTS.dhcp)!,
    ldap: r.string(`${fullKey("data")}.ldap`, d.ldap, DATA_DEFAULTS.ldap)!,
    www: r.string(`${fullKey("data")}.www`, d.www, DATA_DEFAULTS.www)!,
  };
}
