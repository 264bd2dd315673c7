// The lab: PKI, one LabNode per machine, the hypervisor driver's VMs (unless
// fleetlab:machines is false), and with fleetlab:services the lab's services on them. Thin by
// design: the logic lives in config/, ignition/, pki/ and services/.
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec } from "../config/types";
import { clientEndpoints, initialCluster, NodeTls } from "../ignition";
import { driverFor, HypervisorDriver, LabMachines } from "../hypervisors";
import { createLabPki, LabPki } from "../pki";
import type { LabServices } from "../services";
import { LabNode } from "./node";
import {
  LAB_IMAGES,
  LabRegistry,
  registryAddress,
  type LabImageName,
  type LocalImage,
  type MirroredImageName,
  type RegistryImageName,
} from "../registry";
import { createLabServices } from "./services";

export interface LabOptions extends pulumi.ComponentResourceOptions {
  /** Override the driver (tests); null: Ignition only. Default: the spec's kind's driver. */
  driver?: HypervisorDriver | null;
  /**
   * The lab images on this host's docker, asked for only when the lab has a registry:
   * the program passes buildLabImages; tests pass fixed ones (no docker under mocks).
   */
  images?: (names: readonly LabImageName[]) => LocalImage<LabImageName>[];
  /**
   * An image the lab runs but does not build (etcd's: fleetlab:etcdImage) on this host's
   * docker, to mirror into the lab registry; the program passes mirrorSource. Without it
   * (tests) the nodes pull etcd from where the spec names it.
   */
  mirror?: (name: MirroredImageName, ref: string) => LocalImage<MirroredImageName>;
  /** The lab registry's directory (tests); default: registryDir(stack). */
  registryDir?: string;
}

export class Lab extends pulumi.ComponentResource {
  readonly pki: LabPki;
  readonly nodes: LabNode[];
  /** The lab registry; undefined without machines (fleetlab:machines false, or no driver). */
  readonly registry?: LabRegistry;
  /** undefined when no VMs are made: fleetlab:machines is false, or the driver is null. */
  readonly machines?: LabMachines;
  /** The lab's services (fleetlab:services); undefined when off or without machines. */
  readonly services?: LabServices;

  constructor(
    name: string,
    spec: LabSpec,
    { driver: driverOverride, images, mirror, registryDir, ...opts }: LabOptions = {},
  ) {
    super("fleetlab:lab:Lab", name, {}, opts);
    // fleetlab:machines=false renders the lab (PKI, Ignition, outputs) without VMs.
    const driver = !spec.machines
      ? null
      : driverOverride === undefined
        ? driverFor(spec.hypervisor.kind)
        : driverOverride;
    const address = driver ? registryAddress(spec) : undefined;
    // The images first, before any resource: a failed build or an etcd image this host
    // cannot get ends the run with nothing made. Only what the lab runs: no service image
    // is built or pushed with services off.
    let local: LocalImage<RegistryImageName>[] = [];
    if (address) {
      if (!images)
        throw new Error(`Lab ${name}: a lab with a registry needs its images (LabOptions.images)`);
      local = [
        ...images(spec.services ? LAB_IMAGES : ["fleet"]),
        ...(mirror ? [mirror("etcd", spec.etcd.image)] : []),
      ];
    }
    this.pki = createLabPki(spec, this);
    // The network next: the registry listens on the host's address in it, and the
    // nodes' Ignition names images by the digests the registry gives.
    const network = driver ? driver.createNetwork(name, spec, { parent: this }) : [];
    if (address) {
      this.registry = new LabRegistry(
        `${name}-registry`,
        { spec, address, pki: this.pki, images: local, dir: registryDir },
        { parent: this, dependsOn: network },
      );
    }
    const registry = this.registry;
    const nodeRegistry = registry
      ? pulumi
          .all([this.pki.ca.certPem, registry.images.fleet.ref, registry.images.etcd?.ref])
          .apply(([caPem, fleetImage, etcdImage]) => ({
            hostPort: registry.hostPort,
            caPem,
            fleetImage,
            etcdImage,
          }))
      : undefined;
    this.nodes = spec.nodes.map((node) => {
      const cert = this.pki.nodes.get(node.name)!;
      const tls: pulumi.Output<NodeTls> = pulumi
        .all([this.pki.ca.certPem, cert.certPem, cert.keyPem])
        .apply(([caCert, certPem, key]) => ({ caCert, cert: certPem, key }));
      return new LabNode(node.name, { spec, node, tls, registry: nodeRegistry }, { parent: this });
    });
    if (driver) {
      this.machines = driver.createLab(
        name,
        spec,
        this.nodes.map((n) => ({ node: n.node, ignition: n.ignition })),
        { parent: this },
        network,
      );
    }
    if (spec.services && this.machines) {
      this.services = createLabServices(
        name,
        spec,
        this.pki,
        this.machines,
        { parent: this },
        registry?.refs(),
        registry && { hostPort: registry.hostPort, caPem: this.pki.ca.certPem },
      );
    } else if (spec.services) {
      pulumi.log.warn(
        "fleetlab:services is true but no machines were created: lab data and service units skipped",
        this,
      );
    }
    this.registerOutputs({
      initialCluster: initialCluster(spec),
      etcdEndpoints: clientEndpoints(spec),
    });
  }
}
