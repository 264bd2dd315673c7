import { DEFAULT_TIMING, timingForTtl } from "./config";
import { parseUptimeMs, pingUntil, watchdogScript, watchdogTimingProblem } from "./watchdog";

describe("the watchdog timing rule", () => {
  it("holds for the defaults and for every TTL the stack config accepts", () => {
    expect(watchdogTimingProblem(DEFAULT_TIMING)).toBeUndefined();
    for (let ttl = 2; ttl <= 120; ttl++)
      expect(watchdogTimingProblem(timingForTtl(ttl))).toBeUndefined();
  });

  it("refuses a watchdog that would kill a frozen agent only after it should have fenced", () => {
    expect(watchdogTimingProblem({ ...DEFAULT_TIMING, watchdogMs: 3600 })).toMatch(
      /watchdog 3600 ms must be below TTL - margin = 3500 ms/,
    );
  });

  it("refuses a watchdog a healthy agent would trip", () => {
    expect(watchdogTimingProblem({ ...DEFAULT_TIMING, watchdogMs: 400 })).toMatch(
      /at least 2 x the watcher's poll of 250 ms/,
    );
  });

  it("puts the last ping watchdog before the agent's own fencing deadline", () => {
    // renewal sent at uptime 100 s: fence at +3.5 s, so pings until +2.5 s, kill by +3.5 s
    expect(pingUntil(100_000, DEFAULT_TIMING)).toBe(102_500);
    expect(parseUptimeMs("12345.67 54321.00\n")).toBe(12_345_670);
    expect(() => parseUptimeMs("nonsense")).toThrow(/unexpected/);
  });
});

test("the watcher pings from its own PID, until the deadline the agent wrote", () => {
  const s = watchdogScript();
  expect(s.startsWith("#!/bin/bash\n")).toBe(true);
  expect(s).toMatch(/systemd-notify --pid=\$\$/);
  expect(s).toMatch(/\[ "\$\(uptime_ms\)" -lt "\$until" \]/);
});
