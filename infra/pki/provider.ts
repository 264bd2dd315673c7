// Pulumi dynamic providers that run ./certs.ts once and keep the result in state.
// Every input that shapes a key pair replaces it (a new pair); nothing else regenerates.
import { dynamicProvider, type DiffRules } from "../dynamic";
import { createCa, createCert, KeyAndCert } from "./certs";

export interface CaInputs {
  commonName: string;
  validityDays: number;
}

const CA_RULES: DiffRules<CaInputs> = { commonName: "replace", validityDays: "replace" };

export interface CertInputs {
  caCertPem: string;
  caKeyPem: string;
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  usage: "server" | "client";
  validityDays: number;
}

/**
 * The engine hands diff the old outputs, so the inputs that matter are kept there; the
 * CA key never is: a new CA key means a new CA certificate, which is compared instead.
 */
const CERT_RULES: DiffRules<CertInputs> = {
  caCertPem: "replace",
  caKeyPem: "ignore",
  commonName: "replace",
  dnsNames: "replace",
  ipAddresses: "replace",
  usage: "replace",
  validityDays: "replace",
};

export const caProvider = dynamicProvider<CaInputs, KeyAndCert>({
  rules: CA_RULES,
  deleteBeforeReplace: false,
  idOf: (i) => `ca-${i.commonName}`,
  create: async (i) => createCa(i.commonName, i.validityDays),
});

export const certProvider = dynamicProvider<CertInputs, KeyAndCert>({
  rules: CERT_RULES,
  deleteBeforeReplace: false,
  idOf: (i) => `cert-${i.commonName}`,
  create: async (i) => createCert({ certPem: i.caCertPem, keyPem: i.caKeyPem }, i),
  notInState: ["caKeyPem"],
});
