// The driver's mapping from LabSpec to resources, and the `dev` stack's resource graph
// under Pulumi mocks with the real VirtualBox driver (nothing runs VBoxManage at program
// time: the providers do, at create).
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec, VirtualBoxSettings } from "../../config/types";
import { MockedResource, outputValue as value } from "../../pki/mocks";
import { driverMocks, planStack } from "../common/testing/plan";
import { baseSource, vmBaseFolder } from "./index";

const created: MockedResource[] = [];

beforeAll(() =>
  pulumi.runtime.setMocks(
    driverMocks("virtualbox", created, {
      BaseImage: { path: "/cache/base.vmdk" },
      Node: { vmUuid: "u" },
    }),
    "fleetlab",
    "dev",
  ),
);

describe("virtualbox driver", () => {
  jest.setTimeout(60_000);

  it("maps image sources and folders", () => {
    const spec = { flatcar: { channel: "beta", version: "4116.1.0" } } as LabSpec;
    const hv = { kind: "virtualbox", image: { kind: "flatcar" } } as VirtualBoxSettings;
    expect(baseSource(spec, hv)).toEqual({ kind: "flatcar", channel: "beta", version: "4116.1.0" });
    expect(
      baseSource(spec, { ...hv, image: { kind: "path", path: "/d.vdi", format: "vdi" } }),
    ).toEqual({ kind: "path", path: "/d.vdi" });
    expect(
      baseSource(spec, { ...hv, image: { kind: "url", url: "u", sha256: "s", format: "vmdk" } }),
    ).toEqual({ kind: "url", url: "u", sha256: "s" });
    expect(vmBaseFolder("dev", { FLEETLAB_VBOX_FOLDER: "/vms" })).toBe("/vms/dev");
  });

  it("plans the dev stack: one base image and one VM per node on vboxnet0, Ignition secret", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Lab } = require("../../cluster/lab") as typeof import("../../cluster/lab");
    const { spec, lab, of } = await planStack(Lab, "dev", created);
    for (const m of lab.machines!.machines) expect(await value(m.machineId)).toBe("u");

    const vms = of("Node");
    const bases = of("BaseImage");
    expect(bases.map((b) => b.inputs.source)).toEqual([
      { kind: "flatcar", channel: spec.flatcar.channel, version: spec.flatcar.version },
    ]);
    expect(vms.map((v) => v.inputs.name)).toEqual(spec.nodes.map((n) => `fleetlab-dev-${n.name}`));
    for (const [i, vm] of vms.entries()) {
      const node = spec.nodes[i];
      expect(vm.inputs).toMatchObject({
        vboxManage: "VBoxManage",
        hostOnlyInterface: "vboxnet0",
        gateway: "192.168.56.1",
        headless: true,
        mac: node.mac,
        ip: node.ip,
        cpus: node.cpus,
        memoryMiB: node.memoryMiB,
        diskMiB: node.diskGiB * 1024,
        basePath: "/cache/base.vmdk",
      });
      expect(vm.inputs.mac).toMatch(/^08:00:27:/);
      // The Ignition goes in as a secret; its hash in the clear so diffs can show it.
      expect(vm.inputs.ignitionHash).toMatch(/^[0-9a-f]{64}$/);
      expect(await pulumi.isSecret(lab.nodes[i].ignition)).toBe(true);
    }
  });
});
