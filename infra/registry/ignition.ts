// What a node needs from the lab registry: the lab CA where Docker looks for a
// registry's CA (Flatcar's Docker included): /etc/docker/certs.d/<host:port>/ca.crt,
// and the fleet agent's and etcd's images by digest in place of their tags.
import { file, type IgnitionExtras, type IgnitionFile } from "../ignition";
import { DEFAULTS } from "../config/keys";
import type { LabSpec } from "../config/types";
import { certsDirPath } from "../../node/paths";

export { certsDirPath };

export function registryCaFile(hostPort: string, caPem: string): IgnitionFile {
  if (!/^[^/\s]+:\d{1,5}$/.test(hostPort))
    throw new Error(`registry CA file: ${JSON.stringify(hostPort)} is not host:port`);
  if (!caPem.includes("-----BEGIN CERTIFICATE-----"))
    throw new Error(`registry CA file for ${hostPort}: the CA is not a PEM certificate`);
  return file(certsDirPath(hostPort), caPem);
}

export interface NodeRegistry {
  hostPort: string;
  caPem: string;
  /** The lab's fleet image in the lab registry, by digest. */
  fleetImage: string;
  /** fleetlab:etcdImage mirrored into the lab registry, by digest, when it is. */
  etcdImage?: string;
}

/**
 * The spec and Ignition extras of a node of a lab with a registry: the CA file added,
 * the fleet agent's image by digest when the stack runs the lab's own (the default
 * fleetlab:fleetImage; an image the stack names itself is left as it is), and etcd's
 * mirror by digest when there is one (it is a copy of whatever fleetlab:etcdImage names).
 */
export function labRegistryIgnition(
  spec: LabSpec,
  extras: IgnitionExtras | undefined,
  reg: NodeRegistry,
): { spec: LabSpec; extras: IgnitionExtras } {
  const own = spec.fleet.image === DEFAULTS.fleetImage;
  const fleet = own ? { ...spec.fleet, image: reg.fleetImage } : spec.fleet;
  const etcd = reg.etcdImage ? { ...spec.etcd, image: reg.etcdImage } : spec.etcd;
  return {
    spec: { ...spec, fleet, etcd },
    extras: {
      ...extras,
      files: [...(extras?.files ?? []), registryCaFile(reg.hostPort, reg.caPem)],
    },
  };
}
