// fleetlab:unitsDir and fleetlab:units: the keys' shape when the stack is parsed, and
// the files checked against the lab when the program runs (labUnitFiles).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { configProblems, validRawConfig } from "./fixtures";
import { parseLabSpec } from "./parse";
import { labUnitFiles } from "./units";

const parse = (over: Record<string, unknown>) =>
  parseLabSpec("local", { ...validRawConfig(), ...over });

describe("fleetlab:units", () => {
  it("defaults to the project's units/ and no settings", () => {
    expect(parse({}).units).toEqual({ dir: "units", files: {} });
  });

  it("turns a count of instances into 1..N and keeps named ones", () => {
    const spec = parse({
      units: {
        "tftp@.service": { instances: 2 },
        "web@.service": { instances: ["blue", "green"], desiredState: "loaded" },
      },
    });
    expect(spec.units.files).toEqual({
      "tftp@.service": { instances: ["1", "2"] },
      "web@.service": { instances: ["blue", "green"], desiredState: "loaded" },
    });
  });

  it.each<[string, unknown, string, RegExp]>([
    ["not a mapping", ["tftp@.service"], "fleetlab:units", /mapping of unit file names/],
    [
      "instances on a plain unit",
      { "redis.service": { instances: 2 } },
      "fleetlab:units.redis.service.instances",
      /not a template/,
    ],
    ["a bad name", { "tftp@": {} }, "fleetlab:units.tftp@", /invalid unit name/],
    [
      "an unknown setting",
      { "tftp@.service": { instance: 2 } },
      "fleetlab:units.tftp@.service.instance",
      /unknown key/,
    ],
    [
      "zero instances",
      { "tftp@.service": { instances: 0 } },
      "fleetlab:units.tftp@.service.instances",
      /out of range/,
    ],
    [
      "an instance twice",
      { "tftp@.service": { instances: ["a", "a"] } },
      "fleetlab:units.tftp@.service.instances",
      /given twice/,
    ],
    [
      "an option-like instance",
      { "tftp@.service": { instances: ["a b"] } },
      "fleetlab:units.tftp@.service.instances",
      /not \[A-Za-z0-9/,
    ],
    [
      "a desired state fleet lacks",
      { "redis.service": { desiredState: "running" } },
      "fleetlab:units.redis.service.desiredState",
      /not a known value/,
    ],
  ])("refuses %s, naming the key", (_, units, key, problem) => {
    const ps = configProblems(() => parse({ units }));
    expect(ps).toEqual([expect.objectContaining({ key, problem: expect.stringMatching(problem) })]);
    expect(ps[0].fix).not.toBe("");
  });
});

describe("labUnitFiles", () => {
  let project: string;
  beforeEach(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), "flt-unitsdir-"));
    fs.mkdirSync(path.join(project, "units"));
  });
  afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

  it("reads the stack's directory and applies its settings", () => {
    fs.writeFileSync(
      path.join(project, "units", "tftp@.service"),
      "[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineMetadata=lan=true\n",
    );
    const spec = parse({ units: { "tftp@.service": { instances: 1 } } });
    expect(labUnitFiles(spec, project).map((u) => u.name)).toEqual([
      "tftp@.service",
      "tftp@1.service",
    ]);
  });

  it("reports a missing directory under fleetlab:unitsDir", () => {
    const spec = parse({ unitsDir: "my-units" });
    expect(configProblems(() => labUnitFiles(spec, project))).toEqual([
      expect.objectContaining({
        key: "fleetlab:unitsDir",
        value: "my-units",
        problem: expect.stringMatching(/does not exist/),
      }),
    ]);
  });

  it("reports a bad file and a stale setting together, as one ConfigError", () => {
    fs.writeFileSync(
      path.join(project, "units", "a.service"),
      "[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobal=yes\n",
    );
    const spec = parse({ units: { "b.service": {} } });
    expect(configProblems(() => labUnitFiles(spec, project)).map((p) => p.key)).toEqual([
      "fleetlab:units.b.service",
      "line 4 [X-Fleet] Global",
    ]);
  });
});
