// `npm run render -- <stack> <outdir>` as a user runs it: real files, accepted by
// the real ignition-validate; bad config fails naming the keys and writes nothing.
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "../../infra/config";
import { DEMO_SSH_KEY } from "../../infra/config/fixtures";
import { requireTool, run, tempDir } from "./lab";

jest.setTimeout(120_000);
const validator = requireTool("ignition-validate", "ignition");
const dir = tempDir("render");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const render = (...args: string[]) =>
  run("npm", ["run", "--silent", "render", "--", ...args], { cwd: PROJECT_DIR, timeoutMs: 60_000 });

test.each([
  ["dev", ["core-01", "core-02", "core-03"]],
  ["faculty", ["core-01", "core-02", "core-03", "worker-01"]],
])("render %s writes valid Ignition for every node", (stack, nodes) => {
  const out = path.join(dir, stack);
  const r = render(stack, out);
  expect(r.code).toBe(0);
  expect(r.output).toMatch(/generated just now/);
  expect(fs.readdirSync(out).sort()).toEqual(nodes.map((n) => `${n}.ign`));
  for (const n of nodes) {
    const file = path.join(out, `${n}.ign`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, "utf8")).toMatch(
      /^\{\n {2}"ignition": \{\n {4}"version": "3\.3\.0"/,
    );
    expect(run(validator, [file])).toEqual({ code: 0, output: "" });
  }
});

test("bad config fails with every problem named and creates nothing", () => {
  const stackFile = path.join(dir, "Pulumi.broken.yaml");
  fs.writeFileSync(
    stackFile,
    [
      "config:",
      "  fleetlab:environment: dev",
      "  fleetlab:hypervisor: { kind: virtualbox }",
      "  fleetlab:network: { cidr: 192.168.56.0/24, gateway: 192.168.56.1 }",
      "  fleetlab:nodes: [{ name: a }, { name: b, ip: 10.0.0.5 }]",
      "  fleetlab:flatcarChannel: nightly",
      `  fleetlab:sshKeys: ["${DEMO_SSH_KEY}"]`,
    ].join("\n"),
  );
  const out = path.join(dir, "broken-out");
  const r = render(stackFile, out);
  expect(r.code).toBe(1);
  expect(r.output).toContain('stack "broken"');
  expect(r.output).toContain("fleetlab:nodes =");
  expect(r.output).toContain('fleetlab:nodes[1].ip = "10.0.0.5"');
  expect(r.output).toContain('fleetlab:flatcarChannel = "nightly"');
  expect(r.output).toMatch(/fix: use one of: stable, beta, alpha, lts/);
  expect(fs.existsSync(out)).toBe(false);
});

test("an unknown stack lists the known ones", () => {
  const r = render("staging", path.join(dir, "x"));
  expect(r.code).toBe(1);
  expect(r.output).toMatch(/no stack "staging".*stacks: .*dev.*faculty.*local/);
});
