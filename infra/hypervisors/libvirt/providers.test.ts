import { diffByRules } from "../../dynamic";
import { NODE_RULES } from "./providers";

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
    const replaces = (news: object) =>
      diffByRules(NODE_RULES, nodeInputs, { ...nodeInputs, ...news }, true).replaces;
    expect(replaces({ ignitionHash: "bb" })).toEqual(["ignitionHash"]);
    expect(replaces({ readinessTimeoutSec: 5 })).toEqual([]);
    expect(replaces({ base: { ...nodeInputs.base } })).toEqual([]);
  });
});
