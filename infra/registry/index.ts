// The lab registry as Pulumi resources: its TLS certificate from the lab CA, the server
// (two processes on the management host), and one LabImage per lab image whose output
// is the image's reference by digest. Thin: the work is in server.ts and client.ts.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec } from "../config/types";
import { resourceClass } from "../dynamic";
import { CERT_VALIDITY_DAYS, LabCert, type LabPki } from "../pki";
import { hostPort, type RegistryAddress } from "./address";
import type { LabImageName, LocalImage } from "./build";
import type { MirroredImageName } from "./mirror";
import {
  labImageProvider,
  registryServerProvider,
  type LabImageInputs,
  type RegistryServerInputs,
} from "./providers";
import { registryDir, registryPaths } from "./server";

export { registryAddress, hostPort, type RegistryAddress } from "./address";
export { buildLabImages, LAB_IMAGES, type LabImageName, type LocalImage } from "./build";
export { mirrorSource, MIRRORED_IMAGES, type MirroredImageName } from "./mirror";

/** Every image the lab registry holds: the lab's own and the mirrored ones. */
export type RegistryImageName = LabImageName | MirroredImageName;
export { labRegistryIgnition } from "./ignition";

const RegistryServerResource = resourceClass<RegistryServerInputs>({
  module: "registry",
  type: "Server",
  provider: registryServerProvider,
  secretOutputs: ["keyPem"],
});

const LabImageResource = resourceClass<LabImageInputs>({
  module: "registry",
  type: "Image",
  provider: labImageProvider,
  outputs: ["digest", "ref", "bytes"],
});

export class LabImage extends LabImageResource {
  declare readonly digest: pulumi.Output<string>;
  declare readonly ref: pulumi.Output<string>;
  declare readonly bytes: pulumi.Output<number>;
}

/**
 * The registry's server certificate: its SAN the one address the nodes use, and
 * 127.0.0.1 too when the pull side listens there (behind the forward through the
 * hypervisor host), so the management host's own check of it verifies.
 */
export function registryCertRequest(a: RegistryAddress) {
  return {
    commonName: "fleetlab lab registry",
    dnsNames: [],
    ipAddresses: a.through ? [a.host, "127.0.0.1"] : [a.host],
    usage: "server" as const,
    validityDays: CERT_VALIDITY_DAYS,
  };
}

export interface LabRegistryArgs {
  spec: LabSpec;
  address: RegistryAddress;
  pki: LabPki;
  /**
   * The images on this host's docker to push: the lab's own (buildLabImages), the fleet
   * agent's at least, and the mirrored ones (mirrorSource).
   */
  images: LocalImage<RegistryImageName>[];
  /** The stack's registry directory; default registryDir(spec.stack). */
  dir?: string;
}

export class LabRegistry extends pulumi.ComponentResource {
  readonly hostPort: string;
  readonly dir: string;
  /** One per image the lab runs: the fleet agent's, the services' when on, etcd's when mirrored. */
  readonly images: { fleet: LabImage } & Partial<Record<RegistryImageName, LabImage>>;
  /** The registry processes on the management host. */
  readonly server: pulumi.CustomResource;

  /** `opts.dependsOn`: what puts the address on this host (the lab network). */
  constructor(name: string, args: LabRegistryArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("fleetlab:registry:LabRegistry", name, {}, opts);
    this.hostPort = hostPort(args.address);
    this.dir = args.dir ?? registryDir(args.spec.stack);
    const paths = registryPaths(this.dir);
    const cert = new LabCert(`${name}-tls`, args.pki.ca, registryCertRequest(args.address), {
      parent: this,
    });
    const server = (this.server = new RegistryServerResource(
      `${name}-server`,
      {
        dir: this.dir,
        pull: args.address,
        caPem: args.pki.ca.certPem,
        certPem: cert.certPem,
        keyPem: cert.keyPem,
      },
      { parent: this, dependsOn: opts.dependsOn },
    ));
    if (!args.images.some((i) => i.name === "fleet"))
      throw new Error(`lab registry ${name}: no fleet agent image among the lab images`);
    this.images = Object.fromEntries(
      args.images.map((img) => {
        const inputs: LabImageInputs = {
          name: img.name,
          image: img.ref,
          imageId: img.id,
          socket: paths.socket,
          registry: this.hostPort,
          cacheFile: path.join(this.dir, "layers.json"),
        };
        const res = new LabImage(`${name}-${img.name}`, inputs, {
          parent: this,
          dependsOn: [server],
        });
        return [img.name, res];
      }),
    ) as LabRegistry["images"];
    this.registerOutputs({ hostPort: this.hostPort });
  }

  /** Each image's reference by digest (what units and Ignition name). */
  refs(): Partial<Record<RegistryImageName, pulumi.Output<string>>> {
    return Object.fromEntries(Object.entries(this.images).map(([n, i]) => [n, i!.ref]));
  }
}
