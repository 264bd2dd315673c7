// The resource half of the provider kit: a dynamic resource class that says what it
// is (pulumi-nodejs:dynamic/<module>:<type> in `pulumi preview`), typed by its inputs.
import * as pulumi from "@pulumi/pulumi";

/** A resource's props as the program passes them: each one, or each item of a list, may be an Output. */
export type Inputs<T> = {
  [K in keyof T]: pulumi.Input<T[K]> | (T[K] extends (infer E)[] ? pulumi.Input<E>[] : never);
};

/**
 * The type of a dynamic resource registered without a module and type. A class whose
 * resources a lab may hold under it lists it in `formerTypes`, so that lab's next `up`
 * finds them under the new type (an alias) instead of replacing them.
 */
export const UNTYPED_DYNAMIC = "pulumi-nodejs:dynamic:Resource";

export interface ResourceSpec {
  module: string;
  type: string;
  provider: pulumi.dynamic.ResourceProvider;
  /**
   * What the provider adds to the inputs at create: each goes in as undefined, because
   * Pulumi only sets the fields of the keys it is given. The subclass declares those
   * fields with their types.
   */
  outputs?: readonly string[];
  /** Outputs kept encrypted in state. */
  secretOutputs?: readonly string[];
  /** Types this resource was registered under before (see UNTYPED_DYNAMIC). */
  formerTypes?: readonly string[];
}

/** The caller's options plus the spec's aliases and secret outputs. */
export function resourceOptions(
  spec: ResourceSpec,
  opts: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  return {
    ...opts,
    aliases: [...(opts.aliases ?? []), ...(spec.formerTypes ?? []).map((type) => ({ type }))],
    additionalSecretOutputs: [
      ...(opts.additionalSecretOutputs ?? []),
      ...(spec.secretOutputs ?? []),
    ],
  };
}

/**
 * The base class of one kind of dynamic resource, constructed `new X(name, props, opts)`
 * with `props` typed `Inputs<P>`.
 */
export function resourceClass<P>(spec: ResourceSpec) {
  const unknown = Object.fromEntries((spec.outputs ?? []).map((k) => [k, undefined]));
  return class extends pulumi.dynamic.Resource {
    constructor(name: string, props: Inputs<P>, opts?: pulumi.CustomResourceOptions) {
      super(
        spec.provider,
        name,
        { ...props, ...unknown },
        resourceOptions(spec, opts),
        spec.module,
        spec.type,
      );
    }
  };
}

/** `resourceClass` for the resources of one module (a driver), by type, provider and outputs. */
export function resourceClasses(module: string) {
  return <P>(type: string, provider: pulumi.dynamic.ResourceProvider, outputs?: string[]) =>
    resourceClass<P>({ module, type, provider, outputs });
}
