// Where a node's start-up time goes, read from the node itself over SSH: systemd's
// monotonic timestamps (seconds since the kernel started) for each step of the slow
// path, how often each unit restarted, and, when a wait gives up, the last journal
// lines of the units that matter. One SSH call per node, bounded like every other:
// these are notes and diagnoses, so the bound is generous (a loaded emulated node
// takes tens of seconds for one login and a few journal reads).
import { sshRuns } from "./checks";
import type { Netns } from "./netns";

/** One SSH call of this file: a login plus a few commands on a loaded emulated node. */
const NOTE_SSH_MS = 90_000;
/** The floors' three container starts under emulation. */
const FLOORS_SSH_MS = 300_000;

/** The node's own units on the slow path, in the order they start. */
export const NODE_UNITS = ["docker.service", "etcd-member.service", "fleet-agent.service"];

export interface UnitTiming {
  /** Seconds since boot when the unit last became active; null if it never did. */
  activeAt: number | null;
  activeState: string;
  restarts: number;
}

export interface NodeTimeline {
  /** systemd-analyze's summary ("Startup finished in ..."), or what it said instead. */
  startup: string;
  units: Record<string, UnitTiming>;
  /** Seconds since boot of the first journal line matching each marker; null if none. */
  marks: Record<string, number | null>;
}

/** Journal lines that mark the steps after a unit is "active" (its process started). */
const MARKS: Record<string, { unit: string; grep: string }> = {
  etcdServing: { unit: "etcd-member.service", grep: "ready to serve client requests" },
  agentRegistered: { unit: "fleet-agent.service", grep: "registered with lease" },
  agentFenced: { unit: "fleet-agent.service", grep: "fencing" },
};

function parseShow(text: string): Record<string, UnitTiming> {
  const units: Record<string, UnitTiming> = {};
  // `systemctl show` prints one block per unit, blank-line separated, in argv order.
  for (const block of text.split(/\n\s*\n/)) {
    const kv = Object.fromEntries(
      block
        .split("\n")
        .map((l) => l.split("=", 2))
        .filter((p) => p.length === 2),
    ) as Record<string, string>;
    if (!kv.Id) continue;
    const mono = Number(kv.ActiveEnterTimestampMonotonic);
    units[kv.Id] = {
      activeAt: mono > 0 ? Math.round(mono / 1e5) / 10 : null,
      activeState: kv.ActiveState ?? "unknown",
      restarts: Number(kv.NRestarts ?? 0),
    };
  }
  return units;
}

/** The node's start-up timeline; `extraUnits` (the service units) are reported if loaded. */
export function nodeTimeline(
  ns: Netns,
  key: string,
  ip: string,
  extraUnits: string[],
): NodeTimeline | { error: string } {
  const units = [...NODE_UNITS, ...extraUnits];
  const marks = Object.entries(MARKS).map(
    ([name, m]) =>
      `echo "mark ${name} $(journalctl -b -o short-monotonic --no-pager -u ${m.unit} | grep -m1 '${m.grep}' | sed -E 's/^\\[ *([0-9.]+)\\].*/\\1/')"`,
  );
  const script = [
    'echo "startup $(systemd-analyze 2>&1 | head -1)"',
    ...marks,
    "echo ---",
    `systemctl show -p Id,ActiveState,ActiveEnterTimestampMonotonic,NRestarts ${units.join(" ")}`,
  ].join("; ");
  const r = sshRuns(ns, key, ip, `sudo sh -c '${script.replace(/'/g, "'\\''")}'`, NOTE_SSH_MS);
  if (!r.ok) return { error: r.out.slice(-300) };
  const [head, show = ""] = r.out.split("\n---\n");
  const lines = head.split("\n");
  const out: NodeTimeline = {
    startup: (lines.find((l) => l.startsWith("startup ")) ?? "").slice(8).trim(),
    units: parseShow(show),
    marks: {},
  };
  for (const l of lines) {
    const m = /^mark (\S+) ?(\S*)$/.exec(l);
    if (m) out.marks[m[1]] = m[2] ? Number(m[2]) : null;
  }
  return out;
}

