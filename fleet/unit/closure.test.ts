// What fleet's unit readers accept, serialised, is what systemd reads: a table of
// values systemd would split, join, strip or ignore (each refused with the option and
// the fix), and a property test and a fuzz run (fast-check, bounded) over generated
// options: accepted ones round-trip exactly, anything else is a UnitError, never a crash.
import fc from "fast-check";
import { parseUnitFile, serializeUnit, UnitError, UnitOption, validateOptions } from "./unit";
import { parseXFleet } from "./xfleet";
import { genOption } from "./testing/gen";

const opt = (value: string, name = "ExecStart", section = "Service"): UnitOption[] => [
  { section, name, value },
];

// [name, options, what the error must name]
const apiCases: [string, UnitOption[], RegExp][] = [
  [
    "CR in a value (an injected key)",
    opt("/bin/true\rExecStartPre=/bin/evil"),
    /options\[0\]: value of ExecStart has a control character/,
  ],
  ["LF in a value", opt("/bin/true\nUser=root"), /control character/],
  ["CRLF in a value", opt("/bin/true\r\nUser=root"), /control character/],
  ["NUL in a value", opt("/bin/true\0x"), /control character/],
  ["ESC in a value", opt("/bin/echo \x1b[2J"), /control character/],
  ["DEL in a value", opt("/bin/echo \x7f"), /control character/],
  ["vertical tab", opt("/bin/echo \x0b"), /control character/],
  ["form feed", opt("/bin/echo \x0c"), /control character/],
  ["trailing backslash (joins the next line)", opt("/bin/true \\"), /ends with a backslash/],
  ["only a backslash", opt("\\"), /ends with a backslash/],
  ["three trailing backslashes", opt("a\\\\\\"), /ends with a backslash/],
  ["leading space (stripped)", opt(" /bin/true"), /space at an edge/],
  ["trailing space", opt("/bin/true "), /space at an edge/],
  ["trailing tab", opt("/bin/true\t"), /space at an edge/],
  ["lone high surrogate", opt("/bin/echo \ud800"), /control character/],
  ["lone low surrogate", opt("/bin/echo \udc00x"), /control character/],
  [
    "CR in a section name",
    opt("x", "A", "Service\rUser=root"),
    /section .* is not a valid section name/,
  ],
  ["LF in a section name", opt("x", "A", "Service]\n[Unit"), /not a valid section name/],
  ["] in a section name", opt("x", "A", "Service]x"), /not a valid section name/],
  ["[ in a section name", opt("x", "A", "[Service"), /not a valid section name/],
  ["NUL in a section name", opt("x", "A", "Serv\0ice"), /not a valid section name/],
  ["tab in a section name", opt("x", "A", "Ser\tvice"), /not a valid section name/],
  ["space at a section edge", opt("x", "A", " Service"), /space at an edge/],
  ["empty section", opt("x", "A", ""), /not a valid section name/],
  ["lower-case x-fleet", opt("core-01", "MachineOf", "x-fleet"), /\[x-fleet\] is not \[X-Fleet\]/],
  ["X-FLEET", opt("true", "Global", "X-FLEET"), /is not \[X-Fleet\]/],
  ["x-Fleet", opt("a", "Conflicts", "x-Fleet"), /is not \[X-Fleet\]/],
  ["= in a name", opt("x", "A=B"), /not a valid key/],
  ["space in a name", opt("x", "Exec Start"), /not a valid key/],
  ["empty name", opt("x", ""), /not a valid key/],
  ["CR in a name", opt("x", "A\rB"), /not a valid key/],
  ["non-ASCII name", opt("x", "Zażółć"), /not a valid key/],
];

describe("options through the API that systemd would read differently are refused", () => {
  test.each(apiCases)("%s", (_n, options, message) => {
    expect(() => validateOptions(options)).toThrow(UnitError);
    expect(() => validateOptions(options)).toThrow(message);
  });
});

const fileCases: [string, string, RegExp][] = [
  [
    "a lone CR inside a line",
    "[Service]\nExecStart=/bin/true\rUser=root\n",
    /line 2: .*control character/,
  ],
  ["NUL", "[Service]\nExecStart=/bin/true\0\n", /line 2: .*control character/],
  [
    "a backslash on the last line",
    "[Service]\nExecStart=/bin/true \\",
    /line 2: .*ends with a backslash/,
  ],
  ["[x-fleet]", "[x-fleet]\nMachineOf=a\n", /line 1: section \[x-fleet\] is not \[X-Fleet\]/],
  ["[ X-Fleet ]", "[ X-Fleet ]\nMachineOf=a\n", /line 1: .*space at an edge/],
];

