// Every systemd unit inside every rendered Ignition passes the real
// `systemd-analyze verify` (it needs no running systemd): syntax, known directives,
// executables present (/usr/bin/docker from Debian's docker.io, as on Flatcar) and
// dependencies that resolve. A node's units are verified together so that
// fleet-agent's Requires=etcd-member.service resolves as it will on the machine.
import * as fs from "fs";
import * as path from "path";
import { IgnitionConfig } from "../../infra/ignition";
import { renderLab, requireTool, run, STACKS, tempDir } from "./lab";

const analyze = requireTool("systemd-analyze", "systemd");
requireTool("docker", "docker.io");
const root = tempDir("sdverify");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Writes the units that carry contents into their own directory; returns paths. */
function writeUnits(dir: string, ign: IgnitionConfig): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return ign.systemd.units
    .filter((u) => u.contents !== undefined)
    .map((u) => {
      const file = path.join(dir, u.name);
      fs.writeFileSync(file, u.contents!);
      return file;
    });
}

function verify(files: string[]) {
  // --man=no: no man pages on a minimal machine; the check is about the units.
  return run(analyze, ["verify", "--man=no", ...files]);
}

describe.each(STACKS)("stack %s", (stack) => {
  const lab = renderLab(stack);
  it.each(lab.nodes.map((n) => [n.node.name, n] as const))(
    "%s: units pass systemd-analyze verify",
    (name, n) => {
      const files = writeUnits(path.join(root, stack, name), n.ignition);
      const expected =
        n.node.role === "etcd"
          ? ["etcd-member.service", "fleet-agent.service"]
          : ["fleet-agent.service"];
      expect(files.map((f) => path.basename(f)).sort()).toEqual(expected);
      // Any output, even a warning about an unknown directive, counts as a failure.
      expect(verify(files)).toEqual({ code: 0, output: "" });
    },
  );
});

describe("systemd-analyze verify catches broken units", () => {
  const dir = path.join(root, "broken");
  const cases: [string, string, RegExp][] = [
    [
      "a missing executable",
      "[Service]\nExecStart=/usr/bin/no-such-docker run x\n",
      /not executable/,
    ],
    [
      "a dependency that does not exist",
      "[Unit]\nRequires=no-such-etcd.service\n[Service]\nExecStart=/bin/true\n",
      /not found/,
    ],
    ["a misspelt directive", "[Service]\nExecStart=/bin/true\nRestrat=always\n", /Unknown key/],
    [
      "a bad Restart value",
      "[Service]\nExecStart=/bin/true\nRestart=sometimes\n",
      /Failed to parse/,
    ],
  ];
  it.each(cases)("%s", (name, contents, message) => {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name.replace(/\W+/g, "-")}.service`);
    fs.writeFileSync(file, contents);
    const r = verify([file]);
    // Unknown keys are warnings (exit 0) for systemd; the test above counts any output.
    expect(r.code !== 0 || r.output !== "").toBe(true);
    expect(r.output).toMatch(message);
  });
});
