// The driver's mapping from LabSpec to resources, and the `local` stack's resource
// graph under Pulumi mocks with the real libvirt driver (nothing runs virsh at program
// time: the providers do, at create).
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec, LibvirtSettings } from "../../config/types";
import { MockedResource, outputValue as value } from "../../pki/mocks";
import { driverMocks, planStack } from "../common/testing/plan";
import { baseSource } from "./index";

const created: MockedResource[] = [];

beforeAll(() =>
  pulumi.runtime.setMocks(
    driverMocks("libvirt", created, {
      Network: { bridge: "virbr1" },
      BaseImage: { path: "/pool/base.img", format: "qcow2", capacityBytes: 8 * 1024 ** 3 },
      Node: { domainUuid: "u", actualDomainType: "qemu", readyAfterMs: 1 },
    }),
    "fleetlab",
    "local",
  ),
);

describe("libvirt driver", () => {
  jest.setTimeout(60_000);
  const spec = { stack: "local", flatcar: { channel: "stable", version: "current" } } as LabSpec;
  const hv = { kind: "libvirt", image: { kind: "flatcar" } } as LibvirtSettings;

  it("takes the stack's Flatcar release for image.kind flatcar", () => {
    expect(baseSource(spec, hv)).toEqual({
      kind: "flatcar",
      channel: "stable",
      version: "current",
    });
  });

  it("keeps a path or URL image with its format", () => {
    expect(
      baseSource(spec, { ...hv, image: { kind: "path", path: "/x.qcow2", format: "qcow2" } }),
    ).toEqual({ kind: "path", path: "/x.qcow2", format: "qcow2" });
    expect(
      baseSource(spec, { ...hv, image: { kind: "url", url: "u", sha256: "s", format: "raw" } }),
    ).toEqual({ kind: "url", url: "u", sha256: "s", format: "raw" });
  });

  it("plans the local stack: its pool, network and base image, one domain per node, Ignition secret", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Lab } = require("../../cluster/lab") as typeof import("../../cluster/lab");
    const { spec: local, lab, of } = await planStack(Lab, "local", created);
    for (const m of lab.machines!.machines) expect(await value(m.machineId)).toBe("u");

    expect(of("Pool").map((p) => p.inputs)).toMatchObject([
      {
        uri: "qemu:///system",
        name: "fleetlab-local",
        path: "/var/lib/libvirt/images/fleetlab-local",
      },
    ]);
    expect(of("Network").map((n) => n.inputs)).toMatchObject([
      { name: "fleetlab-local", mode: "isolated", gateway: "10.88.0.1", netmask: "255.255.255.0" },
    ]);
    expect(of("BaseImage").map((b) => b.inputs)).toMatchObject([
      { pool: "fleetlab-local", volume: "fleetlab-local-base.img", source: { kind: "flatcar" } },
    ]);
    const domains = of("Node");
    expect(domains.map((d) => d.inputs.name)).toEqual(
      local.nodes.map((n) => `fleetlab-local-${n.name}`),
    );
    for (const [i, d] of domains.entries()) {
      const node = local.nodes[i];
      expect(d.inputs).toMatchObject({
        uri: "qemu:///system",
        pool: "fleetlab-local",
        domainType: "auto",
        vcpus: node.cpus,
        memoryMiB: node.memoryMiB,
        diskBytes: node.diskGiB * 1024 ** 3,
        base: { path: "/pool/base.img", format: "qcow2", capacityBytes: 8 * 1024 ** 3 },
        mac: node.mac,
        ip: node.ip,
        attach: { network: "fleetlab-local" },
      });
      // The Ignition goes in as a secret; its hash in the clear so diffs can show it.
      expect(d.inputs.ignitionHash).toMatch(/^[0-9a-f]{64}$/);
      expect(await pulumi.isSecret(lab.nodes[i].ignition)).toBe(true);
    }
  });
});
