// The stack config as a new user mistypes it and an attacker bends it: each case is
// refused naming the key, the value and a fix, before any resource exists.
import * as fs from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { configProblems as problems, DEMO_SSH_KEY, validRawConfig } from "./fixtures";
import { configFromEngine, readStackConfig } from "./load";
import { parseLabSpec } from "./parse";
import type { Raw } from "./read";

const node0 = (extra: Raw): Raw => {
  const raw = validRawConfig();
  const nodes = raw.nodes as Raw[];
  return { ...raw, nodes: [{ ...nodes[0], ...extra }, ...nodes.slice(1)] };
};
const meta = (v: unknown) => node0({ metadata: { lan: v } });
const with_ = (over: Raw): Raw => ({ ...validRawConfig(), ...over });
const engine = (over: Record<string, string>) => {
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(validRawConfig()))
    all[`fleetlab:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  return () => parseLabSpec("local", configFromEngine({ ...all, ...over }, "local"));
};

// [name, run, key, value (substring of its JSON), fix]
const cases: [string, () => unknown, string, string, RegExp][] = [
  [
    "namespace typo fletlab:",
    engine({ "fletlab:etcdHeartbeatMs": "100" }),
    "fletlab:etcdHeartbeatMs",
    "100",
    /did you mean fleetlab:etcdHeartbeatMs\?/,
  ],
  [
    "namespace typo Fleetlab:",
    engine({ "Fleetlab:services": "true" }),
    "Fleetlab:services",
    "true",
    /did you mean fleetlab:services\?/,
  ],
  [
    "namespace typo fleetlabs:",
    engine({ "fleetlabs:machines": "true" }),
    "fleetlabs:machines",
    "true",
    /did you mean fleetlab:machines/,
  ],
  [
    "namespace typo flettlab:",
    engine({ "flettlab:data": "{}" }),
    "flettlab:data",
    "{}",
    /did you mean fleetlab:data/,
  ],
  [
    "malformed JSON through the engine",
    engine({ "fleetlab:nodes": "[{name: core-01" }),
    "fleetlab:nodes",
    "[{name",
    /pulumi config set --path/,
  ],
  [
    "malformed object through the engine",
    engine({ "fleetlab:data": "{dhcp: x}" }),
    "fleetlab:data",
    "{dhcp",
    /pulumi config set --path/,
  ],
  [
    "top-level typo",
    () => parseLabSpec("local", with_({ etcdHeartbeat: 100 })),
    "fleetlab:etcdHeartbeat",
    "100",
    /did you mean etcdHeartbeatMs\?/,
  ],
  [
    "top-level case typo",
    () => parseLabSpec("local", with_({ SshKeys: [DEMO_SSH_KEY] })),
    "fleetlab:SshKeys",
    "ssh-ed25519",
    /did you mean sshKeys\?/,
  ],
  [
    "unknown top-level key",
    () => parseLabSpec("local", with_({ region: "eu" })),
    "fleetlab:region",
    "eu",
    /remove it, or use one of/,
  ],
  [
    "network key typo",
    () =>
      parseLabSpec(
        "local",
        with_({ network: { ...(validRawConfig().network as Raw), gatway: "10.88.0.1" } }),
      ),
    "fleetlab:network.gatway",
    "10.88.0.1",
    /did you mean gateway\?/,
  ],
  [
    "node key typo",
    () => parseLabSpec("local", node0({ memoryMib: 2048 })),
    "fleetlab:nodes[0].memoryMib",
    "2048",
    /did you mean memoryMiB\?/,
  ],
  [
    "data key typo",
    () => parseLabSpec("local", with_({ data: { dchp: "data/dhcp.yaml" } })),
    "fleetlab:data.dchp",
    "data/dhcp.yaml",
    /did you mean dhcp\?/,
  ],
  [
    "node named localhost",
    () => parseLabSpec("local", node0({ name: "localhost" })),
    "fleetlab:nodes[0].name",
    "localhost",
    /core-01/,
  ],
  [
    "node named broadcasthost",
    () => parseLabSpec("local", node0({ name: "broadcasthost" })),
    "fleetlab:nodes[0].name",
    "broadcasthost",
    /own name/,
  ],
  [
    "node named with digits only",
    () => parseLabSpec("local", node0({ name: "10" })),
    "fleetlab:nodes[0].name",
    "10",
    /own name/,
  ],
  [
    "metadata $(...)",
    () => parseLabSpec("local", meta("$(id)")),
    "fleetlab:nodes[0].metadata.lan",
    "$(id)",
    /lan: "true"/,
  ],
  [
    "metadata backticks",
    () => parseLabSpec("local", meta("`id`")),
    "fleetlab:nodes[0].metadata.lan",
    "`id`",
    /lan: "true"/,
  ],
  [
    "metadata ;",
    () => parseLabSpec("local", meta("a;reboot")),
    "fleetlab:nodes[0].metadata.lan",
    "a;reboot",
    /lan/,
  ],
  [
    "metadata &&",
    () => parseLabSpec("local", meta("a&&b")),
    "fleetlab:nodes[0].metadata.lan",
    "a&&b",
    /lan/,
  ],
  [
    "metadata pipe",
    () => parseLabSpec("local", meta("a|b")),
    "fleetlab:nodes[0].metadata.lan",
    "a|b",
    /lan/,
  ],
  [
    "metadata redirect",
    () => parseLabSpec("local", meta("a>b")),
    "fleetlab:nodes[0].metadata.lan",
    "a>b",
    /lan/,
  ],
  [
    "metadata single quote",
    () => parseLabSpec("local", meta("a'b")),
    "fleetlab:nodes[0].metadata.lan",
    "a'b",
    /lan/,
  ],
  [
    "metadata double quote",
    () => parseLabSpec("local", meta('a"b')),
    "fleetlab:nodes[0].metadata.lan",
    'a\\"b',
    /lan/,
  ],
  [
    "metadata $VAR",
    () => parseLabSpec("local", meta("$HOME")),
    "fleetlab:nodes[0].metadata.lan",
    "$HOME",
    /lan/,
  ],
  [
    "metadata newline",
    () => parseLabSpec("local", meta("a\nX=1")),
    "fleetlab:nodes[0].metadata.lan",
    "a\\nX=1",
    /lan/,
  ],
  [
    "metadata backslash",
    () => parseLabSpec("local", meta("a\\")),
    "fleetlab:nodes[0].metadata.lan",
    "a\\\\",
    /lan/,
  ],
  [
    "metadata glob",
    () => parseLabSpec("local", meta("*")),
    "fleetlab:nodes[0].metadata.lan",
    "*",
    /lan/,
  ],
  [
    "metadata as a list",
    () => parseLabSpec("local", meta(["a"])),
    "fleetlab:nodes[0].metadata.lan",
    '["a"]',
    /lan/,
  ],
  [
    "image :latest",
    () => parseLabSpec("local", with_({ etcdImage: "quay.io/coreos/etcd:latest" })),
    "fleetlab:etcdImage",
    ":latest",
    /pin a release tag or a digest/,
  ],
  [
    "image without a tag",
    () => parseLabSpec("local", with_({ fleetImage: "fleetlab/fleet" })),
    "fleetlab:fleetImage",
    "fleetlab/fleet",
    /name:tag/,
  ],
  [
    "image with a bad digest",
    () => parseLabSpec("local", with_({ etcdImage: "quay.io/coreos/etcd:v3.5.17@sha256:abc" })),
    "fleetlab:etcdImage",
    "sha256:abc",
    /name:tag@sha256/,
  ],
  [
    "image that is an option",
    () => parseLabSpec("local", with_({ etcdImage: "--privileged" })),
    "fleetlab:etcdImage",
    "--privileged",
    /name:tag/,
  ],
  [
    "unsatisfiable lease for a long election",
    () => parseLabSpec("local", with_({ etcdHeartbeatMs: 5000, etcdElectionMs: 50000 })),
    "fleetlab:fleetLeaseTtlSec",
    "",
    /lower fleetlab:etcdElectionMs to at most 28000/,
  ],
  [
    "election fix that fits the range",
    () =>
      parseLabSpec(
        "local",
        with_({ etcdHeartbeatMs: 8000, etcdElectionMs: 30000, fleetLeaseTtlSec: 120 }),
      ),
    "fleetlab:etcdElectionMs",
    "30000",
    /use 50000 \(the most allowed\)/,
  ],
];

describe("the stack config refuses", () => {
  test.each(cases)("%s", (_n, run, key, value, fix) => {
    const p = problems(run).find((x) => x.key === key);
    expect(p).toBeDefined();
    expect(JSON.stringify(p!.value ?? "")).toContain(value);
    expect(p!.fix).toMatch(fix);
  });

  const dir = fs.mkdtempSync(join(tmpdir(), "flt-stack-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  test.each([
    [
      "a directory",
      () => (fs.mkdirSync(join(dir, "Pulumi.d.yaml")), join(dir, "Pulumi.d.yaml")),
      /is a directory/,
    ],
    ["a device", () => "/dev/zero", /not a regular file/],
    ["a missing file", () => join(dir, "Pulumi.none.yaml"), /cannot be read \(ENOENT\)/],
    [
      "a link loop",
      () => (
        fs.symlinkSync(join(dir, "Pulumi.l.yaml"), join(dir, "Pulumi.l.yaml")),
        join(dir, "Pulumi.l.yaml")
      ),
      /ELOOP/,
    ],
    [
      "not YAML",
      () => (
        fs.writeFileSync(join(dir, "Pulumi.y.yaml"), "config: [\n"),
        join(dir, "Pulumi.y.yaml")
      ),
      /is not valid YAML.*fix the YAML syntax/,
    ],
    [
      "a huge file",
      () => (
        fs.writeFileSync(join(dir, "Pulumi.h.yaml"), ""),
        fs.truncateSync(join(dir, "Pulumi.h.yaml"), 2 << 20),
        join(dir, "Pulumi.h.yaml")
      ),
      /more than a stack file/,
    ],
  ])("a stack path that is %s, naming the file and the fix", (_n, file, problem) => {
    const f = file();
    expect(() => readStackConfig(f, "x")).toThrow(problem);
    expect(() => readStackConfig(f, "x")).toThrow(f);
    expect(() => readStackConfig(f, "x")).toThrow(/Pulumi\.<stack>\.yaml|fix the YAML/);
  });
});

describe("the stack config accepts", () => {
  test.each([
    "quay.io/coreos/etcd:v3.5.17",
    `quay.io/coreos/etcd:v3.5.17@sha256:${"a".repeat(64)}`,
    `quay.io/coreos/etcd@sha256:${"b".repeat(64)}`,
    `quay.io/coreos/etcd:latest@sha256:${"c".repeat(64)}`,
  ])("the image %s (a tag, a digest, or both: the digest pins it)", (img) =>
    expect(() => parseLabSpec("local", with_({ etcdImage: img }))).not.toThrow(),
  );
  test("metadata values that are plain words", () =>
    expect(() => parseLabSpec("local", meta("rack-2/row:b+1@x_y.z"))).not.toThrow());
});
