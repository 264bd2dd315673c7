// The VirtualBox driver: a verified base image and one VM per node on the host-only
// network, wired from the LabSpec. All work happens in the dynamic providers
// (providers.ts); this only maps. VirtualBox runs on the machine that runs Pulumi.
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec, VirtualBoxSettings } from "../../config/types";
import { hypervisorSettings } from "../common/driver";
import { ignitionHash, vmName } from "../common/names";
import { readinessTimeoutSec } from "../common/readiness";
import type { HypervisorDriver } from "../types";
import { VirtualBoxBaseImage, VirtualBoxNode } from "./providers";
import type { BaseSource } from "./shared";

export function baseSource(spec: LabSpec, hv: VirtualBoxSettings): BaseSource {
  const img = hv.image;
  if (img.kind === "flatcar")
    return { kind: "flatcar", channel: spec.flatcar.channel, version: spec.flatcar.version };
  return img.kind === "path"
    ? { kind: "path", path: img.path }
    : { kind: "url", url: img.url, sha256: img.sha256 };
}

/** Where the lab's VMs live: VirtualBox's own default folder, one subfolder per stack. */
export function vmBaseFolder(stack: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.FLEETLAB_VBOX_FOLDER ?? path.join(os.homedir(), "VirtualBox VMs"), stack);
}

export const driver: HypervisorDriver = {
  kind: "virtualbox",
  // VirtualBox runs 64-bit guests only with VT-x/AMD-V: its VMs are never emulated.
  emulates: () => false,
  // VirtualBox is always this machine: its providers check VBoxManage and the
  // host-only interface as they run, with the same kind of message.
  checkHost: () => undefined,
  // The host-only interface is the host's own (docs/virtualbox.md): nothing to make;
  // each node checks that it exists and holds the gateway.
  createNetwork: () => [],
  createLab(name, spec, machines, opts, network) {
    const hv = hypervisorSettings(spec, "virtualbox");
    const ro: pulumi.CustomResourceOptions = { parent: opts.parent };
    const base = new VirtualBoxBaseImage(`${name}-base`, { source: baseSource(spec, hv) }, ro);
    const timeout = readinessTimeoutSec();
    const baseFolder = vmBaseFolder(spec.stack);
    const handles = machines.map(({ node, ignition }) => {
      const vm = new VirtualBoxNode(
        `${name}-${node.name}`,
        {
          vboxManage: hv.vboxManage,
          name: vmName(spec, node),
          baseFolder,
          hostOnlyInterface: hv.hostOnlyInterface,
          gateway: spec.network.gateway,
          headless: hv.headless,
          cpus: node.cpus,
          memoryMiB: node.memoryMiB,
          diskMiB: node.diskGiB * 1024,
          basePath: base.path,
          mac: node.mac,
          ip: node.ip,
          ignition,
          // The hash of a secret is not a secret; keeping it plain lets preview show why
          // a node is replaced.
          ignitionHash: pulumi.unsecret(ignition.apply(ignitionHash)),
          readinessTimeoutSec: timeout,
        },
        { ...ro, dependsOn: [base, ...network] },
      );
      return { node, resource: vm, machineId: vm.vmUuid };
    });
    return { machines: handles, shared: [base, ...network] };
  },
};
