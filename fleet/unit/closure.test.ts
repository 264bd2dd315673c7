// What fleet's unit readers accept, serialised, is what systemd reads: a table of
// values systemd would split, join, strip or ignore (each refused with the option and
// the fix), and a property test and a fuzz run (fast-check, bounded) over generated
// options: accepted ones round-trip exactly, anything else is a UnitError, never a crash.
import fc from "fast-check";
import { parseUnitFile, serializeUnit, UnitError, UnitOption, validateOptions } from "./unit";
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
