// The resource graph of each stack under Pulumi mocks. The mocks run the real PKI
// code for the dynamic resources, so the certificates checked here are real.
import * as pulumi from "@pulumi/pulumi";
import { ENVIRONMENTS, labSpecFromFile } from "../config";
import type { HypervisorDriver, MachineInput } from "../hypervisors";
import { describeCert, verifySignedBy } from "../pki/certs";
import { MockedResource, pkiMocks, outputValue as value } from "../pki/mocks";
import { fixedLabImages, fixedMirror } from "../testing/images";

const created: MockedResource[] = [];

beforeAll(() => pulumi.runtime.setMocks(pkiMocks(created), "fleetlab", "test"));

beforeEach(() => {
  created.length = 0;
});

// Import after setMocks so the program's module-level code sees the mock runtime.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = () => require("./lab") as typeof import("./lab");

describe.each(ENVIRONMENTS)("stack %s under mocks", (stack) => {
  jest.setTimeout(60_000);
  const spec = labSpecFromFile(stack);

  it("has one Node component per node with its role, secret Ignition and correct certs", async () => {
    const { Lab } = load();
    const lab = new Lab(stack, spec, { driver: null });
    expect(lab.nodes.map((n) => [n.node.name, n.node.role])).toEqual(
      spec.nodes.map((n) => [n.name, n.role]),
    );
    const caPem = await value(lab.pki.ca.certPem);

    for (const n of lab.nodes) {
      expect(await pulumi.isSecret(n.ignition)).toBe(true);
      const ign = JSON.parse(await value(n.ignition));
      expect(ign.ignition.version).toBe("3.3.0");
      const certPem = await value(lab.pki.nodes.get(n.node.name)!.certPem);
      expect(verifySignedBy(certPem, caPem)).toBe(true);
      expect(describeCert(certPem)).toMatchObject({
        commonName: n.node.name,
        dnsNames: [n.node.name, "localhost"],
        ipAddresses: [n.node.ip, "127.0.0.1"],
        serverAuth: true,
        clientAuth: true,
      });
      expect(await pulumi.isSecret(lab.pki.nodes.get(n.node.name)!.keyPem)).toBe(true);
    }
    expect(describeCert(await value(lab.pki.admin.certPem))).toMatchObject({
      commonName: "admin",
      clientAuth: true,
      serverAuth: false,
    });

    const byType = (t: string) => created.filter((c) => c.type === t).length;
    expect(byType("fleetlab:lab:Lab")).toBe(1);
    expect(byType("fleetlab:lab:Node")).toBe(spec.nodes.length);
    // CA + admin + one cert per node.
    expect(byType("pulumi-nodejs:dynamic/pki:Ca")).toBe(1);
    expect(byType("pulumi-nodejs:dynamic/pki:Cert")).toBe(spec.nodes.length + 1);
  });

  it("hands every node's secret Ignition to the hypervisor driver", async () => {
    const { Lab } = load();
    const seen: MachineInput[] = [];
    const driver: HypervisorDriver = {
      kind: spec.hypervisor.kind,
      emulates: () => false,
      checkHost: () => undefined,
      createNetwork: () => [],
      createLab: (_name, _spec, machines) => {
        seen.push(...machines);
        return { machines: [], shared: [] };
      },
    };
    // Services off: they are services.test.ts's, and would register past this test's end.
    const lab = new Lab(
      stack,
      { ...spec, services: false },
      { driver, images: fixedLabImages(), mirror: fixedMirror },
    );
    expect(lab.machines).toEqual({ machines: [], shared: [] });
    expect(seen.map((m) => m.node.name)).toEqual(spec.nodes.map((n) => n.name));
    for (const m of seen) expect(await pulumi.isSecret(m.ignition)).toBe(true);
    // Ignition waits for the registry's digests: let the registrations finish here.
    const ignition = JSON.parse(await value(seen[0].ignition));
    // Every lab has a registry (faculty's at the gateway on the KVM server, reached
    // through its SSH): its CA where Docker looks, the fleet agent and etcd by digest.
    const hp = lab.registry!.hostPort;
    expect(hp).toBe(`${spec.network.gateway}:5000`);
    const paths = ignition.storage.files.map((f: { path: string }) => f.path);
    expect(paths).toContain(`/etc/docker/certs.d/${hp}/ca.crt`);
    const fleetRef = await value(lab.registry!.images.fleet.ref);
    expect(fleetRef).toMatch(new RegExp(`^${hp}/fleetlab/fleet@sha256:[0-9a-f]{64}$`));
    const units = JSON.stringify(ignition.systemd.units);
    expect(units).toContain(fleetRef);
    const etcdRef = await value(lab.registry!.images.etcd!.ref);
    expect(etcdRef).toMatch(new RegExp(`^${hp}/fleetlab/etcd@sha256:[0-9a-f]{64}$`));
    expect(units).toContain(etcdRef);
    // Every node runs etcd's mirror, its member and its etcdctl alike: no other reference.
    expect(units).not.toContain(spec.etcd.image);
  });

  it("calls no driver when fleetlab:machines is false", async () => {
    const { Lab } = load();
    const driver: HypervisorDriver = {
      kind: spec.hypervisor.kind,
      emulates: () => false,
      checkHost: () => undefined,
      createNetwork: () => [],
      createLab: () => {
        throw new Error("driver called");
      },
    };
    const lab = new Lab(stack, { ...spec, machines: false }, { driver });
    expect(lab.machines).toBeUndefined();
    // Let the mocked registrations finish before the test ends.
    await value(lab.nodes[0].ignition);
  });
});
