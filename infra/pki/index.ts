// The lab's PKI as Pulumi resources: one CA, one certificate per node (server and
// client, SANs: name, localhost, IP, 127.0.0.1) and an `admin` client certificate
// for the management host. Private keys are secret outputs, encrypted in state.
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec, NodeSpec } from "../config/types";
import { createCa, createCert, type CertRequest, type KeyAndCert } from "./certs";
import { resourceClass, UNTYPED_DYNAMIC } from "../dynamic";
import { caProvider, certProvider, type CaInputs, type CertInputs } from "./provider";

export {
  createCa,
  createCert,
  describeCert,
  verifySignedBy,
  type KeyAndCert,
  type CertInfo,
  type CertRequest,
} from "./certs";

export const CA_VALIDITY_DAYS = 3650;
export const CERT_VALIDITY_DAYS = 1825;
export const ADMIN_CN = "admin";

/** What a node's certificate must say; pure so tests and the render command share it. */
export function nodeCertRequest(node: NodeSpec): CertRequest {
  return {
    commonName: node.name,
    dnsNames: [node.name, "localhost"],
    ipAddresses: [node.ip, "127.0.0.1"],
    usage: "server",
    validityDays: CERT_VALIDITY_DAYS,
  };
}

export function adminCertRequest(): CertRequest {
  return {
    commonName: ADMIN_CN,
    dnsNames: [],
    ipAddresses: [],
    usage: "client",
    validityDays: CERT_VALIDITY_DAYS,
  };
}

export function caCommonName(spec: LabSpec): string {
  return `fleetlab ${spec.stack} CA`;
}

// The key is encrypted in state (secretOutputs) and kept secret in the program too
// (pulumi.secret), whatever the engine (or a mock) hands back.
const pkiResource = <P>(type: string, provider: pulumi.dynamic.ResourceProvider) =>
  resourceClass<P>({
    module: "pki",
    type,
    provider,
    outputs: ["certPem", "keyPem"],
    secretOutputs: ["keyPem"],
    formerTypes: [UNTYPED_DYNAMIC],
  });

export class LabCa extends pkiResource<CaInputs>("Ca", caProvider) {
  declare readonly certPem: pulumi.Output<string>;
  declare readonly keyPem: pulumi.Output<string>;
  constructor(name: string, commonName: string, opts?: pulumi.CustomResourceOptions) {
    super(name, { commonName, validityDays: CA_VALIDITY_DAYS }, opts);
    this.keyPem = pulumi.secret(this.keyPem);
  }
}

export class LabCert extends pkiResource<CertInputs>("Cert", certProvider) {
  declare readonly certPem: pulumi.Output<string>;
  declare readonly keyPem: pulumi.Output<string>;
  constructor(name: string, ca: LabCa, req: CertRequest, opts?: pulumi.CustomResourceOptions) {
    super(name, { caCertPem: ca.certPem, caKeyPem: ca.keyPem, ...req }, opts);
    this.keyPem = pulumi.secret(this.keyPem);
  }
}

export interface LabPki {
  ca: LabCa;
  admin: LabCert;
  nodes: Map<string, LabCert>;
}

/** CA, admin cert and one cert per node, as children of `parent`. */
export function createLabPki(spec: LabSpec, parent: pulumi.Resource): LabPki {
  const ca = new LabCa(`${spec.stack}-ca`, caCommonName(spec), { parent });
  const admin = new LabCert(`${spec.stack}-admin`, ca, adminCertRequest(), { parent: ca });
  const nodes = new Map(
    spec.nodes.map((n) => [
      n.name,
      new LabCert(`${spec.stack}-${n.name}`, ca, nodeCertRequest(n), { parent: ca }),
    ]),
  );
  return { ca, admin, nodes };
}

export interface LocalLabTls {
  ca: KeyAndCert;
  admin: KeyAndCert;
  /** Per node name: what renderIgnition needs. */
  nodes: Map<string, { caCert: string; cert: string; key: string }>;
}

/**
 * The same PKI as createLabPki, generated in-process and kept nowhere: for the
 * render command and for tests that boot real daemons (Pulumi keeps the lab's own).
 */
export function generateLabTls(spec: LabSpec): LocalLabTls {
  const ca = createCa(caCommonName(spec), CA_VALIDITY_DAYS);
  const nodes = new Map(
    spec.nodes.map((n) => {
      const pair = createCert(ca, nodeCertRequest(n));
      return [n.name, { caCert: ca.certPem, cert: pair.certPem, key: pair.keyPem }];
    }),
  );
  return { ca, admin: createCert(ca, adminCertRequest()), nodes };
}
