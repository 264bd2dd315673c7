import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import {
  CONFIG_KEYS,
  configFromEngine,
  DEFAULTS,
  labSpecFromFile,
  loadStackFile,
  PROJECT_DIR,
} from ".";
import { TIMING_KEYS } from "./defaults";

describe("the committed stacks", () => {
  it("dev: VirtualBox host-only 192.168.56.0/24, 3 etcd nodes", () => {
    const s = labSpecFromFile("dev");
    expect(s.hypervisor.kind).toBe("virtualbox");
    expect(s.network.cidr).toBe("192.168.56.0/24");
    expect(s.nodes.map((n) => [n.name, n.role, n.ip])).toEqual([
      ["core-01", "etcd", "192.168.56.11"],
      ["core-02", "etcd", "192.168.56.12"],
      ["core-03", "etcd", "192.168.56.13"],
    ]);
  });

  it("faculty: libvirt over SSH, own subnet, 3 etcd members and a worker", () => {
    const s = labSpecFromFile("faculty");
    expect(s.hypervisor).toMatchObject({
      kind: "libvirt",
      uri: expect.stringMatching(/^qemu\+ssh:\/\/.+\/system$/),
    });
    expect(s.nodes.filter((n) => n.role === "etcd")).toHaveLength(3);
    expect(s.nodes.filter((n) => n.role === "worker").length).toBeGreaterThanOrEqual(1);
  });

  it("local: libvirt qemu:///system on an isolated network the lab creates", () => {
    const s = labSpecFromFile("local");
    expect(s.hypervisor).toMatchObject({
      kind: "libvirt",
      uri: "qemu:///system",
      network: { mode: "isolated" },
    });
    expect(s.nodes).toHaveLength(3);
  });

  it("fails clearly for a stack that does not exist", () => {
    expect(() => loadStackFile("nope")).toThrow(/no stack "nope".*stacks: .*dev/);
  });

  it("refuses encrypted values instead of using ciphertext", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-cfg-"));
    try {
      fs.writeFileSync(
        path.join(dir, "Pulumi.x.yaml"),
        "config:\n  fleetlab:environment:\n    secure: AAAB\n",
      );
      expect(() => loadStackFile("x", dir)).toThrow(/fleetlab:environment.*encrypted/);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe("Pulumi.yaml declarations", () => {
  const project = YAML.parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8"));
  const declared: Record<string, { type: string; default?: unknown; description?: string }> =
    project.config;

  it("declares only keys the program reads, each with a type and description", () => {
    for (const [key, decl] of Object.entries(declared)) {
      expect(CONFIG_KEYS).toContain(key);
      expect(["string", "integer", "boolean", "array"]).toContain(decl.type);
      expect(decl.description).toBeTruthy();
    }
  });

  it("has the same defaults as the program (the engine applies Pulumi.yaml's)", () => {
    for (const [key, value] of Object.entries(DEFAULTS)) {
      expect([key, declared[key]?.default]).toEqual([key, value]);
      expect(declared[key].type).toBe(typeof value === "number" ? "integer" : typeof value);
    }
  });

  it("requires environment and sshKeys in every stack (no default)", () => {
    expect(declared.environment.default).toBeUndefined();
    expect(declared.sshKeys.default).toBeUndefined();
  });

  it("leaves the timing keys undeclared (a declared key needs a default or a value), so the program can tell unset and follow the host", () => {
    for (const key of TIMING_KEYS) expect([key, declared[key]]).toEqual([key, undefined]);
  });
});

describe("configFromEngine", () => {
  it("decodes the engine's text values and drops other namespaces", () => {
    const raw = configFromEngine(
      { "fleetlab:nodes": '[{"name":"a"}]', "fleetlab:environment": "dev", "aws:region": "x" },
      "dev",
    );
    expect(raw).toEqual({ nodes: [{ name: "a" }], environment: "dev" });
  });
});
