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
