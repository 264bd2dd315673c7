// infra/index.ts as the engine runs it: config arrives as text (structured values as
// JSON) through the runtime, the program builds the lab and exports the outputs.
import * as pulumi from "@pulumi/pulumi";
import { labSpecFromPulumi, loadStackFile } from "./config";
import { MockedResource, pkiMocks, outputValue as value } from "./pki/mocks";
import { DRIVERS } from "./hypervisors";

// The real drivers plan their VMs under the mocks; nothing runs virsh at program time
// (faculty's domainType is kvm, so there is no host to ask either). The remote host
// check would log in to the faculty's server: here it is only seen to be asked, once,
// before the program goes on (tests/e2e/faculty-reach.test.ts runs it for real).
// The faculty lab has a registry now (reached through the server): the images it would
// build and push are stand-ins here, no docker runs under the mocks.
jest.mock("./registry", () => ({
  ...jest.requireActual<object>("./registry"),
  buildLabImages: (names: string[]) =>
    names.map((name) => ({ name, ref: `fleetlab-test/${name}:1`, id: `sha256:${name}` })),
  mirrorSource: (name: string, ref: string) => ({ name, ref, id: `sha256:${name}` }),
}));
const checkHost = jest.spyOn(DRIVERS.libvirt, "checkHost").mockImplementation(() => undefined);

function engineConfig(stack: string): Record<string, string> {
  const raw = loadStackFile(stack);
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [
      `fleetlab:${k}`,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  );
}

async function runProgram(stack: string, config: Record<string, string>) {
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(pkiMocks(created), "fleetlab", stack);
  // Once per test file: the program registers resources as it is loaded.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("./index") as Record<string, unknown>;
}

jest.setTimeout(60_000);

const created: MockedResource[] = [];

/**
 * Until the program has registered everything: the count of registered resources has
 * held still for a while (bounded). Registering a dynamic resource first serializes its
 * provider, and that must not outlive the test.
 */
async function registered(quietMs = 1000, boundMs = 30_000): Promise<MockedResource[]> {
  const end = Date.now() + boundMs;
  let seen = -1;
  while (Date.now() < end && created.length !== seen) {
    seen = created.length;
    await new Promise((r) => setTimeout(r, quietMs));
  }
  return created;
}

test("the faculty program exports names, IPs, roles, endpoints and a secret admin key", async () => {
  const out = await runProgram("faculty", engineConfig("faculty"));
  expect(checkHost).toHaveBeenCalledTimes(1);
  expect(checkHost.mock.calls[0][0].hypervisor).toMatchObject({
    uri: expect.stringMatching(/^qemu\+ssh:/),
  });
  expect(out.hypervisorSsh).toEqual({ host: "fleetlab@kvm.faculty.example" });
  expect(out.nodes).toEqual(["core-01", "core-02", "core-03", "worker-01"]);
  expect(out.nodeRoles).toEqual({
    "core-01": "etcd",
    "core-02": "etcd",
    "core-03": "etcd",
    "worker-01": "worker",
  });
  expect(out.nodeIps).toMatchObject({ "worker-01": "10.40.0.14" });
  expect(out.etcdEndpoints).toEqual([
    "https://10.40.0.11:2379",
    "https://10.40.0.12:2379",
    "https://10.40.0.13:2379",
  ]);
  expect(await value(out.caCert as pulumi.Output<string>)).toMatch(/BEGIN CERTIFICATE/);
  expect(await pulumi.isSecret(out.adminKey as pulumi.Output<string>)).toBe(true);
  expect(out.machinesCreated).toBe(true);
  // The services run there too, reached through the server: the agents serve the API.
  expect(out.fleetApiEndpoints).toEqual([
    "https://10.40.0.11:49153",
    "https://10.40.0.12:49153",
    "https://10.40.0.13:49153",
    "https://10.40.0.14:49153",
  ]);
  expect(out.servicesCreated).toBe(true);
  expect(out.registry).toBe("10.40.0.1:5000");
  const all = await registered();
  const units = all.filter((c) => "desiredState" in c.inputs).map((c) => c.inputs.name);
  expect(units).toEqual(expect.arrayContaining(["www.service", "ldap-sidekick.service"]));
});

test("services without machines fails before any resource, naming both keys", () => {
  pulumi.runtime.setAllConfig({
    ...engineConfig("local"),
    "fleetlab:services": "true",
    "fleetlab:machines": "false",
  });
  expect(() => labSpecFromPulumi()).toThrow(
    /fleetlab:services = "true": needs machines: fleetlab:machines is false/,
  );
});

test("bad config from the engine fails before any resource, naming the key", () => {
  pulumi.runtime.setAllConfig({
    ...engineConfig("local"),
    "fleetlab:nodes": JSON.stringify([{ name: "a" }, { name: "b" }]),
  });
  expect(() => labSpecFromPulumi()).toThrow(/fleetlab:nodes = \["a","b"\]: has 2 etcd members/);
});
