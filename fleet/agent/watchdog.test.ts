import { spawn } from "child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { DEFAULT_TIMING, timingForTtl } from "./config";
import {
  parseUptimeMs,
  stopAt,
  watcherCommand,
  watchdogScript,
  watchdogTimingProblem,
} from "./watchdog";
import { waitFor } from "../../tests/support/wait";

describe("the watcher's timing rule", () => {
  it("holds for the defaults and for every TTL the stack config accepts", () => {
    expect(watchdogTimingProblem(DEFAULT_TIMING)).toBeUndefined();
    for (let ttl = 2; ttl <= 120; ttl++)
      expect(watchdogTimingProblem(timingForTtl(ttl))).toBeUndefined();
  });

  it("refuses a deadline that leaves a healthy agent no renewal interval", () => {
    expect(watchdogTimingProblem({ ...DEFAULT_TIMING, fenceMarginMs: 4600, renewMs: 150 })).toBe(
      "TTL - margin - the watcher's poll = 150 ms must exceed the renewal interval of 150 ms, or a healthy agent's units are stopped between two renewals",
    );
    expect(watchdogTimingProblem({ ...DEFAULT_TIMING, watchdogPollMs: 0 })).toMatch(/positive/);
  });

  it("puts the deadline one poll before the agent's own fencing moment", () => {
    // renewal sent at uptime 100 s: the agent fences at +3.5 s; the watcher looks
    // every 250 ms from +3.25 s, so it acts by +3.5 s
    expect(stopAt(100_000, DEFAULT_TIMING)).toBe(103_250);
    expect(parseUptimeMs("12345.67 54321.00\n")).toBe(12_345_670);
    expect(() => parseUptimeMs("nonsense")).toThrow(/unexpected/);
  });
});

// The script itself, run by bash with the agent a `sleep` and, on PATH, a stand-in
// `systemctl` that records its arguments (systemd's own answers: tests/fleet/hung-agent).
describe("the watcher script", () => {
  // jest's 5 s default would cut the bounded waits below short on a loaded host.
  jest.setTimeout(60_000);
  let dir: string;
  let calls: string;
  let hb: string;
  const uptimeMs = () => parseUptimeMs(readFileSync("/proc/uptime", "utf8"));
  const recorded = () => readFileSync(calls, "utf8").split("\n").filter(Boolean);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fleet-watcher-"));
    calls = join(dir, "calls");
    hb = join(dir, "heartbeat");
    writeFileSync(calls, "");
    writeFileSync(join(dir, "fleet-watchdog"), watchdogScript(), { mode: 0o755 });
    writeFileSync(
      join(dir, "systemctl"),
      `#!/bin/sh\necho "$*" >>'${calls}'\n[ "$1" = show ] && echo "a.service b.service"\nexit 0\n`,
    );
    chmodSync(join(dir, "systemctl"), 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Starts the watcher over `sleep 30` with a 50 ms poll, hung after `hungMs`; resolves
   * once it runs (it removes the stale heartbeat left here before it starts).
   */
  async function start(hungMs: number) {
    writeFileSync(hb, "1\n");
    const [cmd, ...args] = watcherCommand(
      join(dir, "fleet-watchdog"),
      hb,
      { leaseTTL: hungMs / 1000, watchdogPollMs: 50 },
      "fleet-agent.service",
      ["sleep", "30"],
    );
    const p = spawn(cmd, args, {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    const exit = new Promise<number | null>((r) => p.on("exit", (code) => r(code)));
    started.push(p);
    // Bounds, not timings: a loaded CI host (jest workers beside VMs) starts bash slowly.
    await waitFor("the watcher removed the stale heartbeat", () => !existsSync(hb), 30_000, 20);
    return { p, exit, output: () => out };
  }
  const started: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const p of started.splice(0)) if (p.exitCode === null) p.kill("SIGKILL");
  });

  it("removes a stale heartbeat at start, and waits while there is no deadline or it lies ahead", async () => {
    const w = await start(60_000);
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(hb, `${uptimeMs() + 60_000}\n`);
    await new Promise((r) => setTimeout(r, 300));
    expect(recorded()).toEqual([]);
    w.p.kill("SIGTERM");
    await w.exit;
  });

  it("stops the units bound to the agent's unit once per missed deadline, then kills a hung agent", async () => {
    const w = await start(1_000);
    writeFileSync(hb, `${uptimeMs() - 10}\n`);
    await waitFor("units stopped", () => recorded().length >= 2, 30_000, 20);
    expect(recorded().slice(0, 2)).toEqual([
      "show --property=BoundBy --value -- fleet-agent.service",
      "stop --no-block -- a.service b.service",
    ]);
    // the same deadline a TTL later: hung; the agent is killed and the watcher fails
    expect(await w.exit).toBe(70);
    expect(recorded()).toHaveLength(2);
    expect(w.output()).toMatch(/missed its deadline.*a.service b.service/);
    expect(w.output()).toMatch(/it is hung, killing it/);
  });

  it("exits with the agent's status, and passes SIGTERM on to it", async () => {
    const w = await start(60_000);
    w.p.kill("SIGTERM");
    // sleep killed by SIGTERM: 128 + 15
    expect(await w.exit).toBe(143);
    expect(recorded()).toEqual([]);
  });
});
