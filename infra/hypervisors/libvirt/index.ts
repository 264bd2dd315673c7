// The libvirt driver: lab network, base image and one domain per node, wired from the
// LabSpec. All work happens in the dynamic providers (providers.ts); this only maps.
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec, LibvirtSettings } from "../../config/types";
import { hypervisorSettings } from "../common/driver";
import { ignitionHash, vmName } from "../common/names";
import { readinessTimeoutSec } from "../common/readiness";
import type { HypervisorDriver } from "../types";
import { detectDomainType } from "./host";
import { LibvirtBaseImage, LibvirtNetwork, LibvirtNode, LibvirtPool } from "./providers";
import type { BaseSource } from "./shared";
import { virsh } from "./virsh";
import { checkRemoteHost } from "./preflight";
import { hopOfUri } from "../../reach/hop";

export function baseSource(spec: LabSpec, hv: LibvirtSettings): BaseSource {
  const img = hv.image;
  if (img.kind === "flatcar")
    return { kind: "flatcar", channel: spec.flatcar.channel, version: spec.flatcar.version };
  const format = img.format === "raw" ? "raw" : "qcow2";
  return img.kind === "path"
    ? { kind: "path", path: img.path, format }
    : { kind: "url", url: img.url, sha256: img.sha256, format };
}

export const driver: HypervisorDriver = {
  kind: "libvirt",
  emulates(spec) {
    const hv = hypervisorSettings(spec, "libvirt");
    if (hv.domainType !== "auto") return hv.domainType === "qemu";
    // The same detection the node provider makes when it defines the domain; a
    // connection that does not answer says nothing about the host.
    const v = virsh(hv.uri);
    return v.tryRun(["uri"]) !== undefined && detectDomainType(v) === "qemu";
  },
  checkHost(spec) {
    const hv = hypervisorSettings(spec, "libvirt");
    const hop = hopOfUri(hv.uri);
    if (hop) checkRemoteHost(hv, hop);
  },
  createNetwork(name, spec, opts) {
    const hv = hypervisorSettings(spec, "libvirt");
    // A bridge is the host's: libvirt attaches the VMs to it and makes nothing.
    if (hv.network.mode === "bridge") return [];
    return [
      new LibvirtNetwork(
        `${name}-network`,
        {
          uri: hv.uri,
          name: spec.network.name,
          mode: hv.network.mode,
          gateway: spec.network.gateway,
          netmask: spec.network.netmask,
        },
        { parent: opts.parent },
      ),
    ];
  },
  createLab(name, spec, machines, opts, network) {
    const hv = hypervisorSettings(spec, "libvirt");
    const ro: pulumi.CustomResourceOptions = { parent: opts.parent };
    const shared: pulumi.Resource[] = [];

    const pool = hv.poolPath
      ? new LibvirtPool(`${name}-pool`, { uri: hv.uri, name: hv.pool, path: hv.poolPath }, ro)
      : undefined;
    if (pool) shared.push(pool);
    const base = new LibvirtBaseImage(
      `${name}-base`,
      {
        uri: hv.uri,
        pool: hv.pool,
        volume: `fleetlab-${spec.stack}-base.img`,
        source: baseSource(spec, hv),
      },
      { ...ro, dependsOn: pool ? [pool] : [] },
    );
    shared.push(base);

    const deps: pulumi.Resource[] = [base, ...network];
    shared.push(...network);
    const attach =
      hv.network.mode === "bridge" ? { bridge: hv.network.bridge } : { network: spec.network.name };

    const timeout = readinessTimeoutSec();
    const handles = machines.map(({ node, ignition }) => {
      const vm = new LibvirtNode(
        `${name}-${node.name}`,
        {
          uri: hv.uri,
          pool: hv.pool,
          name: vmName(spec, node),
          domainType: hv.domainType,
          vcpus: node.cpus,
          memoryMiB: node.memoryMiB,
          diskBytes: node.diskGiB * 1024 ** 3,
          base: pulumi
            .all([base.path, base.format, base.capacityBytes])
            .apply(([path, format, capacityBytes]) => ({ path, format, capacityBytes })),
          mac: node.mac,
          ip: node.ip,
          attach,
          fwCfgKey: hv.ignitionFwCfgKey,
          ignition,
          // The hash of a secret is not a secret; keeping it plain lets preview show why
          // a node is replaced.
          ignitionHash: pulumi.unsecret(ignition.apply(ignitionHash)),
          ...(hv.directKernelBoot && { directKernelBoot: hv.directKernelBoot }),
          readinessTimeoutSec: timeout,
        },
        { ...ro, dependsOn: deps },
      );
      return { node, resource: vm, machineId: vm.domainUuid };
    });
    return { machines: handles, shared };
  },
};
