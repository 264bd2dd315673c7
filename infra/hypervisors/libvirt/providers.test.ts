import { changedKeys } from "../common/dynamic";
import { NODE_REPLACE_KEYS } from "./providers";

const nodeInputs = {
  uri: "qemu:///system",
  name: "fleetlab-local-core-01",
  mac: "52:54:00:00:00:0b",
  ignitionHash: "aa",
  base: { path: "/img", format: "qcow2", capacityBytes: 1 },
  readinessTimeoutSec: 900,
};

describe("libvirt node replacement rule", () => {
  it("replaces a node on an Ignition change, not on the readiness bound or an equal base", () => {
    expect(
      changedKeys(nodeInputs, { ...nodeInputs, ignitionHash: "bb" }, NODE_REPLACE_KEYS),
    ).toEqual(["ignitionHash"]);
    expect(
      changedKeys(nodeInputs, { ...nodeInputs, readinessTimeoutSec: 5 }, NODE_REPLACE_KEYS),
    ).toEqual([]);
    expect(
      changedKeys(nodeInputs, { ...nodeInputs, base: { ...nodeInputs.base } }, NODE_REPLACE_KEYS),
    ).toEqual([]);
  });
});
