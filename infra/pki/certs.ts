// Lab CA and certificates with node-forge. Pure apart from randomness (keys,
// serials). Every function requires node-forge itself and uses only what is defined
// in this file: Pulumi serializes the dynamic provider's closure (./provider.ts), and
// a self-contained closure serializes without dragging modules along.
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as Forge from "node-forge";

export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

export interface CertRequest {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  /** server: TLS server and client (etcd members talk both ways); client: client only. */
  usage: "server" | "client";
  validityDays: number;
}

export function randomSerial(): string {
  const forge = require("node-forge") as typeof Forge;
  // Positive 127-bit serial: the leading hex digit stays below 8.
  const hex = forge.util.bytesToHex(forge.random.getBytesSync(16));
  return `${(parseInt(hex[0], 16) & 0x7).toString(16)}${hex.slice(1)}`;
}

export function validity(cert: Forge.pki.Certificate, days: number): void {
  const now = new Date();
  // Back-date an hour so a VM whose clock lags the host still accepts the cert.
  cert.validity.notBefore = new Date(now.getTime() - 3600 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + days * 86400 * 1000);
}

export function createCa(commonName: string, validityDays: number): KeyAndCert {
  const forge = require("node-forge") as typeof Forge;
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, validityDays);
  const subject = [
    { name: "commonName", value: commonName },
    { name: "organizationName", value: "fleetlab" },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPem: forge.pki.privateKeyToPem(keys.privateKey),
  };
}

export function createCert(ca: KeyAndCert, req: CertRequest): KeyAndCert {
  const forge = require("node-forge") as typeof Forge;
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, req.validityDays);
  cert.setSubject([
    { name: "commonName", value: req.commonName },
    { name: "organizationName", value: "fleetlab" },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...req.dnsNames.map((value) => ({ type: 2, value })),
    ...req.ipAddresses.map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: req.usage === "server", clientAuth: true },
    ...(altNames.length > 0 ? [{ name: "subjectAltName", altNames }] : []),
    { name: "subjectKeyIdentifier" },
    {
      name: "authorityKeyIdentifier",
      keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes(),
    },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPem: forge.pki.privateKeyToPem(keys.privateKey),
  };
}

export interface CertInfo {
  commonName: string;
  issuer: string;
  dnsNames: string[];
  ipAddresses: string[];
  serverAuth: boolean;
  clientAuth: boolean;
  isCa: boolean;
}

/** What a certificate says about itself (tests, outputs). */
export function describeCert(pem: string): CertInfo {
  const forge = require("node-forge") as typeof Forge;
  const cert = forge.pki.certificateFromPem(pem);
  const ext = <T>(name: string): T | undefined => cert.getExtension(name) as T | undefined;
  const san = ext<{ altNames: { type: number; value?: string; ip?: string }[] }>("subjectAltName");
  const eku = ext<{ serverAuth?: boolean; clientAuth?: boolean }>("extKeyUsage");
  return {
    commonName: String(cert.subject.getField("CN")?.value ?? ""),
    issuer: String(cert.issuer.getField("CN")?.value ?? ""),
    dnsNames: (san?.altNames ?? []).filter((a) => a.type === 2).map((a) => a.value ?? ""),
    ipAddresses: (san?.altNames ?? []).filter((a) => a.type === 7).map((a) => a.ip ?? ""),
    serverAuth: !!eku?.serverAuth,
    clientAuth: !!eku?.clientAuth,
    isCa: !!ext<{ cA?: boolean }>("basicConstraints")?.cA,
  };
}

/** True when `certPem` was signed by `caPem`. */
export function verifySignedBy(certPem: string, caPem: string): boolean {
  const forge = require("node-forge") as typeof Forge;
  try {
    return forge.pki.certificateFromPem(caPem).verify(forge.pki.certificateFromPem(certPem));
  } catch {
    return false;
  }
}
