// fleetlab:services under Pulumi mocks: the lab data sets and service units exist
// only when the key is set, after the machines, with the admin cert as a secret.
// The mocks run the real PKI code; LabData/FleetUnit just echo their inputs (their
// providers are tested against real etcd and a real engine in tests/services/).
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { ConfigError, labSpecFromFile, parseLabSpec, PROJECT_DIR } from "../config";
import { loadStackFile } from "../config/load";
import type { HypervisorDriver } from "../hypervisors";
import { FLEET_API_PORT, fleetAgentCommand, fleetApiEndpoints } from "../ignition/fleet";
import { describeCert } from "../pki/certs";
import { MockedResource, pkiMocks, outputValue as value } from "../pki/mocks";
import { DATA_SETS } from "../../labdata/keys";
import { serviceUnits } from "../../units/services";
import { parseDhcpData } from "../../labdata/dhcp/parse";
import type { LabSpec } from "../config/types";
import { createLabPki } from "../pki";
import { checkDhcpServesLab, createLabServices, servicesData, servicesDataPaths } from "./services";
import { fixedLabImages } from "../testing/images";

const created: MockedResource[] = [];
/** Every registration with the URNs it depends on (the mocks do not see them). */
const deps = new Map<string, string[]>();

type RegisterReq = { getName(): string; getDependenciesList(): string[] };
const register = MockMonitor.prototype.registerResource;
MockMonitor.prototype.registerResource = function (
  req: RegisterReq,
  cb: Parameters<typeof register>[1],
) {
  deps.set(req.getName(), req.getDependenciesList());
  return register.call(this, req, cb);
};

const isServiceResource = (i: Record<string, unknown>) =>
  "set" in i || "desiredState" in i || "nodeIps" in i;

