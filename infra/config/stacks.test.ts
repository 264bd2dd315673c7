import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import {
  CONFIG_KEYS,
  configFromEngine,
  declaration,
  DEFAULTS,
  labSpecFromFile,
  loadStackFile,
  NODE_DEFAULTS,
  parseLabSpec,
  PROJECT_DIR,
  STACK_KEYS,
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
  const declared: Record<string, Record<string, unknown>> = project.config;

  it("are the key table's (infra/config/keys.ts): type, items, default, description", () => {
    const expected = Object.fromEntries(
      CONFIG_KEYS.flatMap((k) => {
        const d = declaration(k);
        return d ? [[k, d]] : [];
      }),
    );
    expect(declared).toEqual(expected);
  });

  it("type the structured keys as objects, with the program's defaults", () => {
    expect(declared.hypervisor.type).toBe("object");
    expect(declared.nodes).toMatchObject({ type: "array", items: { type: "object" } });
    expect(declared.nodeDefaults.default).toEqual(NODE_DEFAULTS);
    expect(declared.data.default).toEqual({
      dhcp: "data/dhcp.yaml",
      ldap: "data/ldap",
      www: "data/www",
    });
  });

  it("require environment, hypervisor, network, nodes and sshKeys in every stack (no default)", () => {
    for (const key of ["environment", "hypervisor", "network", "nodes", "sshKeys"]) {
      expect([key, "default" in declared[key]]).toEqual([key, false]);
    }
  });

  it("leave the timing keys undeclared (a declared key needs a default or a value), so the program can tell unset and follow the host", () => {
    for (const key of TIMING_KEYS) expect([key, declared[key]]).toEqual([key, undefined]);
    for (const key of TIMING_KEYS) expect(STACK_KEYS[key].description).toBeTruthy();
  });

  it("give every default a value the program itself accepts", () => {
    // What the engine passes for a stack that sets none of the defaulted keys parses to
    // the spec the program makes of that stack read from its file (render, tests).
    const raw = Object.fromEntries(
      Object.entries(loadStackFile("local")).filter(([k]) => !(k in DEFAULTS)),
    );
    expect(Object.keys(raw)).not.toContain("nodeDefaults");
    expect(parseLabSpec("local", { ...raw, ...DEFAULTS })).toEqual(parseLabSpec("local", raw));
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
