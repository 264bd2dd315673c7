// Pulumi dynamic providers that run ./certs.ts once and keep the result in state.
// Any input change replaces the resource (a new key pair); nothing else regenerates.
import * as pulumi from "@pulumi/pulumi";
import { createCa, createCert, KeyAndCert } from "./certs";

export interface CaInputs {
  commonName: string;
  validityDays: number;
}

export interface CertInputs {
  caCertPem: string;
  caKeyPem: string;
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  usage: "server" | "client";
  validityDays: number;
}

/** Outputs: the generated pair plus the inputs that shaped it (for diff). */
export type CaOutputs = KeyAndCert & CaInputs;
export type CertOutputs = KeyAndCert & Omit<CertInputs, "caKeyPem">;

/**
 * Replace when any of `keys` changed. The engine hands diff the old OUTPUTS, so the
 * inputs that matter are echoed into outputs (never the CA key: a new CA key means
 * a new CA certificate, which is compared instead).
 */
function replaceOnChange<O, N>(keys: (keyof O & keyof N)[]) {
  return async (_id: string, olds: O, news: N): Promise<pulumi.dynamic.DiffResult> => {
    const changed = keys
      .filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]))
      .map(String);
    return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: false };
  };
}

export const caProvider: pulumi.dynamic.ResourceProvider<CaInputs, CaOutputs> = {
  async create(inputs) {
    const pair = createCa(inputs.commonName, inputs.validityDays);
    return {
      id: `ca-${inputs.commonName}`,
      outs: { commonName: inputs.commonName, validityDays: inputs.validityDays, ...pair },
    };
  },
  diff: replaceOnChange<CaOutputs, CaInputs>(["commonName", "validityDays"]),
};

export const certProvider: pulumi.dynamic.ResourceProvider<CertInputs, CertOutputs> = {
  async create(inputs) {
    const { caKeyPem, ...rest } = inputs;
    const pair = createCert({ certPem: inputs.caCertPem, keyPem: caKeyPem }, inputs);
    return { id: `cert-${inputs.commonName}`, outs: { ...rest, ...pair } };
  },
  diff: replaceOnChange<CertOutputs, CertInputs>([
    "caCertPem",
    "commonName",
    "dnsNames",
    "ipAddresses",
    "usage",
    "validityDays",
  ]),
};