describe("unit files that systemd would read differently are refused, naming the line", () => {
  test.each(fileCases)("%s", (_n, text, message) =>
    expect(() => parseUnitFile(text)).toThrow(message),
  );

  test("CRLF files are read as their lines (no CR is kept)", () => {
    expect(parseUnitFile("[Service]\r\nExecStart=/bin/true\r\n")).toEqual(opt("/bin/true"));
  });
});

// Unit files as a user writes them for `fleetctl submit` (or units/): read as a file,
// then its [X-Fleet] section as the engine reads it. [name, text, what the error names]
const badFiles: [string, string, RegExp][] = [
  ["an option before any section", "ExecStart=/bin/true\n", /line 1: .*before any \[Section\]/],
  [
    "a header with text after it",
    "[Service] x\nA=b\n",
    /line 1: malformed section header .*use \[Name\]/,
  ],
  ["an unclosed header", "[Service\nA=b\n", /line 1: malformed section header/],
  ["an empty header", "[]\nA=b\n", /line 1: malformed section header/],
  ["a doubled ]", "[Service]]\nA=b\n", /line 1: malformed section header/],
  ["a line without =", "[Service]\nExecStart\n", /line 2: "ExecStart" is not Key=Value/],
  ["an empty key", "[Service]\n=/bin/true\n", /line 2: .* is not Key=Value/],
  ["a space in a key", "[Service]\nExec Start=/bin/true\n", /line 2: invalid key "Exec Start"/],
  ["a non-ASCII key", "[Service]\nŻółw=1\n", /line 2: invalid key/],
  ["ESC in a value", "[Service]\nExecStart=/bin/echo \x1b[2J\n", /line 2: .*control character/],
  ["DEL in a value", "[Service]\nExecStart=/bin/echo \x7f\n", /line 2: .*control character/],
  ["a vertical tab", "[Service]\nExecStart=/bin/echo \x0b\n", /line 2: .*control character/],
  ["a form feed", "[A]\nB=c\n[Service]\nExecStart=\x0c\n", /line 4: .*control character/],
  ["NUL in a header", "[Serv\0ice]\nA=b\n", /line 1: .*control character/],
  ["a tab in a header", "[Ser\tvice]\nA=b\n", /line 1: .*not a valid section name/],
  ["a lone surrogate", "[Service]\nExecStart=/bin/echo \ud800\n", /line 2: .*control character/],
  ["[X-FLEET]", "[X-FLEET]\nGlobal=true\n", /line 1: section \[X-FLEET\] is not \[X-Fleet\]/],
  [
    "over the size limit",
    `[Service]\nExecStart=/bin/echo ${"a".repeat(70_000)}\n`,
    /over the 65536-byte limit: split it/,
  ],
  [
    "an unknown [X-Fleet] option",
    "[X-Fleet]\nMachineRole=web\n",
    /unknown \[X-Fleet\] option MachineRole: use one of/,
  ],
  [
    "fleet's deprecated X-Condition name",
    "[X-Fleet]\nX-ConditionMachineOf=b.service\n",
    /unknown \[X-Fleet\] option X-ConditionMachineOf/,
  ],
  ["a lower-case [X-Fleet] key", "[X-Fleet]\nglobal=true\n", /unknown \[X-Fleet\] option global/],
  ["Global=yes", "[X-Fleet]\nGlobal=yes\n", /Global=yes: use true or false/],
  [
    "Global with MachineID",
    "[X-Fleet]\nGlobal=true\nMachineID=abc\n",
    /cannot be combined with MachineID/,
  ],
  [
    "Global with Replaces",
    "[X-Fleet]\nGlobal=true\nReplaces=b.service\n",
    /cannot be combined with MachineID, MachineOf or Replaces/,
  ],
  ["Global with MachineOf", "[X-Fleet]\nGlobal=true\nMachineOf=b.service\n", /cannot be combined/],
  [
    "Replaces with Conflicts",
    "[X-Fleet]\nReplaces=b.service\nConflicts=c.service\n",
    /Replaces cannot be combined with Conflicts/,
  ],
  [
    "MachineID with MachineOf",
    "[X-Fleet]\nMachineID=abc\nMachineOf=b.service\n",
    /MachineID and MachineOf both fix the machine: use one/,
  ],
  ["two MachineIDs", "[X-Fleet]\nMachineID=abc\nMachineID=def\n", /MachineID is given twice/],
  ["a MachineID with spaces", '[X-Fleet]\nMachineID="not an id"\n', /is not a machine ID/],
  [
    "MachineMetadata without =",
    "[X-Fleet]\nMachineMetadata=justakey\n",
    /MachineMetadata=justakey is not key=value/,
  ],
  [
    "MachineMetadata without a value",
    "[X-Fleet]\nMachineMetadata=role=\n",
    /MachineMetadata=role= has no value.*e\.g\. role=true/,
  ],
  ["MachineOf itself", "[X-Fleet]\nMachineOf=a.service\n", /MachineOf names the unit itself/],
  ["MachineOf itself by %n", "[X-Fleet]\nMachineOf=%n\n", /MachineOf names the unit itself/],
  ["Replaces itself", "[X-Fleet]\nReplaces=a.service\n", /Replaces names the unit itself/],
  [
    "MachineOf a path",
    "[X-Fleet]\nMachineOf=../x\n",
    /MachineOf=\.\.\/x: invalid unit name "\.\.\/x"/,
  ],
  [
    "MachineOf without a type",
    "[X-Fleet]\nMachineOf=web\n",
    /MachineOf=web: invalid unit name "web".*ending in one of/,
  ],
  [
    "Replaces a name with a space in quotes",
    '[X-Fleet]\nReplaces="b c.service"\n',
    /Replaces=.*invalid unit name "b c.service"/,
  ],
];

