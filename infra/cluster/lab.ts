// The lab: PKI, one LabNode per machine, and (when hypervisors/<kind>/ exists) the
// driver's VMs. Thin by design: the logic lives in config/, ignition/ and pki/.
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec } from "../config/types";
import { clientEndpoints, initialCluster, NodeTls } from "../ignition";
import { HypervisorDriver, LabMachines, loadDriver } from "../hypervisors";
import { createLabPki, LabPki } from "../pki";
import { LabNode } from "./node";

export interface LabOptions extends pulumi.ComponentResourceOptions {
  /** Override the driver (tests); null: Ignition only. Default: hypervisors/<kind>/. */
  driver?: HypervisorDriver | null;
}

export class Lab extends pulumi.ComponentResource {
  readonly pki: LabPki;
  readonly nodes: LabNode[];
  /** undefined while no driver exists for spec.hypervisor.kind (Ignition only). */
  readonly machines?: LabMachines;

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
        ? loadDriver(spec.hypervisor.kind)
        : driverOverride;
    if (driver === undefined) {
      pulumi.log.warn(
        `no ${spec.hypervisor.kind} driver yet (infra/hypervisors/${spec.hypervisor.kind}/): Ignition only, no VMs`,
        this,
      );
    }
    if (driver) {
      this.machines = driver.createLab(
        name,
        spec,
        this.nodes.map((n) => ({ node: n.node, ignition: n.ignition })),
        { parent: this },
      );
    }
    this.registerOutputs({
      initialCluster: initialCluster(spec),
      etcdEndpoints: clientEndpoints(spec),
    });
  }
}
