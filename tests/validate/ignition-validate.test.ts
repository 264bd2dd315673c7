// Every rendered Ignition passes the real ignition-validate (Debian's, Ignition 2.14),
// and broken configs are shown to fail it.
import { renderLab, requireTool, run, STACKS, tempDir, writeIgnition } from "./lab";
import * as fs from "fs";
import type { IgnitionConfig } from "../../infra/ignition";

const validator = requireTool("ignition-validate", "ignition");
const dir = tempDir("ignval");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(STACKS)("stack %s", (stack) => {
  const lab = renderLab(stack);
  it.each(lab.nodes.map((n) => [n.node.name, n] as const))(
    "%s passes ignition-validate",
    (name, n) => {
      const r = run(validator, [writeIgnition(dir, `${stack}-${name}`, n.ignition)]);
      expect(r).toEqual({ code: 0, output: "" });
    },
  );
});

describe("ignition-validate rejects broken configs", () => {
  const good = renderLab("local").nodes[0].ignition;
  const broken: [string, (c: IgnitionConfig) => unknown, RegExp][] = [
    [
      "spec 3.4.0 (newer than Debian's validator)",
      (c) => ({ ...c, ignition: { version: "3.4.0" } }),
      /unsupported config version/,
    ],
    [
      "a file mode written as text",
      (c) => ((c.storage.files[0].mode = "0644" as never), c),
      /cannot unmarshal string/,
    ],
    [
      "a relative file path",
      (c) => ((c.storage.files[0].path = "etc/hostname"), c),
      /path not absolute/,
    ],
    [
      "the same file twice",
      (c) => (c.storage.files.push(c.storage.files[0]), c),
      /duplicate entry/,
    ],
    [
      "a unit without a closing bracket",
      (c) => (
        (c.systemd.units.find((u) => u.contents)!.contents = "[Service\nExecStart=/bin/true\n"),
        c
      ),
      /invalid unit content/,
    ],
  ];
  it.each(broken)("%s", (name, breakIt, message) => {
    const file = writeIgnition(
      dir,
      `broken-${name.replace(/\W+/g, "-")}`,
      JSON.stringify(breakIt(structuredClone(good))),
    );
    const r = run(validator, [file]);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(message);
  });
});
