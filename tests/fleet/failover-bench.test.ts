// The failover benchmark (npm run bench:failover: real agent OS processes, a real
// etcd, default TTL) runs in the fleet layer, so every `npm test` measures it again and
// rewrites bench/results/failover.json. Its figures are never asserted (these machines
// are noisy); what must hold is that it ran to the end, measured every kill through
// every step, and that no unit ever ran on two live machines at once.
import { spawnSync } from "child_process";
import { readFileSync, statSync } from "fs";
import { join } from "path";

const ROOT = join(__dirname, "..", "..");
const RESULT = join(ROOT, "bench", "results", "failover.json");

jest.setTimeout(15 * 60_000);

interface Figure {
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

test("bench:failover: 20 kills of real agent processes, each measured through lease, placement, start and report; never two copies", () => {
  const before = Date.now();
  // Its progress and table go to this test's output (the CI log).
  const r = spawnSync("npm", ["run", "--silent", "bench:failover"], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 14 * 60_000,
  });
  expect(r.status).toBe(0);
  expect(statSync(RESULT).mtimeMs).toBeGreaterThanOrEqual(before);
  const res = JSON.parse(readFileSync(RESULT, "utf8")) as {
    kills: number;
    samples: { steps: { leaseGone: number; placed: number[]; active: number[] } }[];
    steps: Record<string, Figure>;
    twoCopies: string[];
    rebalance: { twoCopies: string[] };
    agentRssMiB: { each: number[] };
  };
  expect(res.kills).toBeGreaterThanOrEqual(20);
  expect(res.samples).toHaveLength(res.kills);
  for (const s of res.samples)
    expect([s.steps.leaseGone, ...s.steps.placed, ...s.steps.active].every(Number.isFinite)).toBe(
      true,
    );
  expect(Object.keys(res.steps).sort()).toEqual([
    "killToLeaseGone",
    "leaseGoneToPlaced",
    "placedToStarted",
    "startedToReportedActive",
  ]);
  expect({ twoCopies: res.twoCopies, rebalanceTwoCopies: res.rebalance.twoCopies }).toEqual({
    twoCopies: [],
    rebalanceTwoCopies: [],
  });
  expect(res.agentRssMiB.each.every((x) => x > 0)).toBe(true);
});
