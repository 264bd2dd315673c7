import { ConfigError, parseLabSpec } from ".";
import { validRawConfig } from "./fixtures";
import type { Raw } from "./read";
import { hasVBoxGuest, VBOXGUEST_FIRST_MAJOR } from "./flatcar";

const vbox = (extra: Raw): Raw => ({
  ...validRawConfig(),
  hypervisor: { kind: "virtualbox" },
  ...extra,
});

function problem(raw: Raw): { key: string; value: unknown; message: string } {
  try {
    parseLabSpec("test", raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const p = (e as ConfigError).problems;
    expect(p).toHaveLength(1);
    return { key: p[0].key, value: p[0].value, message: (e as ConfigError).message };
  }
  throw new Error("expected a ConfigError");
}

describe("Flatcar releases on VirtualBox (vboxguest, from release 4722)", () => {
  it("knows which releases have the driver", () => {
    expect(VBOXGUEST_FIRST_MAJOR).toBe(4722);
    expect(hasVBoxGuest({ channel: "alpha", version: "4722.0.0", updates: false })).toBe(true);
    expect(hasVBoxGuest({ channel: "stable", version: "4593.1.0", updates: false })).toBe(false);
    expect(hasVBoxGuest({ channel: "lts", version: "current", updates: false })).toBe(false);
    expect(hasVBoxGuest({ channel: "beta", version: "current", updates: false })).toBe(true);
  });

  it("refuses stable/current, naming the key, the value and the fix", () => {
    const p = problem(vbox({}));
    expect(p.key).toBe("fleetlab:flatcarChannel");
    expect(p.value).toBe("stable");
    expect(p.message).toContain("has no vboxguest driver");
    expect(p.message).toContain(
      "fix: set fleetlab:flatcarChannel to alpha (or beta) and fleetlab:flatcarVersion to 4722.0.0 or later",
    );
  });

  it("refuses a pinned release before 4722 by its version key", () => {
    const p = problem(vbox({ flatcarChannel: "stable", flatcarVersion: "4593.2.0" }));
    expect(p.key).toBe("fleetlab:flatcarVersion");
    expect(p.value).toBe("4593.2.0");
  });

  it("accepts 4722 and later, and images that are not Flatcar's", () => {
    expect(() =>
      parseLabSpec("t", vbox({ flatcarChannel: "alpha", flatcarVersion: "4722.0.0" })),
    ).not.toThrow();
    expect(() => parseLabSpec("t", vbox({ flatcarChannel: "alpha" }))).not.toThrow();
    const own = vbox({ hypervisor: { kind: "virtualbox", image: { path: "/img/standin.vdi" } } });
    expect(() => parseLabSpec("t", own)).not.toThrow();
  });

  it("does not restrict libvirt, which reads Ignition from fw_cfg", () => {
    expect(() => parseLabSpec("t", validRawConfig())).not.toThrow();
  });
});

describe("fleetlab:flatcarUpdates", () => {
  it("is off unless asked for, and must be a boolean", () => {
    expect(parseLabSpec("t", validRawConfig()).flatcar.updates).toBe(false);
    expect(parseLabSpec("t", { ...validRawConfig(), flatcarUpdates: true }).flatcar.updates).toBe(
      true,
    );
    expect(problem({ ...validRawConfig(), flatcarUpdates: "yes" }).key).toBe(
      "fleetlab:flatcarUpdates",
    );
  });
});