describe("bad unit files are refused with the line or option and a fix", () => {
  test.each(badFiles)("%s", (_n, text, message) => {
    const read = () => parseXFleet(parseUnitFile(text), "a.service");
    expect(read).toThrow(UnitError);
    expect(read).toThrow(message);
  });

  // Deliberately accepted, as systemd or fleet v1.0.0 read them.
  test.each([
    ["a UTF-8 byte order mark (systemd skips it)", "\ufeff[Service]\nExecStart=/bin/true\n"],
    [
      "a continuation into a line like a header (systemd joins it too)",
      "[Service]\nExecStart=/bin/echo \\\n[Unit]\n",
    ],
    ["Global twice (the last wins, as in fleet)", "[X-Fleet]\nGlobal=true\nGlobal=false\n"],
    ["an empty Conflicts= (no conflicts)", "[X-Fleet]\nConflicts=\n"],
  ])("accepted: %s", (_n, text) => {
    expect(() => parseXFleet(parseUnitFile(text), "a.service")).not.toThrow();
  });
});

/** serializeUnit groups options by section (first-seen order): the order it reads back in. */
const bySection = (os: UnitOption[]) =>
  [...new Set(os.map((o) => o.section))].flatMap((s) => os.filter((o) => o.section === s));

describe("closure (fast-check)", () => {
  test("an accepted option set serialises to text that parses back to exactly it", () => {
    fc.assert(
      fc.property(fc.array(genOption(), { minLength: 1, maxLength: 8 }), (options) => {
        let accepted: UnitOption[];
        try {
          accepted = validateOptions(options);
        } catch (e) {
          expect(e).toBeInstanceOf(UnitError);
          return;
        }
        const back = parseUnitFile(serializeUnit(accepted));
        expect(back).toEqual(bySection(accepted));
      }),
      { numRuns: 2000, seed: 12, interruptAfterTimeLimit: 20_000 },
    );
  });

  test("fuzz: the text parser and the options reader only ever throw UnitError", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), fc.anything(), (text, body) => {
        for (const f of [() => parseUnitFile(text), () => validateOptions(body)]) {
          try {
            f();
          } catch (e) {
            expect(e).toBeInstanceOf(UnitError);
          }
        }
        // Whatever the parser accepts is stable: serialise, parse, same options.
        let parsed: UnitOption[] | undefined;
        try {
          parsed = parseUnitFile(text);
        } catch {
          return;
        }
        expect(parseUnitFile(serializeUnit(parsed))).toEqual(bySection(parsed));
      }),
      { numRuns: 3000, seed: 7, interruptAfterTimeLimit: 20_000 },
    );
  });
});
