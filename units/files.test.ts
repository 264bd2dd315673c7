// Unit files as an admin writes them: what they become, and each mistake reported
// with its file, line, option and fix, all problems at once.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkUnit, parseUnitFile } from "../fleet/unit";
import { formatProblems, type Problem } from "../labdata/problems";
import {
  checkUnitFiles,
  readUnitFiles,
  type UnitFilesContext,
  type UnitFileSettings,
  type UnitFileText,
} from "./files";
import { serviceUnits } from "./services";

const ctx: UnitFilesContext = {
  labUnits: serviceUnits().map((u) => u.name),
  machines: [
    { name: "core-01", metadata: { role: "etcd", lan: "true" } },
    { name: "core-02", metadata: { role: "etcd" } },
    { name: "core-03", metadata: { role: "worker" } },
  ],
  settingsKey: "fleetlab:units",
};

const TFTP = `[Unit]
Description=TFTP for PXE
After=docker.service

[Service]
ExecStart=/usr/bin/docker run --rm --name=tftp-%i --net=host example/tftp

[X-Fleet]
MachineMetadata=lan=true
Conflicts=tftp@*.service
`;

const file = (name: string, text: string): UnitFileText => ({
  file: `units/${name}`,
  name,
  text,
});

function check(files: UnitFileText[], settings: Record<string, UnitFileSettings> = {}) {
  return checkUnitFiles(files, settings, ctx);
}

/** The problems as the user reads them. */
const shown = (problems: Problem[]) => formatProblems("local", problems);

