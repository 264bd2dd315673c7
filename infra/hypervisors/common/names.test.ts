import * as crypto from "crypto";
import type { LabSpec, NodeSpec } from "../../config/types";
import { ignitionHash, vmName } from "./names";

describe("VM names and the Ignition hash", () => {
  const spec = { stack: "local" } as LabSpec;

  it("names a node's VM fleetlab-<stack>-<node>, so stacks on one host never collide", () => {
    expect(vmName(spec, { name: "core-01" } as NodeSpec)).toBe("fleetlab-local-core-01");
    expect(vmName({ stack: "dev" } as LabSpec, { name: "core-01" } as NodeSpec)).toBe(
      "fleetlab-dev-core-01",
    );
  });

  it("hashes the Ignition with sha256 (hex), so any change to it shows in a diff", () => {
    expect(ignitionHash("{}")).toBe(crypto.createHash("sha256").update("{}").digest("hex"));
    expect(ignitionHash("{}")).toMatch(/^[0-9a-f]{64}$/);
    expect(ignitionHash('{"a":1}')).not.toBe(ignitionHash('{"a":2}'));
  });
});
