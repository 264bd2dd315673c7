// The unit-file path is closed under systemd's reading, checked with the real
// systemd-analyze: generated options that fleet's reader accepts (fast-check, fixed
// seed) produce units systemd reads without a single complaint, while the kinds of
// value the reader refuses really are misread by systemd (the oracle for the table
// in fleet/unit/closure.test.ts).
import fc from "fast-check";
import * as fs from "fs";
import * as path from "path";
import { genValue } from "../../fleet/unit/testing/gen";
import { serializeUnit, UnitOption, validateOptions } from "../../fleet/unit/unit";
import { requireTool, run, tempDir } from "./lab";

const analyze = requireTool("systemd-analyze", "systemd");
const root = tempDir("closure");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A unit around `extra`: X-prefixed keys in [Unit] are parsed, then ignored by systemd. */
function unitText(extra: UnitOption[]): string {
  return serializeUnit([
    { section: "Unit", name: "Description", value: "closure probe" },
    ...extra,
    { section: "Service", name: "ExecStart", value: "/bin/true" },
  ]);
}

function verify(files: string[]) {
  return run(analyze, ["verify", "--man=no", ...files]);
}

test("a sample of accepted generated options: systemd reads every unit without a complaint", () => {
  const dir = path.join(root, "accepted");
  fs.mkdirSync(dir);
  const samples = fc.sample(fc.array(genValue(), { minLength: 1, maxLength: 6 }), {
    seed: 42,
    numRuns: 3000,
  });
  const files: string[] = [];
  const accepted: string[] = [];
  for (const values of samples) {
    const extra = values.map((value, i) => ({ section: "Unit", name: `X-Gen${i}`, value }));
    try {
      validateOptions(extra);
    } catch {
      continue;
    }
    accepted.push(...values);
    const file = path.join(dir, `probe${files.length}.service`);
    fs.writeFileSync(file, unitText(extra));
    files.push(file);
    if (files.length === 60) break;
  }
  expect(files.length).toBeGreaterThanOrEqual(30);
  // The sample holds the characters that make readers disagree, and long values.
  for (const c of ["%", "\\", '"', "'", "$", "[", "="])
    expect(accepted.some((v) => v.includes(c))).toBe(true);
  expect(accepted.some((v) => v.length > 1000)).toBe(true);
  expect(verify(files)).toEqual({ code: 0, output: "" });
});

test.each([
  ["a CR injects a key", "[Unit]\nX-Gen=a\rBogus=1\n", /Unknown key 'Bogus'/],
  [
    "a lower-case x-fleet section is ignored",
    "[x-fleet]\nMachineOf=a\n",
    /Unknown section 'x-fleet'/,
  ],
  [
    "a section name with a CR breaks the header",
    "[Unit\r]\nX-Gen=a\n",
    /Invalid section header|Missing '='|Unknown/,
  ],
])("oracle: %s in systemd's own reading", (_n, text, output) => {
  const file = path.join(root, `oracle-${Math.random().toString(36).slice(2)}.service`);
  fs.writeFileSync(file, `${text}[Service]\nExecStart=/bin/true\n`);
  expect(verify([file]).output).toMatch(output);
});
