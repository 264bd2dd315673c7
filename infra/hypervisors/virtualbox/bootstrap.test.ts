import * as crypto from "crypto";
import { bootstrapConfig, configPath, configUrl, GUEST_PROPERTY_LIMIT, sha512 } from "./bootstrap";

// A node's real Ignition is several KiB (TLS key and certificates); this stands for it.
const full = JSON.stringify({ ignition: { version: "3.3.0" }, pad: "k".repeat(6000) });

describe("bootstrap Ignition for the guest property", () => {
  const url = configUrl("192.168.56.1", 40123, "fleetlab-dev-core-01");

  it("points at the served full config and pins its SHA-512", () => {
    expect(url).toBe("http://192.168.56.1:40123/fleetlab-dev-core-01.ign");
    const small = JSON.parse(bootstrapConfig(url, full));
    expect(small).toEqual({
      ignition: {
        version: "3.3.0",
        config: {
          replace: {
            source: url,
            verification: {
              hash: `sha512-${crypto.createHash("sha512").update(full).digest("hex")}`,
            },
          },
        },
      },
    });
    expect(bootstrapConfig(url, full)).toMatchSnapshot();
  });

  it("fits VirtualBox's guest property limit while the full config does not", () => {
    expect(Buffer.byteLength(full)).toBeGreaterThan(GUEST_PROPERTY_LIMIT);
    expect(Buffer.byteLength(bootstrapConfig(url, full))).toBeLessThan(GUEST_PROPERTY_LIMIT);
  });

  it("changes with the full config, so a new Ignition gives a new hash", () => {
    expect(bootstrapConfig(url, full)).not.toBe(bootstrapConfig(url, `${full} `));
    expect(sha512("")).toHaveLength(128);
  });

  it("refuses, naming the limit, a pointer that would not fit", () => {
    const long = configUrl("192.168.56.1", 1, "x".repeat(1000));
    expect(() => bootstrapConfig(long, full)).toThrow(/over VirtualBox's 1024-byte guest property/);
  });

  it("escapes the VM name in the URL path", () => {
    expect(configPath("a b/c")).toBe("/a%20b%2Fc.ign");
  });
});
