// One lab machine as a component: its Ignition (a secret: it carries the node's
// private key). The VM itself is made by the hypervisor driver, a child of the Lab
// beside this component (infra/cluster/lab.ts), not of it.
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec, NodeSpec } from "../config/types";
import { IgnitionExtras, NodeTls, renderIgnition, serializeIgnition } from "../ignition";
import { labRegistryIgnition, type NodeRegistry } from "../registry/ignition";

export interface LabNodeArgs {
  spec: LabSpec;
  node: NodeSpec;
  tls: pulumi.Output<NodeTls>;
  extras?: IgnitionExtras;
  /** The lab registry, when the lab has one: its CA file and the fleet image by digest. */
  registry?: pulumi.Output<NodeRegistry>;
}

export class LabNode extends pulumi.ComponentResource {
  readonly node: NodeSpec;
  readonly ignition: pulumi.Output<string>;

  constructor(name: string, args: LabNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleetlab:lab:Node", name, {}, opts);
    this.node = args.node;
    this.ignition = pulumi.secret(
      pulumi.all([args.tls, args.registry]).apply(([tls, registry]) => {
        const { spec, extras } = registry
          ? labRegistryIgnition(args.spec, args.extras, registry)
          : args;
        return serializeIgnition(renderIgnition(spec, args.node, tls, extras));
      }),
    );
    this.registerOutputs({
      name: args.node.name,
      ip: args.node.ip,
      role: args.node.role,
      ignition: this.ignition,
    });
  }
}
