import {
  checkUnit,
  expandSpecifiers,
  globMatch,
  parseUnitFile,
  parseUnitName,
  parseXFleet,
  serializeUnit,
  templateOf,
  unitHash,
  checkReplacesCycles,
  XFleet,
} from ".";
import fc from "fast-check";

const TEXT = `# comment
[Unit]
Description=web %i
After=docker.service

[Service]
ExecStart=/usr/bin/docker run \\
  --rm nginx

[X-Fleet]
Conflicts=%p@*.service
MachineMetadata=role=web
MachineMetadata=role=edge lan=true
`;

test("parse and serialise keep options, order and sections", () => {
  const opts = parseUnitFile(TEXT);
  expect(opts).toContainEqual({
    section: "Service",
    name: "ExecStart",
    value: "/usr/bin/docker run --rm nginx",
  });
  expect(parseUnitFile(serializeUnit(opts))).toEqual(opts);
  expect(unitHash(opts)).toMatch(/^[0-9a-f]{40}$/);
});

test("round trip for arbitrary options", () => {
  const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,10}$/);
  const value = fc.stringMatching(/^[^\n\\]*$/).map((s) => s.trim());
  fc.assert(
    fc.property(
      fc.array(fc.record({ section: word, name: word, value }), { maxLength: 8 }),
      (opts) => {
        // serialisation groups by section, so compare grouped
        const back = parseUnitFile(serializeUnit(opts));
        const group = (o: typeof opts) => [...o].sort((a, b) => a.section.localeCompare(b.section));
        expect(group(back).map((o) => o.section)).toEqual(group(opts).map((o) => o.section));
        expect(back.length).toBe(opts.length);
      },
    ),
  );
});

test("malformed files name the line", () => {
  expect(() => parseUnitFile("ExecStart=/bin/true")).toThrow(
    /line 1: "ExecStart" appears before any \[Section\]/,
  );
  expect(() => parseUnitFile("[Service]\nnonsense")).toThrow(/line 2: "nonsense" is not Key=Value/);
  expect(() => parseUnitFile("[Service\nA=b")).toThrow(/malformed section header/);
  expect(() => parseUnitFile("[Service]\n" + "A=" + "x".repeat(70_000))).toThrow(
    /over the 65536-byte limit/,
  );
});

test("names, templates and specifiers", () => {
  expect(parseUnitName("web@3.service")).toMatchObject({
    prefix: "web",
    instance: "3",
    isInstance: true,
    base: "web@3",
  });
  expect(parseUnitName("web@.service").isTemplate).toBe(true);
  expect(templateOf("web@3.service")).toBe("web@.service");
  expect(templateOf("web.service")).toBeUndefined();
  expect(expandSpecifiers("%n %N %p %i %%", "web@3.service")).toBe("web@3.service web@3 web 3 %");
  expect(() => parseUnitName("bad name.service")).toThrow(/invalid unit name/);
  expect(() => parseUnitName("foo.exe")).toThrow(/ending in one of/);
  expect(() => expandSpecifiers("%z", "a.service")).toThrow(/unknown specifier %z/);
});

test("[X-Fleet] parsing: metadata OR/AND, conflicts glob with specifiers", () => {
  const x = parseXFleet(parseUnitFile(TEXT), "web@2.service");
  expect(x.machineMetadata).toEqual({ role: ["web", "edge"], lan: ["true"] });
  expect(x.conflicts).toEqual(["web@*.service"]);
  expect(globMatch("web@*.service", "web@1.service")).toBe(true);
  expect(globMatch("web@*.service", "db.service")).toBe(false);
});

const xf = (lines: string) => () => parseXFleet(parseUnitFile(`[X-Fleet]\n${lines}`), "a.service");
test("[X-Fleet] rejects unknown keys and invalid combinations, fleet-style", () => {
  expect(xf("MachineRole=web")).toThrow(
    /unknown \[X-Fleet\] option MachineRole: use one of MachineID, MachineOf/,
  );
  expect(xf("Global=true\nMachineID=abc")).toThrow(
    /Global=true .* cannot be combined with MachineID, MachineOf or Replaces/,
  );
  expect(xf("Global=true\nReplaces=b.service")).toThrow(/Global/);
  expect(xf("Replaces=b.service\nConflicts=c.service")).toThrow(
    /Replaces cannot be combined with Conflicts/,
  );
  expect(xf("MachineID=abc\nMachineOf=b.service")).toThrow(/MachineID and MachineOf/);
  expect(xf("Global=yes")).toThrow(/Global=yes: use true or false/);
  expect(xf("MachineMetadata=justakey")).toThrow(/not key=value/);
  expect(xf("Global=true\nMachineMetadata=role=web")).not.toThrow();
});

test("Replaces cycles are rejected", () => {
  const g = new Map<string, XFleet>();
  const x = (replaces: string[]): XFleet => ({
    machineOf: [],
    machineMetadata: {},
    conflicts: [],
    global: false,
    replaces,
  });
  g.set("a.service", x(["b.service"]));
  g.set("b.service", x(["c.service"]));
  expect(() => checkReplacesCycles(g)).not.toThrow();
  g.set("c.service", x(["a.service"]));
  expect(() => checkReplacesCycles(g)).toThrow(
    /Replaces cycle: a.service -> b.service -> c.service -> a.service/,
  );
});

test("checkUnit: templates cannot be launched, desired states are checked", () => {
  const opts = [{ section: "Service", name: "ExecStart", value: "/bin/true" }];
  expect(() => checkUnit("web@.service", opts, "launched")).toThrow(/is a template/);
  expect(() => checkUnit("a.service", opts, "running")).toThrow(
    /desiredState "running" is invalid/,
  );
  expect(() => checkUnit("a.service", [{ section: "S" }], "loaded")).toThrow(
    /options\[0\] must be/,
  );
  expect(checkUnit("a.service", opts, "loaded").unit.desiredState).toBe("loaded");
});
