// The resource classes of both drivers' providers.ts: Pulumi dynamic resources typed by
// their inputs, whose providers add a few outputs at create.
import * as pulumi from "@pulumi/pulumi";
import type { HypervisorKind } from "../../config/types";
import type { Inputs } from "./dynamic";

/**
 * The base-class maker of one driver's resources, Pulumi type
 * pulumi-nodejs:dynamic/<kind>:<type>; each class is constructed `new X(name, props, opts)`.
 * `outputs` names what the provider adds to the inputs at create: each goes in as
 * undefined, because Pulumi only sets the fields of the keys it is given. The subclass
 * declares those fields with their types.
 */
export function resourceClasses(kind: HypervisorKind) {
  return <P>(
    type: string,
    provider: pulumi.dynamic.ResourceProvider,
    outputs: readonly string[] = [],
  ) => {
    const unknown = Object.fromEntries(outputs.map((k) => [k, undefined]));
    return class extends pulumi.dynamic.Resource {
      constructor(name: string, props: Inputs<P>, opts?: pulumi.CustomResourceOptions) {
        super(provider, name, { ...props, ...unknown }, opts, kind, type);
      }
    };
  };
}