describe("unit files", () => {
  it("a plain unit is launched; a template is submitted inactive with its instances launched", () => {
    const r = check(
      [file("redis.service", "[Service]\nExecStart=/bin/true\n"), file("tftp@.service", TFTP)],
      {
        "tftp@.service": { instances: ["1", "2"] },
      },
    );
    expect(r.problems).toEqual([]);
    expect(r.units.map((u) => [u.name, u.desiredState])).toEqual([
      ["redis.service", "launched"],
      ["tftp@.service", "inactive"],
      ["tftp@1.service", "launched"],
      ["tftp@2.service", "launched"],
    ]);
    // Each passes the engine's own check, as the API will apply it.
    for (const u of r.units)
      expect(() => checkUnit(u.name, parseUnitFile(u.text), u.desiredState)).not.toThrow();
  });

  it("a stack's desiredState applies to the unit, or to each instance of a template", () => {
    const r = check(
      [file("redis.service", "[Service]\nExecStart=/bin/true\n"), file("tftp@.service", TFTP)],
      {
        "redis.service": { desiredState: "loaded" },
        "tftp@.service": { instances: ["a"], desiredState: "inactive" },
      },
    );
    expect(r.units.map((u) => u.desiredState)).toEqual(["loaded", "inactive", "inactive"]);
  });

  it("MachineOf may name a lab unit or another file's instance", () => {
    const side = "[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineOf=tftp@%i.service\n";
    const r = check(
      [
        file("tftp@.service", TFTP),
        file("tftp-log@.service", side),
        file(
          "www-log.service",
          "[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineOf=www.service\n",
        ),
      ],
      {
        "tftp@.service": { instances: ["1"] },
        "tftp-log@.service": { instances: ["1"] },
      },
    );
    expect(r.problems).toEqual([]);
  });

  it("an unknown [X-Fleet] option names its file, line and the option it looks like", () => {
    const r = check([
      file(
        "redis.service",
        "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineMetdata=lan=true\n",
      ),
    ]);
    expect(r.units).toEqual([]);
    expect(r.problems).toEqual([
      expect.objectContaining({
        file: "units/redis.service",
        key: "line 5 [X-Fleet] MachineMetdata",
        value: "lan=true",
      }),
    ]);
    expect(shown(r.problems)).toMatch(
      /units\/redis\.service: line 5 \[X-Fleet\] MachineMetdata = "lan=true": is not an \[X-Fleet\] option.*\n\s+fix: did you mean MachineMetadata\?/,
    );
  });

  it("Global with Replaces names both lines", () => {
    const r = check([
      file(
        "a.service",
        "[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobal=true\nReplaces=www.service\n",
      ),
    ]);
    expect(r.problems).toEqual([
      expect.objectContaining({
        file: "units/a.service",
        key: "line 4, 5 [X-Fleet] Global, Replaces",
      }),
    ]);
    expect(r.problems[0].problem).toMatch(/cannot be combined/);
  });

  it("a MachineOf naming no unit of the lab says so, with the nearest name", () => {
    const r = check([
      file(
        "a.service",
        "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineOf=ww.service\n",
      ),
    ]);
    expect(r.problems).toEqual([
      expect.objectContaining({ key: "line 6 [X-Fleet] MachineOf", value: "ww.service" }),
    ]);
    expect(r.problems[0].problem).toMatch(/names a unit the lab does not have/);
    expect(r.problems[0].fix).toBe("did you mean www.service?");
  });

  it("an instance's MachineOf is checked as expanded, so a missing instance is caught", () => {
    const side = "[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineOf=tftp@%i.service\n";
    const r = check([file("tftp@.service", TFTP), file("tftp-log@.service", side)], {
      "tftp@.service": { instances: ["1"] },
      "tftp-log@.service": { instances: ["2"] },
    });
    expect(r.problems.map((p) => p.problem)).toEqual([
      expect.stringMatching(/^tftp-log@2\.service: MachineOf=tftp@2\.service names a unit/),
    ]);
  });

  it("MachineMetadata no machine has is refused, listing what the machines have", () => {
    const r = check([
      file("gpu.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineMetadata=gpu=true\n"),
    ]);
    expect(r.problems).toEqual([
      expect.objectContaining({ key: "line 4 [X-Fleet] MachineMetadata" }),
    ]);
    expect(r.problems[0].fix).toMatch(/core-01 \{role=etcd, lan=true\}/);
  });

  it("a syntax error names its line", () => {
    const r = check([file("a.service", "[Service]\nExecStart=/bin/true\nthis is not an option\n")]);
    expect(r.problems).toEqual([
      expect.objectContaining({ file: "units/a.service", key: "line 3" }),
    ]);
    expect(r.problems[0].problem).toMatch(/is not Key=Value/);
  });

  it("a value fleet would refuse (Global=maybe) names its line and the fix", () => {
    const r = check([
      file("a.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobal=maybe\n"),
    ]);
    expect(r.problems).toEqual([
      expect.objectContaining({
        key: "line 4 [X-Fleet] Global",
        fix: "write Global=true or Global=false",
      }),
    ]);
  });

  it.each([
    ["an empty file", "", "the file has no options"],
    ["a service with nothing to run", "[X-Fleet]\nGlobal=true\n", "has no ExecStart="],
  ])("%s is refused: systemd would not start it", (_, text, problem) => {
    const r = check([file("a.service", text)]);
    expect(r.problems).toEqual([
      expect.objectContaining({
        file: "units/a.service",
        key: "[Service]",
        problem: expect.stringContaining(problem),
      }),
    ]);
  });

  it("reads CRLF line ends and a byte-order mark as systemd does", () => {
    const r = check([file("a.service", "\ufeff[Service]\r\nExecStart=/bin/true\r\n")]);
    expect(r.problems).toEqual([]);
  });

  it("names the line of an unknown specifier, expanded for the instance", () => {
    const r = check([
      file("a.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nConflicts=%z\n"),
    ]);
    expect(r.problems).toEqual([expect.objectContaining({ key: "line 4 [X-Fleet] Conflicts" })]);
  });

  it("reports the problems of a bad directory as the user reads them", () => {
    const r = check(
      [
        file(
          "a.service",
          "[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobl=true\nMachineOf=ww.service\n",
        ),
        file(
          "b.service",
          "[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobal=true\nReplaces=www.service\n",
        ),
        file("c@.service", TFTP),
      ],
      { "c@.service": { instances: ["1", "2"] } },
    );
    expect(shown(r.problems)).toMatchSnapshot();
  });

  it("a file may not take a lab unit's name", () => {
    const r = check([file("www.service", "[Service]\nExecStart=/bin/true\n")]);
    expect(r.problems).toEqual([
      expect.objectContaining({ key: "file name", value: "www.service" }),
    ]);
  });

  it("an instance that is also a file of its own is refused, naming both ways out", () => {
    const r = check(
      [file("tftp@.service", TFTP), file("tftp@1.service", "[Service]\nExecStart=/bin/true\n")],
      { "tftp@.service": { instances: ["1", "2"] } },
    );
    expect(r.units).toEqual([]);
    expect(r.problems).toEqual([
      {
        file: "units/tftp@.service",
        key: "fleetlab:units.tftp@.service.instances",
        value: "1",
        problem:
          "makes tftp@1.service, which is also a file of its own: fleet would get two units of that name",
        fix: "drop that instance from fleetlab:units.tftp@.service.instances, or remove the file tftp@1.service",
      },
    ]);
  });

  it("settings naming no file are problems of the stack key, with the nearest file", () => {
    const r = check([file("tftp@.service", TFTP)], { "tfpt@.service": { instances: ["1"] } });
    expect(r.problems).toEqual([
      expect.objectContaining({
        key: "fleetlab:units.tfpt@.service",
        fix: "did you mean tftp@.service?",
      }),
    ]);
  });

  it("a Replaces cycle across files is refused", () => {
    const r = check([
      file("a.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nReplaces=b.service\n"),
      file("b.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nReplaces=a.service\n"),
    ]);
    expect(r.problems.map((p) => p.problem)).toEqual([expect.stringMatching(/Replaces cycle/)]);
  });

  it("reports every file's problems together", () => {
    const r = check([
      file("a.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobl=true\n"),
      file("b.service", "[Service\n"),
    ]);
    expect(r.problems.map((p) => `${p.file}: ${p.key}`)).toEqual([
      "units/a.service: line 4 [X-Fleet] Globl",
      "units/b.service: line 1",
    ]);
  });
});

describe("readUnitFiles", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "flt-units-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads unit files, skips the lab's sources and notes, and reports a misspelt suffix", () => {
    fs.writeFileSync(path.join(dir, "tftp@.service"), TFTP);
    fs.writeFileSync(path.join(dir, "services.ts"), "");
    fs.writeFileSync(path.join(dir, "README.md"), "");
    fs.writeFileSync(path.join(dir, ".hidden.service"), "");
    fs.mkdirSync(path.join(dir, "__snapshots__"));
    fs.writeFileSync(path.join(dir, "redis.servce"), "[Service]\n");
    const r = readUnitFiles(dir, "units");
    expect(r.files.map((f) => [f.file, f.name])).toEqual([
      ["units/tftp@.service", "tftp@.service"],
    ]);
    expect(r.problems).toEqual([
      expect.objectContaining({ file: "units/redis.servce", key: "file name" }),
    ]);
  });

  it("finds no unit file in the repository's units/ (the lab's services are TypeScript)", () => {
    const r = readUnitFiles(path.join(__dirname), "units");
    expect(r).toEqual({ files: [], problems: [] });
  });
});
