// npm run bench:e2e — the libvirt end-to-end lab as a benchmark: runs the e2e test
// with FLEETLAB_E2E_FAILOVER=all (the node of each service killed in turn, a reboot
// each) unless --report-only, then prints what bench/results/e2e-libvirt.json holds:
// the host's calibration, the phases, where each node's start-up went (seconds since
// its kernel started, median over the nodes) with the same steps done bare on a node
// beside them (the floor), and every failover. Not part of npm test.
import { spawnSync } from "child_process";
import { readFileSync } from "fs";
import { join } from "path";

const RESULTS = join(__dirname, "results", "e2e-libvirt.json");

interface UnitTiming {
  activeAt: number | null;
  restarts: number;
}
interface NodeTimeline {
  startup?: string;
  units?: Record<string, UnitTiming>;
  marks?: Record<string, number | null>;
  error?: string;
}
interface Results {
  measuredAt: string;
  failoverMode?: string;
  calibration?: { label: string; medianSeconds: number; factor: number; loadAverage1m: number }[];
  phases: Record<string, number>;
  failedPhases: string[];
  timelineAfterUp?: Record<string, NodeTimeline>;
  floorsInVm?: Record<string, number | string | null>;
  failover?: Record<
    string,
    { killed: string; runningAfterSeconds: number; outageSeconds: number }[]
  >;
  wallSeconds: number;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: unknown): string =>
  typeof x === "number" ? x.toFixed(1) : x == null ? "-" : String(x).slice(0, 120);

function table(title: string, head: string[], rows: (string | number)[][]): void {
  const all = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  console.log(`\n${title}`);
  for (const [n, r] of all.entries()) {
    console.log(r.map((c, i) => c.padEnd(w[i])).join("  "));
    if (n === 0) console.log(w.map((x) => "-".repeat(x)).join("  "));
  }
}

/** The slow path in order: seconds since boot, per node, median over the nodes. */
function startupRows(t: Record<string, NodeTimeline>): (string | number)[][] {
  const nodes = Object.values(t).filter((n) => !n.error);
  const at = (pick: (n: NodeTimeline) => number | null | undefined) =>
    median(nodes.map(pick).filter((x): x is number => typeof x === "number"));
  const unit = (u: string) => (n: NodeTimeline) => n.units?.[u]?.activeAt;
  const steps: [string, (n: NodeTimeline) => number | null | undefined][] = [
    ["docker.service active", unit("docker.service")],
    ["etcd-member.service started", unit("etcd-member.service")],
    ["etcd serving clients", (n) => n.marks?.etcdServing],
    ["fleet-agent.service started", unit("fleet-agent.service")],
    ["agent registered", (n) => n.marks?.agentRegistered],
  ];
  const rows = steps.map(([name, pick]) => [name, fmt(at(pick))]);
  // Each service unit runs on one node: its own time, not a median.
  for (const n of nodes)
    for (const [u, v] of Object.entries(n.units ?? {}))
      if (!u.startsWith("docker") && !u.startsWith("etcd") && !u.startsWith("fleet"))
        if (v.activeAt !== null) rows.push([`${u} active`, fmt(v.activeAt)]);
  const restarts = nodes.flatMap((n) =>
    Object.entries(n.units ?? {})
      .filter(([, v]) => v.restarts > 0)
      .map(([u, v]) => `${u} x${v.restarts}`),
  );
  rows.push(["restarts", restarts.join(", ") || "none"]);
  return rows;
}

function report(): void {
  const r = JSON.parse(readFileSync(RESULTS, "utf8")) as Results;
  console.log(`${RESULTS} (${r.measuredAt}, failover mode ${r.failoverMode ?? "?"})`);
  table(
    "host calibration (QEMU TCG kernel probe; factor = median / reference, at least 1)",
    ["when", "median s", "factor", "load 1m"],
    (r.calibration ?? []).map((c) => [c.label, c.medianSeconds, c.factor, c.loadAverage1m]),
  );
  table(
    "phases (wall s)" + (r.failedPhases.length ? `; FAILED: ${r.failedPhases.join(", ")}` : ""),
    ["phase", "s"],
    [...Object.entries(r.phases), ["whole file", r.wallSeconds]],
  );
  if (r.timelineAfterUp)
    table(
      "a node's start-up after `up` (s since its kernel started, median over the nodes)",
      ["step", "s"],
      startupRows(r.timelineAfterUp),
    );
  if (r.floorsInVm)
    table(
      "floor: the same steps done bare on one node (wall s)",
      ["step", "s"],
      Object.entries(r.floorsInVm).map(([k, v]) => [k, fmt(v)]),
    );
  const fo = Object.entries(r.failover ?? {}).flatMap(([svc, xs]) =>
    xs.map((x) => [svc, x.killed, fmt(x.runningAfterSeconds), fmt(x.outageSeconds)]),
  );
  if (fo.length)
    table(
      "failover (s after the node was killed)",
      ["service", "node killed", "running on a survivor", "answers again"],
      fo,
    );
}

if (!process.argv.includes("--report-only")) {
  const run = spawnSync(
    "npx",
    ["jest", "--selectProjects", "e2e", "--runInBand", "tests/e2e/libvirt-lab.test.ts"],
    {
      stdio: "inherit",
      env: { ...process.env, FLEETLAB_E2E_FAILOVER: "all" },
      cwd: join(__dirname, ".."),
    },
  );
  if (run.status !== 0) console.error(`the e2e run failed (${run.status}); its results:`);
}
report();
