// The driver's mapping from LabSpec to resources, its replacement rule, and the `dev`
// stack's resource graph under Pulumi mocks with the real VirtualBox driver loaded
// (nothing runs VBoxManage at program time: the providers do, at create).
import * as pulumi from "@pulumi/pulumi";
import { labSpecFromFile } from "../../config";
import type { LabSpec, VirtualBoxSettings } from "../../config/types";
import { MockedResource, pkiMocks, outputValue as value } from "../../pki/mocks";
import { loadDriver } from "../index";
import { baseSource, driver, vmBaseFolder } from "./index";
import { diffByRules, type Props } from "../../dynamic";
import { NODE_RULES } from "./providers";

const created: MockedResource[] = [];
const pki = pkiMocks(created);

beforeAll(() =>
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        // The VirtualBox resources echo their inputs (no VBoxManage under mocks); the
        // PKI's dynamic resources still run the real certificate code.
        if (args.type.startsWith("pulumi-nodejs:dynamic/virtualbox:")) {
          created.push({ type: args.type, name: args.name, inputs: args.inputs });
          const extra = args.type.endsWith(":BaseImage")
            ? { path: "/cache/base.vmdk" }
            : { vmUuid: "u" };
          return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
        }
        return pki.newResource(args);
      },
      call: (args) => args.inputs,
    },
    "fleetlab",
    "dev",
  ),
);

const nodeDiff = (olds: Props, news: Props) => diffByRules(NODE_RULES, olds, news, true);
const nodeInputs = {
  name: "fleetlab-dev-core-01",
  mac: "08:00:27:a8:38:0b",
  ignitionHash: "aa",
  headless: true,
  readinessTimeoutSec: 900,
};

describe("virtualbox driver", () => {
  jest.setTimeout(60_000);

  it("is what loadDriver finds for kind virtualbox", () => {
    expect(loadDriver("virtualbox")).toBe(driver);
    expect(driver.kind).toBe("virtualbox");
  });

  it("replaces a VM on an Ignition change only; headless and the readiness bound update in place", () => {
    expect(nodeDiff(nodeInputs, { ...nodeInputs, ignitionHash: "bb" })).toEqual({
      changes: true,
      replaces: ["ignitionHash"],
      deleteBeforeReplace: true,
    });
    expect(nodeDiff(nodeInputs, { ...nodeInputs, headless: false })).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(nodeDiff(nodeInputs, { ...nodeInputs, readinessTimeoutSec: 5 }).replaces).toEqual([]);
    expect(nodeDiff(nodeInputs, { ...nodeInputs })).toMatchObject({ changes: false });
  });

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
    created.length = 0;
    const spec = labSpecFromFile("dev");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Lab } = require("../../cluster/lab") as typeof import("../../cluster/lab");
    const lab = new Lab("dev", spec);
    expect(lab.machines?.machines).toHaveLength(spec.nodes.length);
    // Every VM registered (and so recorded) once its machine ID resolves.
    for (const m of lab.machines!.machines) expect(await value(m.machineId)).toBe("u");

    const vms = created.filter((c) => c.type === "pulumi-nodejs:dynamic/virtualbox:Node");
    const bases = created.filter((c) => c.type === "pulumi-nodejs:dynamic/virtualbox:BaseImage");
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
