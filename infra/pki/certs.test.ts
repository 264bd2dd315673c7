import { labSpecFromFile } from "../config";
import {
  adminCertRequest,
  createCa,
  createCert,
  describeCert,
  nodeCertRequest,
  verifySignedBy,
} from ".";

describe("lab PKI (node-forge)", () => {
  const spec = labSpecFromFile("local");
  const ca = createCa("fleetlab test CA", 30);
  const node = spec.nodes[1];
  const nodeCert = createCert(ca, nodeCertRequest(node));

  it("makes a self-signed CA", () => {
    const info = describeCert(ca.certPem);
    expect(info).toMatchObject({
      commonName: "fleetlab test CA",
      issuer: "fleetlab test CA",
      isCa: true,
    });
    expect(verifySignedBy(ca.certPem, ca.certPem)).toBe(true);
    expect(ca.keyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
  });

  it("gives a node a server+client cert with its name, IP, localhost and 127.0.0.1", () => {
    expect(describeCert(nodeCert.certPem)).toEqual({
      commonName: node.name,
      issuer: "fleetlab test CA",
      dnsNames: [node.name, "localhost"],
      ipAddresses: [node.ip, "127.0.0.1"],
      serverAuth: true,
      clientAuth: true,
      isCa: false,
    });
    expect(verifySignedBy(nodeCert.certPem, ca.certPem)).toBe(true);
  });

  it("gives the management host an admin client-only cert", () => {
    const admin = createCert(ca, adminCertRequest());
    expect(describeCert(admin.certPem)).toMatchObject({
      commonName: "admin",
      serverAuth: false,
      clientAuth: true,
      dnsNames: [],
    });
  });

  it("does not accept a cert from another CA", () => {
    const other = createCa("other", 30);
    expect(verifySignedBy(createCert(other, nodeCertRequest(node)).certPem, ca.certPem)).toBe(
      false,
    );
  });

  it("never reuses a key or serial", () => {
    const again = createCert(ca, nodeCertRequest(node));
    expect(again.keyPem).not.toBe(nodeCert.keyPem);
    expect(again.certPem).not.toBe(nodeCert.certPem);
  });
});
