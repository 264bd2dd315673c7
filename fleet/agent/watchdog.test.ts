import { DEFAULT_TIMING, timingForTtl } from "./config";
import { watchdogScript, watchdogTimingProblem } from "./watchdog";

describe("the watchdog timing rule: renew + poll + watchdog + stop < TTL", () => {
  it("holds for the defaults and for every TTL the stack config accepts", () => {
    expect(watchdogTimingProblem(DEFAULT_TIMING)).toBeUndefined();
    for (let ttl = 2; ttl <= 120; ttl++)
      expect(watchdogTimingProblem(timingForTtl(ttl))).toBeUndefined();
  });

  it("refuses a watchdog that lets a frozen agent's units outlive its lease", () => {
    expect(watchdogTimingProblem({ ...DEFAULT_TIMING, watchdogMs: 2300 })).toMatch(
      /1000 \+ poll 250 \+ watchdog 2300 \+ stop 1500 = 5050 ms is not below the lease TTL of 5000 ms/,
    );
  });

  it("refuses a watchdog a healthy agent would trip", () => {
    expect(watchdogTimingProblem({ ...DEFAULT_TIMING, watchdogMs: 1200 })).toMatch(
      /must exceed renew 1000 \+ poll 250 ms/,
    );
  });
});

test("the watcher pings only from its own PID, and only on a new heartbeat once there is one", () => {
  const s = watchdogScript();
  expect(s).toMatch(/systemd-notify --pid=\$\$/);
  expect(s).toMatch(/\[ "\$cur" != "\$last" \]/);
  expect(s.startsWith("#!/bin/bash\n")).toBe(true);
});
