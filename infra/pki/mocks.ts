// Pulumi mocks (pulumi.runtime.setMocks) for tests of the program's resource graph:
// every resource echoes its inputs, except the PKI's dynamic resources, which run the
// real certificate code so tests can check what the certificates say, and the lab
// registry's images, which get a digest made from their image ID.
import { createHash } from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { createCa, createCert, type CertRequest } from "./certs";

export interface MockedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** Secret inputs reach mocks wrapped ({<signature>: ..., value}); providers get plain values. */
function unwrapSecrets(inputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [
      k,
      v && typeof v === "object" && "value" in v ? (v as { value: unknown }).value : v,
    ]),
  );
}

/** Mocks that record every resource into `created`. */
export function pkiMocks(created: MockedResource[] = []): pulumi.runtime.Mocks {
  return {
    newResource(args) {
      created.push({ type: args.type, name: args.name, inputs: args.inputs });
      if (args.type === "pulumi-nodejs:dynamic/registry:Image") {
        // What a push would give: a digest that follows the image's ID.
        const i = args.inputs as { name: string; imageId: string; registry: string };
        const digest = `sha256:${createHash("sha256").update(i.imageId).digest("hex")}`;
        const ref = `${i.registry}/fleetlab/${i.name}@${digest}`;
        return { id: `${args.name}-id`, state: { ...args.inputs, digest, ref, bytes: 1 } };
      }
      if (!args.type.startsWith("pulumi-nodejs:dynamic/pki:"))
        return { id: `${args.name}-id`, state: args.inputs };
      const i = unwrapSecrets(args.inputs);
      const pair =
        typeof i.caCertPem === "string"
          ? createCert(
              { certPem: i.caCertPem, keyPem: String(i.caKeyPem) },
              i as unknown as CertRequest,
            )
          : createCa(String(i.commonName), Number(i.validityDays));
      return { id: `${args.name}-id`, state: { ...i, ...pair } };
    },
    call: (args) => args.inputs,
  };
}

/** The value of an Output in a mocked run (tests only: never await outputs in the program). */
export function outputValue<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise<T>((resolve) => o.apply((v) => resolve(v)));
}
