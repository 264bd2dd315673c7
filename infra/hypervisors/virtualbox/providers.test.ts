import { diffByRules, type Props } from "../../dynamic";
import { NODE_RULES } from "./providers";

const nodeDiff = (olds: Props, news: Props) => diffByRules(NODE_RULES, olds, news, true);

const nodeInputs = {
  name: "fleetlab-dev-core-01",
  mac: "08:00:27:a8:38:0b",
  ignitionHash: "aa",
  headless: true,
  readinessTimeoutSec: 900,
};

describe("VirtualBox node replacement rule", () => {
  it("replaces a VM on an Ignition change only; headless and the readiness bound update in place", () => {
    expect(nodeDiff(nodeInputs, { ...nodeInputs, ignitionHash: "bb" })).toEqual({
      changes: true,
      replaces: ["ignitionHash"],
      deleteBeforeReplace: true,
    });
    expect(nodeDiff(nodeInputs, { ...nodeInputs, headless: false })).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(nodeDiff(nodeInputs, { ...nodeInputs, readinessTimeoutSec: 5 }).replaces).toEqual([]);
    expect(nodeDiff(nodeInputs, { ...nodeInputs })).toMatchObject({ changes: false });
  });
});