beforeAll(() => {
  const pki = pkiMocks(created);
  pulumi.runtime.setMocks(
    {
      ...pki,
      newResource(args) {
        if (!isServiceResource(args.inputs)) return pki.newResource(args);
        created.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
    },
    "fleetlab",
    "test",
  );
});

beforeEach(() => {
  created.length = 0;
  deps.clear();
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = () => require("./lab") as typeof import("./lab");

/** A stand-in VM: a custom resource the mocks register like any other. */
class FakeVm extends pulumi.CustomResource {
  constructor(type: string, name: string, opts?: pulumi.CustomResourceOptions) {
    super(type, name, {}, opts);
  }
}

/** A driver whose machines are real (mocked) custom resources the services must wait for. */
function fakeDriver(kind: HypervisorDriver["kind"]): HypervisorDriver {
  return {
    kind,
    emulates: () => false,
    checkHost: () => undefined,
    createNetwork: () => [],
    createLab: (name, _spec, machines, opts) => ({
      machines: machines.map((m) => ({
        node: m.node,
        resource: new FakeVm("test:index:Vm", `vm-${m.node.name}`, opts),
        machineId: pulumi.output(`uuid-${m.node.name}`),
      })),
      shared: [new FakeVm("test:index:Net", `net-${name}`, opts)],
    }),
  };
}

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const isSecretInput = (v: unknown) =>
  typeof v === "object" &&
  v !== null &&
  (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === SECRET_SIG;

describe("fleetlab:services", () => {
  jest.setTimeout(60_000);
  const base = labSpecFromFile("local");
  const off = { ...base, services: false };

  it("is on by default wherever there are machines, off without them", () => {
    expect(base.services).toBe(true);
    const raw = { ...loadStackFile("local"), machines: false };
    expect(parseLabSpec("local", raw).services).toBe(false);
  });

  it("when off, nothing of the services exists", async () => {
    expect(fleetApiEndpoints(off)).toEqual([]);
    const { Lab } = load();
    const lab = new Lab("local", off, {
      driver: fakeDriver(off.hypervisor.kind),
      images: fixedLabImages(),
    });
    expect(lab.services).toBeUndefined();
    await value(lab.nodes[0].ignition);
    expect(created.filter((c) => isServiceResource(c.inputs))).toEqual([]);
    expect(created.filter((c) => c.type.startsWith("fleetlab:services"))).toEqual([]);
  });

  it("creates the lab data and one FleetUnit per service unit, after every machine", async () => {
    const spec = { ...base, services: true };
    const { Lab } = load();
    const lab = new Lab("local", spec, {
      driver: fakeDriver(spec.hypervisor.kind),
      images: fixedLabImages(),
    });
    expect(lab.services).toBeDefined();
    await Promise.all(lab.services!.units.map((u) => value(u.urn)));

    const data = created.filter((c) => "set" in c.inputs);
    expect(data.map((d) => d.inputs.set).sort()).toEqual([...DATA_SETS].sort());
    const units = created.filter((c) => "desiredState" in c.inputs);
    expect(units.map((u) => u.inputs.name).sort()).toEqual(
      serviceUnits()
        .map((u) => u.name)
        .sort(),
    );
    // Each unit runs its image from the lab registry, by digest.
    const refs = lab.registry!.refs();
    for (const u of serviceUnits()) {
      const made = units.find((c) => c.inputs.name === u.name)!;
      expect(made.inputs.text).toContain(` ${await value(refs[u.image]!)}`);
      expect(made.inputs.text).not.toContain("ghcr.io");
    }

    const machineNames = [...spec.nodes.map((n) => `vm-${n.name}`), "net-local"];
    const dependsOnMachines = (name: string) => {
      const d = deps.get(name) ?? [];
      return machineNames.every((m) => d.some((urn) => urn.endsWith(`::${m}`)));
    };
    expect(dependsOnMachines("local-services")).toBe(true);
    // The wait for the engine comes after the VMs, the services after the wait.
    const ready = created.find((c) => "nodeIps" in c.inputs)!;
    expect(ready.inputs.nodeIps).toEqual(spec.nodes.map((n) => n.ip));
    expect(ready.inputs.machineIds).toEqual(spec.nodes.map((n) => `uuid-${n.name}`));
    expect(isSecretInput(ready.inputs.api)).toBe(true);
    expect(dependsOnMachines(ready.name)).toBe(true);
    for (const d of data)
      expect(deps.get(d.name)).toContainEqual(expect.stringMatching(`::${ready.name}$`));
    for (const d of data) expect([d.name, dependsOnMachines(d.name)]).toEqual([d.name, true]);
    // Units follow the data (a sidekick finds its data), hence the machines too.
    for (const u of units) {
      const d = deps.get(u.name) ?? [];
      expect([u.name, data.every((x) => d.some((urn) => urn.endsWith(`::${x.name}`)))]).toEqual([
        u.name,
        true,
      ]);
    }
  });

  it("hands the lab registry's address and the lab CA to the wait for the engine", async () => {
    const spec = { ...base, services: true };
    class Parent extends pulumi.ComponentResource {
      constructor(name: string) {
        super("test:index:Parent", name);
      }
    }
    const made = (name: string, registry?: Parameters<typeof createLabServices>[6]) => {
      const parent = new Parent(name);
      const pki = createLabPki(spec, parent);
      const machines = fakeDriver(spec.hypervisor.kind).createLab(
        name,
        spec,
        spec.nodes.map((node) => ({ node, ignition: pulumi.output("{}") })),
        { parent },
        [],
      );
      const services = createLabServices(
        name,
        spec,
        pki,
        machines,
        { parent },
        undefined,
        registry && { ...registry, caPem: pki.ca.certPem },
      );
      return { pki, services };
    };
    const withRegistry = made("with-registry", { hostPort: "10.88.0.1:5000" });
    const without = made("without-registry");
    await Promise.all(
      [withRegistry, without].flatMap((m) => m.services.units.map((u) => value(u.urn))),
    );
    const ready = (name: string) => created.find((c) => c.name === `${name}-fleet-ready`)!;
    expect(ready("with-registry").inputs.registry).toEqual({
      hostPort: "10.88.0.1:5000",
      caPem: await value(withRegistry.pki.ca.certPem),
    });
    expect(ready("without-registry").inputs).not.toHaveProperty("registry");
  });

  it("points LabData at every etcd member and FleetUnit at every node's TLS API, admin cert as a secret", async () => {
    const spec = { ...base, services: true };
    const { Lab } = load();
    const lab = new Lab("local", spec, {
      driver: fakeDriver(spec.hypervisor.kind),
      images: fixedLabImages(),
    });
    await Promise.all(lab.services!.units.map((u) => value(u.urn)));
    const adminKey = await value(lab.pki.admin.keyPem);
    const caPem = await value(lab.pki.ca.certPem);

    const dhcp = created.find((c) => c.inputs.set === "dhcp")!;
    expect(isSecretInput(dhcp.inputs.etcd)).toBe(true);
    const etcd = (dhcp.inputs.etcd as { value: Record<string, unknown> }).value;
    expect(etcd).toMatchObject({ caPem, keyPem: adminKey });
    expect(describeCert(String(etcd.certPem))).toMatchObject({
      commonName: "admin",
      clientAuth: true,
    });
    expect(etcd.endpoints).toEqual(
      spec.nodes
        .filter((n) => n.role === "etcd")
        .map((n) => `https://${n.ip}:${spec.etcd.clientPort}`),
    );
    // The stack's own DHCP file (its network's subnet), the shared directory and site.
    expect(dhcp.inputs.data).toEqual({
      dhcp: path.join(PROJECT_DIR, "data/dhcp.local.yaml"),
      ldap: path.join(PROJECT_DIR, "data/ldap"),
      www: path.join(PROJECT_DIR, "data/www"),
    });

    for (const u of created.filter((c) => "desiredState" in c.inputs)) {
      expect(isSecretInput(u.inputs.api)).toBe(true);
      const api = (u.inputs.api as { value: Record<string, unknown> }).value;
      // Every node, in order: the client moves on when a node does not answer.
      expect(api).toMatchObject({
        urls: spec.nodes.map((n) => `https://${n.ip}:${FLEET_API_PORT}`),
        caPem,
        keyPem: adminKey,
      });
      expect(api).not.toHaveProperty("url");
    }
    const ready = created.find((c) => "nodeIps" in c.inputs)!;
    expect((ready.inputs.api as { value: Record<string, unknown> }).value.urls).toHaveLength(
      spec.nodes.length,
    );
  });

  it("makes every agent serve the API on its own IP with the node cert, requiring the lab CA", () => {
    const spec = { ...base, services: true };
    expect(fleetApiEndpoints(spec)).toEqual(spec.nodes.map((n) => `https://${n.ip}:49153`));
    for (const node of spec.nodes) {
      const env = fleetAgentCommand(spec, node)
        .filter((a) => a[0] === "-e")
        .map((a) => a[1]);
      expect(env).toEqual(
        expect.arrayContaining([
          `FLEET_API_LISTEN=${node.ip}:49153`,
          "FLEET_API_CERTFILE=/etc/fleetlab/tls/node.pem",
          "FLEET_API_KEYFILE=/etc/fleetlab/tls/node-key.pem",
          "FLEET_API_CAFILE=/etc/fleetlab/tls/ca.pem",
        ]),
      );
      // Without the key the agent's command is what it was before the key existed.
      expect(fleetAgentCommand(off, node).flat().join(" ")).not.toContain("FLEET_API");
    }
  });

  it("is a config error without machines, naming both keys and the fix", () => {
    const raw = { ...loadStackFile("local"), services: true, machines: false };
    expect(() => parseLabSpec("local", raw)).toThrow(ConfigError);
    expect(() => parseLabSpec("local", raw)).toThrow(
      /fleetlab:services = true: needs machines: fleetlab:machines is false.*set fleetlab:machines to true, or fleetlab:services to false/s,
    );
    expect(parseLabSpec("local", { ...raw, machines: true }).services).toBe(true);
    expect(() => parseLabSpec("local", { ...raw, services: "yes" })).toThrow(
      /fleetlab:services = "yes": must be true or false/,
    );
  });

  it("reads the data paths named by fleetlab:data: any DHCP YAML file, shared ldap and www", () => {
    expect(servicesDataPaths("local", base.data)).toEqual({
      dhcp: path.join(PROJECT_DIR, "data/dhcp.local.yaml"),
      ldap: path.join(PROJECT_DIR, "data/ldap"),
      www: path.join(PROJECT_DIR, "data/www"),
    });
    const shared = { ldap: "data/ldap", www: "data/www" };
    expect(servicesDataPaths("s", { dhcp: "data/dhcp.faculty.yaml", ...shared }).dhcp).toBe(
      path.join(PROJECT_DIR, "data/dhcp.faculty.yaml"),
    );
    expect(() => servicesDataPaths("s", { dhcp: "data/ldap", ...shared })).toThrow(
      /fleetlab:data\.dhcp = "data\/ldap": is not a YAML file.*fix: name the stack's DHCP data file, e.g\. data\/dhcp\.s\.yaml/s,
    );
    expect(() =>
      servicesDataPaths("s", {
        dhcp: "data/dhcp.nope.yaml",
        ldap: "data/www/index.html",
        www: "/nonexistent-www",
      }),
    ).toThrow(
      /3 config problems.*fleetlab:data\.dhcp = "data\/dhcp\.nope\.yaml": .*does not exist.*fleetlab:data\.ldap = .*is not a directory.*fleetlab:data\.www = "\/nonexistent-www": .*does not exist/s,
    );
  });

  it("every committed stack's default data serves its own network", () => {
    for (const stack of ["local", "faculty", "dev"]) {
      const spec = { ...labSpecFromFile(stack), services: true };
      const { paths } = servicesData(spec);
      const dhcp = parseDhcpData(fs.readFileSync(paths.dhcp, "utf8"));
      expect([stack, dhcp.subnet]).toEqual([stack, spec.network.cidr]);
    }
  });

  it("reads and validates each data set once per program run, whoever asks", () => {
    const spec = { ...labSpecFromFile("local"), services: true };
    const first = servicesData(spec);
    expect(Object.keys(first.hashes).sort()).toEqual(["dhcp", "ldap", "www"]);
    expect(Object.values(first.hashes).every((h) => /^[0-9a-f]{20}$/.test(h))).toBe(true);
    // The spec check and the services' resources share one result, not a second read.
    expect(servicesData(spec)).toBe(first);
    // Another spec (another program run) is checked afresh.
    expect(servicesData({ ...spec })).not.toBe(first);
  });

  describe("the DHCP data against the lab network", () => {
    const spec = { ...base, services: true };
    const dhcpFile = (f: string) => fs.readFileSync(path.join(PROJECT_DIR, f), "utf8");
    const local = dhcpFile("data/dhcp.local.yaml");
    const check = (text: string, s: LabSpec = spec) =>
      checkDhcpServesLab(s, parseDhcpData(text, "data/x.yaml"), "data/x.yaml");

    it("accepts the stack's own file", () => {
      expect(() => check(local)).not.toThrow();
    });

    it("refuses another network's subnet, naming key, file, subnet, network and fix", () => {
      const run = () => check(dhcpFile("data/dhcp.yaml"));
      expect(run).toThrow(ConfigError);
      expect(run).toThrow(
        /fleetlab:data\.dhcp = "data\/dhcp\.local\.yaml": data\/x\.yaml has subnet 192\.168\.56\.0\/24, but the lab network \(fleetlab:network\.cidr\) is 10\.88\.0\.0\/24.*no DHCP\n\s+fix: point fleetlab:data\.dhcp at a file whose subnet is 10\.88\.0\.0\/24/,
      );
      // A larger subnet holding the network is still not the network.
      expect(() => check(local.replace("subnet: 10.88.0.0/24", "subnet: 10.88.0.0/16"))).toThrow(
        /has subnet 10\.88\.0\.0\/16/,
      );
    });

    it("refuses a pool over node addresses and reservations of a node's address or MAC", () => {
      expect(() =>
        check(
          local.replace(
            "{ start: 10.88.0.100, end: 10.88.0.199 }",
            "{ start: 10.88.0.12, end: 10.88.0.20 }",
          ),
        ),
      ).toThrow(
        /pool 10\.88\.0\.12-10\.88\.0\.20 holds node core-02's address 10\.88\.0\.12.*pool 10\.88\.0\.12-10\.88\.0\.20 holds node core-03's/s,
      );
      const nodeMac = spec.nodes[0].mac;
      expect(() => check(local.replace("52:54:00:aa:00:11", nodeMac))).toThrow(
        new RegExp(
          `reservations\\[1\\] \\(lab-pc-01, ${nodeMac}, 10\\.88\\.0\\.21\\) uses node core-01's MAC`,
        ),
      );
      expect(() => check(local.replace("ip: 10.88.0.10", "ip: 10.88.0.13"))).toThrow(
        /reservations\[0\] \(printer-1, 52:54:00:aa:00:01, 10\.88\.0\.13\) uses node core-03's address/,
      );
    });
  });
});