/** The last `lines` journal lines of each unit on the node, for a failed wait's message. */
export function journalTail(
  ns: Netns,
  key: string,
  ip: string,
  units: string[],
  lines = 8,
): string {
  const args = units.map((u) => `-u ${u}`).join(" ");
  const r = sshRuns(
    ns,
    key,
    ip,
    `sudo systemctl is-active ${units.join(" ")} | paste -sd' '; sudo journalctl -b --no-pager -o short-monotonic -n ${lines * units.length} ${args}`,
    NOTE_SSH_MS,
  );
  return r.ok ? r.out.trim() : `(SSH to ${ip} failed: ${r.out.trim().slice(-200)})`;
}

/**
 * The bare steps of a service's start on one node, timed there (seconds, wall): a
 * container that does nothing, Node.js that does nothing, and Node.js loading the
 * sidekick's bundle (it prints its usage and exits). They are the floor beside the
 * timeline: what any start on this emulated VM costs before our code does anything.
 */
export function nodeFloors(
  ns: Netns,
  key: string,
  ip: string,
  image: string,
): Record<string, number | null> | { error: string } {
  const steps: Record<string, string> = {
    containerTrue: `docker run --rm --entrypoint /bin/true ${image}`,
    nodeEmpty: `docker run --rm --entrypoint node ${image} -e 0`,
    sidekickBundleLoad: `docker run --rm ${image}`,
  };
  const script = Object.entries(steps)
    .map(
      ([name, cmd]) =>
        `s=$(date +%s.%N); ${cmd} >/dev/null 2>&1; e=$(date +%s.%N); awk -v n=${name} -v s="$s" -v e="$e" 'BEGIN { print n, e - s }'`,
    )
    .join("; ");
  const r = sshRuns(ns, key, ip, `sudo sh -c '${script.replace(/'/g, "'\\''")}'`, FLOORS_SSH_MS);
  if (!r.ok) return { error: r.out.slice(-300) };
  const out: Record<string, number | null> = {};
  for (const l of r.out.split("\n")) {
    const m = /^(\w+) ([0-9.]+)$/.exec(l.trim());
    if (m) out[m[1]] = Math.round(Number(m[2]) * 100) / 100;
  }
  return out;
}

export interface NodePull {
  /** `docker pull` of the image by digest, the node holding its base layer only. */
  pullSeconds: number;
  /** The floor: the same layers fetched with curl and unpacked with unpigz | tar. */
  floorSeconds: number;
  /** Compressed bytes of those layers (what both fetched). */
  bytes: number;
}

/**
 * Pull time on one node under emulation, with its floor, for lab images the node does
 * not run (`refs`: `<host:port>/fleetlab/<name>@sha256:<hex>`). Each image is removed
 * (the node pulled it ahead, for hot standby), pulled by docker, timed, and kept; then
 * its own layers (all but the first: the shared base, baked in) are fetched
 * from the same registry with curl and unpacked into a scratch directory, timed: what
 * a pull is at least. One SSH session, run after the services answer.
 */
