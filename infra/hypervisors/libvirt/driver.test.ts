import { sshTarget, stripAnsi } from "./host";
import { baseSource } from "./index";
import { withoutFirstboot } from "./node";
import { diffByRules } from "../../dynamic";
import { NODE_RULES } from "./providers";
import type { LabSpec } from "../../config/types";

const nodeInputs = {
  uri: "qemu:///system",
  name: "fleetlab-local-core-01",
  mac: "52:54:00:00:00:0b",
  ignitionHash: "aa",
  base: { path: "/img", format: "qcow2", capacityBytes: 1 },
  readinessTimeoutSec: 900,
};

describe("libvirt driver pure parts", () => {
  it("replaces a node on an Ignition change and only then", () => {
    const replaces = (news: object) =>
      diffByRules(NODE_RULES, nodeInputs, { ...nodeInputs, ...news }, true).replaces;
    expect(replaces({ ignitionHash: "bb" })).toEqual(["ignitionHash"]);
    expect(replaces({ readinessTimeoutSec: 5 })).toEqual([]);
    expect(replaces({ base: { ...nodeInputs.base } })).toEqual([]);
  });

  it("drops ignition.firstboot after the first boot and keeps the rest", () => {
    expect(withoutFirstboot("root=/dev/vda rw ignition.firstboot ignition.platform.id=qemu")).toBe(
      "root=/dev/vda rw ignition.platform.id=qemu",
    );
    expect(withoutFirstboot("ignition.firstboot=1 quiet")).toBe("quiet");
  });

  it("parses ssh targets of remote URIs", () => {
    expect(sshTarget("qemu:///system")).toBeUndefined();
    expect(sshTarget("qemu+ssh://admin@kvm.example.edu/system")).toEqual({
      host: "admin@kvm.example.edu",
    });
    expect(sshTarget("qemu+ssh://admin@kvm:2222/system?keyfile=x")).toEqual({
      host: "admin@kvm",
      port: "2222",
    });
  });

  it("maps the image source", () => {
    const spec = { stack: "local", flatcar: { channel: "stable", version: "current" } } as LabSpec;
    const hv = { kind: "libvirt", image: { kind: "flatcar" } } as LabSpec["hypervisor"] & {
      kind: "libvirt";
    };
    expect(baseSource(spec, hv)).toEqual({
      kind: "flatcar",
      channel: "stable",
      version: "current",
    });
    expect(
      baseSource(spec, { ...hv, image: { kind: "path", path: "/x.qcow2", format: "qcow2" } }),
    ).toEqual({ kind: "path", path: "/x.qcow2", format: "qcow2" });
  });
});

describe("console log tail", () => {
  it("drops terminal colour codes", () => {
    expect(stripAnsi("[\x1b[0;32m  OK  \x1b[0m] Started\r")).toBe("[  OK  ] Started");
  });
});
