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
import { createLabServices } from "./services";

export interface LabOptions extends pulumi.ComponentResourceOptions {
  /** Override the driver (tests); null: Ignition only. Default: the spec's kind's driver. */
  driver?: HypervisorDriver | null;
}

export class Lab extends pulumi.ComponentResource {
  readonly pki: LabPki;
  readonly nodes: LabNode[];
  /** undefined when no VMs are made: fleetlab:machines is false, or the driver is null. */
  readonly machines?: LabMachines;
  /** The lab's services (fleetlab:services); undefined when off or without machines. */
  readonly services?: LabServices;

  constructor(name: string, spec: LabSpec, { driver: driverOverride, ...opts }: LabOptions = {}) {
    super("fleetlab:lab:Lab", name, {}, opts);
    this.pki = createLabPki(spec, this);
    this.nodes = spec.nodes.map((node) => {
      const cert = this.pki.nodes.get(node.name)!;
      const tls: pulumi.Output<NodeTls> = pulumi
        .all([this.pki.ca.certPem, cert.certPem, cert.keyPem])
        .apply(([caCert, certPem, key]) => ({ caCert, cert: certPem, key }));
      return new LabNode(node.name, { spec, node, tls }, { parent: this });
    });
    // fleetlab:machines=false renders the lab (PKI, Ignition, outputs) without VMs.
    const driver = !spec.machines
      ? null
      : driverOverride === undefined
        ? driverFor(spec.hypervisor.kind)
        : driverOverride;
    if (driver) {
      this.machines = driver.createLab(
        name,
        spec,
        this.nodes.map((n) => ({ node: n.node, ignition: n.ignition })),
        { parent: this },
      );
    }
    if (spec.services && this.machines) {
      this.services = createLabServices(name, spec, this.pki, this.machines, { parent: this });
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