export function nodePulls(
  ns: Netns,
  key: string,
  ip: string,
  refs: string[],
): Record<string, NodePull> | { error: string } {
  const parts = refs.map((r) =>
    /^([0-9.]+:\d+)\/fleetlab\/([a-z]+)@(sha256:[0-9a-f]{64})$/.exec(r),
  );
  if (parts.some((p) => !p)) return { error: `not a lab registry reference: ${refs.join(" ")}` };
  // `date +%s%3N`: milliseconds (GNU date, as on Flatcar). The manifest lists the config's
  // digest first, then the layers base first.
  const one = (hp: string, name: string, digest: string) =>
    [
      `ref=${hp}/fleetlab/${name}@${digest}; ca=/etc/docker/certs.d/${hp}/ca.crt`,
      // The node holds it already (the prefetch units): removed first, and left pulled
      // after, so the failover still finds it there.
      `docker rmi -f "$ref" >/dev/null 2>&1; t0=$(date +%s%3N); docker pull -q "$ref" >/dev/null; t1=$(date +%s%3N)`,
      `m=$(curl -sf --cacert "$ca" -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "https://${hp}/v2/fleetlab/${name}/manifests/${digest}")`,
      `d=$(mktemp -d); b=0; t2=$(date +%s%3N)`,
      `for l in $(echo "$m" | grep -o 'sha256:[0-9a-f]\\{64\\}' | tail -n +3); do curl -sf --cacert "$ca" "https://${hp}/v2/fleetlab/${name}/blobs/$l" -o "$d/blob"; b=$((b + $(stat -c %s "$d/blob"))); unpigz <"$d/blob" | tar -x -C "$d"; rm -f "$d/blob"; done`,
      `t3=$(date +%s%3N); rm -rf "$d"; echo "${name} $((t1 - t0)) $((t3 - t2)) $b"`,
    ].join("; ");
  const script = parts.map((p) => one(p![1], p![2], p![3])).join("; ");
  const r = sshRuns(ns, key, ip, `sudo sh -c '${script.replace(/'/g, "'\\''")}'`, FLOORS_SSH_MS);
  if (!r.ok) return { error: r.out.slice(-300) };
  const out: Record<string, NodePull> = {};
  for (const l of r.out.split("\n")) {
    const m = /^([a-z]+) (\d+) (\d+) (\d+)$/.exec(l.trim());
    if (m)
      out[m[1]] = {
        pullSeconds: Number(m[2]) / 1000,
        floorSeconds: Number(m[3]) / 1000,
        bytes: Number(m[4]),
      };
  }
  return out;
}

/**
 * When each step of one service's latest start happened on its node, in seconds of
 * the node's monotonic clock (no clock offset between host and VM enters): the
 * engine's start of the unit (systemd began its start job), the service's and the
 * sidekick's containers started (Docker's StartedAt, carried over to the monotonic
 * clock through one `date`/`uptime` pair), the daemon's start on ready data (hot
 * standby's warm copy: the entrypoint's log line; null when it started without one),
 * and the sidekick's first data applied after that start (its log line for the data
 * set). `now` is the node's clock when read. With `standby`, also hot standby's steps
 * on that node, which a first start shares its CPU with: the warm unit's start job began
 * (its yield first) and its container started, and the service's and the sidekick's
 * image prefetches done.
 */
export interface ServiceStart {
  now: number;
  unitStarted: number | null;
  containerStarted: number | null;
  sidekickStarted: number | null;
  onReadyData: number | null;
  dataApplied: number | null;
  warmUnitStarted?: number | null;
  warmStarted?: number | null;
  prefetched?: number | null;
  sidekickPrefetched?: number | null;
}

/** A sidekick's log line for applied data: "<set> <hash>: ...", not a failed apply. */
const APPLIED = (svc: string) => new RegExp(`\\s${svc} [0-9a-f]{6,}: (?!apply failed)`);

