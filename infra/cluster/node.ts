// One lab machine as a component: its Ignition (a secret: it carries the node's
// private key). The VM itself is made by the hypervisor driver, a child of the Lab
// beside this component (infra/cluster/lab.ts), not of it.
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec, NodeSpec } from "../config/types";
import { IgnitionExtras, NodeTls, renderIgnition, serializeIgnition } from "../ignition";

export interface LabNodeArgs {
  spec: LabSpec;
  node: NodeSpec;
  tls: pulumi.Output<NodeTls>;
  extras?: IgnitionExtras;
}

export class LabNode extends pulumi.ComponentResource {
  readonly node: NodeSpec;
  readonly ignition: pulumi.Output<string>;

  constructor(name: string, args: LabNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleetlab:lab:Node", name, {}, opts);
    this.node = args.node;
    this.ignition = pulumi.secret(
      args.tls.apply((tls) =>
        serializeIgnition(renderIgnition(args.spec, args.node, tls, args.extras)),
      ),
    );
    this.registerOutputs({
      name: args.node.name,
      ip: args.node.ip,
      role: args.node.role,
      ignition: this.ignition,
    });
  }
}
