// The access `lab status` and `lab dashboard` take from a stack's outputs, and the
// errors that say what to run when the stack has no lab to read.
import type { OutputMap } from "@pulumi/pulumi/automation";
import { labAccess } from "./access";

const PEM = (what: string) => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`;
const out = (v: Record<string, unknown>, secret: string[] = []): OutputMap =>
  Object.fromEntries(
    Object.entries(v).map(([k, value]) => [k, { value, secret: secret.includes(k) }]),
  );
const lab = {
  machinesCreated: true,
  fleetApiEndpoints: ["https://10.88.0.11:49153", "https://10.88.0.12:49153"],
  etcdEndpoints: ["https://10.88.0.11:2379"],
  caCert: PEM("CERTIFICATE"),
  adminCert: PEM("CERTIFICATE"),
  adminKey: PEM("PRIVATE KEY"),
};

describe("labAccess", () => {
  it("takes every node's API URL and etcd URL with the admin cert, as the program does", () => {
    const a = labAccess("local", out(lab, ["adminKey"]));
    expect(a.fleetApi).toEqual({
      urls: lab.fleetApiEndpoints,
      caPem: lab.caCert,
      certPem: lab.adminCert,
      keyPem: lab.adminKey,
    });
    expect(a.etcd.endpoints).toEqual(lab.etcdEndpoints);
  });

  it("says to bring the stack up when it has no lab", () => {
    expect(() => labAccess("dev", {})).toThrow(
      /stack dev has no running lab.*npm run lab -- up dev/,
    );
    expect(() => labAccess("dev", out({ ...lab, machinesCreated: false }))).toThrow(
      /no running lab/,
    );
  });

  it("says why when the agents serve no API (services off)", () => {
    expect(() => labAccess("faculty", out({ ...lab, fleetApiEndpoints: [] }))).toThrow(
      /fleetlab:services is false/,
    );
  });

  it("refuses credentials that are not PEM (a secret left encrypted)", () => {
    expect(() => labAccess("local", out({ ...lab, adminKey: "[secret]" }))).toThrow(/adminKey/);
  });
});