export function serviceStart(
  ns: Netns,
  key: string,
  ip: string,
  svc: "dhcp" | "www" | "ldap",
  standby = false,
): ServiceStart | { error: string } {
  const unit = `${svc}.service`;
  const side = `${svc}-sidekick`;
  const warm = `${svc}-warm`;
  const prefetches = [`${svc}-prefetch.service`, "sidekick-prefetch.service"];
  const script = [
    'echo "clock $(cut -d" " -f1 /proc/uptime) $(date +%s.%N)"',
    `echo "unit $(systemctl show -p InactiveExitTimestampMonotonic --value ${unit})"`,
    ...(standby
      ? [
          `echo "warmunit $(systemctl show -p InactiveExitTimestampMonotonic --value ${warm}.service)"`,
          ...prefetches.map(
            (u) =>
              `echo "active ${u} $(systemctl show -p ActiveEnterTimestampMonotonic --value ${u})"`,
          ),
        ]
      : []),
    `for c in ${svc} ${side}${standby ? ` ${warm}` : ""}; do echo "container $c $(docker inspect -f "{{.State.StartedAt}}" $c 2>/dev/null)"; done`,
    `journalctl -b -o short-monotonic --no-pager -u ${side}.service | grep -E " ${svc} [0-9a-f]{6,}: " | sed "s/^/log /"`,
    `journalctl -b -o short-monotonic --no-pager -u ${unit} | grep -F "fleetlab-${svc}: starting on ready data" | sed "s/^/ready /"`,
  ].join("; ");
  const r = sshRuns(ns, key, ip, `sudo sh -c '${script.replace(/'/g, "'\\''")}'`, NOTE_SSH_MS);
  if (!r.ok) return { error: r.out.slice(-300) };
  const lines = r.out.split("\n");
  const field = (tag: string) => lines.find((l) => l.startsWith(`${tag} `))?.slice(tag.length + 1);
  const [uptime, epoch] = (field("clock") ?? "").split(" ").map(Number);
  // Docker's RFC 3339 nanoseconds, cut to the milliseconds Date.parse reads.
  const mono = (rfc?: string) => {
    const t = rfc ? Date.parse(rfc.replace(/(\.\d{3})\d*Z$/, "$1Z")) : NaN;
    return Number.isFinite(t) && t > 0 ? round(uptime - (epoch - t / 1000)) : null;
  };
  const container = (c: string) => mono(field(`container ${c}`)?.trim());
  const monoUs = (tag: string) => {
    const us = Number(field(tag));
    return us > 0 ? round(us / 1e6) : null;
  };
  const unitStarted = monoUs("unit");
  // The first line of `tag` (matching `keep`) at or after this start.
  const firstSince = (tag: string, keep: (l: string) => boolean = () => true) => {
    const ts = lines
      .filter((l) => l.startsWith(`${tag} `) && keep(l))
      .map((l) => Number(/^\S+ \[\s*([0-9.]+)\]/.exec(l)?.[1]))
      .filter((t) => Number.isFinite(t) && (unitStarted === null || t >= unitStarted));
    return ts.length > 0 ? round(Math.min(...ts)) : null;
  };
  return {
    now: round(uptime),
    unitStarted,
    containerStarted: container(svc),
    sidekickStarted: container(side),
    onReadyData: firstSince("ready"),
    dataApplied: firstSince("log", (l) => APPLIED(svc).test(l)),
    ...(standby && {
      warmUnitStarted: monoUs("warmunit"),
      warmStarted: container(warm),
      prefetched: monoUs(`active ${prefetches[0]}`),
      sidekickPrefetched: monoUs(`active ${prefetches[1]}`),
    }),
  };
}

const round = (s: number) => Math.round(s * 10) / 10;

/**
 * A service's start steps as seconds since a host-side instant `sinceMs` (a kill, the
 * end of `up`): reads the node (serviceStart) and ties its monotonic clock to the
 * host's at the midpoint of that SSH call, whose half-length bounds the error.
 */
export function serviceStepsSince(
  ns: Netns,
  key: string,
  ip: string,
  svc: "dhcp" | "www" | "ldap",
  sinceMs: number,
  standby = false,
): Record<string, number | null> | { error: string } {
  const t0 = Date.now();
  const st = serviceStart(ns, key, ip, svc, standby);
  const t1 = Date.now();
  if ("error" in st) return st;
  const refOnNode = st.now - ((t0 + t1) / 2 - sinceMs) / 1000;
  const since = (t: number | null) => (t === null ? null : round(t - refOnNode));
  return {
    unitStarted: since(st.unitStarted),
    containerStarted: since(st.containerStarted),
    sidekickStarted: since(st.sidekickStarted),
    onReadyData: since(st.onReadyData),
    dataApplied: since(st.dataApplied),
    ...(standby && {
      warmUnitStarted: since(st.warmUnitStarted ?? null),
      warmStarted: since(st.warmStarted ?? null),
      prefetched: since(st.prefetched ?? null),
      sidekickPrefetched: since(st.sidekickPrefetched ?? null),
    }),
    clockErrorSeconds: round((t1 - t0) / 2000),
  };
}
