import { DEFAULT_READINESS_TIMEOUT_SEC, readinessTimeoutSec } from "./readiness";

describe("readiness timeout", () => {
  it("defaults to 900 s when FLEETLAB_READINESS_TIMEOUT_SEC is unset or empty", () => {
    expect(DEFAULT_READINESS_TIMEOUT_SEC).toBe(900);
    expect(readinessTimeoutSec({})).toBe(900);
    expect(readinessTimeoutSec({ FLEETLAB_READINESS_TIMEOUT_SEC: "" })).toBe(900);
  });

  it("takes a whole number of seconds from FLEETLAB_READINESS_TIMEOUT_SEC", () => {
    expect(readinessTimeoutSec({ FLEETLAB_READINESS_TIMEOUT_SEC: "5" })).toBe(5);
  });

  it.each(["soon", "0", "-3", "1.5"])("rejects %p, naming the variable and the value", (raw) => {
    expect(() => readinessTimeoutSec({ FLEETLAB_READINESS_TIMEOUT_SEC: raw })).toThrow(
      `FLEETLAB_READINESS_TIMEOUT_SEC = ${raw}: must be a whole number of seconds >= 1, e.g. 900`,
    );
  });
});
