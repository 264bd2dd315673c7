// The fleetlab program under the real engine: preview of every stack, then an
// up / no-change / secrets / one-node edit / destroy cycle. Every hypervisor tool and
// downloader on PATH is a recording sentinel (see harness.ts), so these tests also
// prove that no step here touches a hypervisor.
import * as fs from "fs";
import * as path from "path";
import type { Stack } from "@pulumi/pulumi/automation";
import * as YAML from "yaml";
import { repoRoot } from "../../scripts/lab/env";
import { ENVIRONMENTS } from "../../infra/config/types";
import { labImage } from "../../node/images";
import {
  changeCounts,
  countByType,
  ENGINE_TIMEOUT_MS,
  Step,
  stepRecorder,
  tempProject,
  TestProject,
} from "./harness";

function stackConfig(dir: string, stack: string) {
  const doc = YAML.parse(fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8"));
  return doc.config as Record<string, unknown>;
}

function stackNodes(dir: string, stack: string): { name: string; ip?: string }[] {
  return stackConfig(dir, stack)["fleetlab:nodes"] as { name: string; ip?: string }[];
}

/** The resource name at the end of a URN (urn:pulumi:stack::project::type::name). */
const urnName = (urn: string) => urn.split("::").pop()!;

// faculty's server is remote: its program logs in to it first (below).
describe.each(ENVIRONMENTS.filter((e) => e !== "faculty"))("preview of stack %s", (stackName) => {
  let project: TestProject;
  let stack: Stack;

  beforeAll(async () => {
    project = tempProject(repoRoot, [stackName]);
    stack = await project.open(stackName);
    // The lab registry mirrors fleetlab:etcdImage from this machine's docker, pulling it
    // first when missing; quay.io is out of reach here. Any image the machine holds will
    // do for a preview (it only inspects it): the fleet agent's, which the program
    // builds before it looks for etcd's.
    await stack.setConfig("fleetlab:etcdImage", { value: labImage("fleet") });
  }, ENGINE_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.workspace.removeStack(stackName, { force: true }).catch(() => undefined);
    project?.cleanup();
  }, ENGINE_TIMEOUT_MS);

  test(
    "creates the lab, one Node component and one certificate per node, CA and admin cert",
    async () => {
      const nodes = stackNodes(project.dir, stackName);
      const rec = stepRecorder();
      const res = await stack.preview({ onEvent: rec.onEvent });

      const creates = countByType(rec.steps, "create");
      expect(creates["pulumi:pulumi:Stack"]).toBe(1);
      expect(creates["fleetlab:lab:Lab"]).toBe(1);
      expect(creates["fleetlab:lab:Node"]).toBe(nodes.length);
      const created = new Set(
        rec.steps.filter((s) => s.op === "create").map((s) => urnName(s.urn)),
      );
      const pki = [
        `${stackName}-ca`,
        `${stackName}-admin`,
        ...nodes.map((n) => `${stackName}-${n.name}`),
      ];
      for (const name of pki) expect(created).toContain(name);
      // Where a driver exists (libvirt, virtualbox), one VM per node is planned too; planning
      // it must not change anything on the hypervisor (checked below).
      const kind = (stackConfig(project.dir, stackName)["fleetlab:hypervisor"] as { kind: string })
        .kind;
      if (kind === "libvirt") {
        expect(creates["pulumi-nodejs:dynamic/libvirt:Node"]).toBe(nodes.length);
      }
      if (kind === "virtualbox") {
        expect(creates["pulumi-nodejs:dynamic/virtualbox:Node"]).toBe(nodes.length);
      }
      // A fresh stack: nothing but creates.
      expect(Object.keys(changeCounts(res))).toEqual(["create"]);
      // Planning changes nothing on the hypervisor. The program may ask it, read-only,
      // how the VMs will run (infra/index.ts: timings the stack leaves unset follow it).
      const readOnly = /^virsh -q -c \S+ (uri|domcapabilities|capabilities)\b/;
      expect(project.hypervisorCalls().filter((c) => !readOnly.test(c))).toEqual([]);
    },
    ENGINE_TIMEOUT_MS,
  );
});

// The committed faculty stack names a KVM server that is not here: its program asks the
// server over SSH before anything (infra/hypervisors/libvirt/preflight.ts), so the
// preview stops there, naming the key, with nothing planned and no other call made.
// The plan itself: infra/program.test.ts under mocks, and `npm run test:faculty` for real.
describe("preview of stack faculty", () => {
  let project: TestProject;
  let stack: Stack;

  beforeAll(async () => {
    project = tempProject(repoRoot, ["faculty"]);
    stack = await project.open("faculty");
  }, ENGINE_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.workspace.removeStack("faculty", { force: true }).catch(() => undefined);
    project?.cleanup();
  }, ENGINE_TIMEOUT_MS);

  test(
    "asks the KVM server first, and stops before any resource when it does not answer",
    async () => {
      const rec = stepRecorder();
      const err = await stack.preview({ onEvent: rec.onEvent }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      // Shown alone, as a config error is: no JavaScript stack trace.
      expect(err).not.toMatch(/unhandled exception|at checkRemoteHost/);
      expect(err).toMatch(
        /fleetlab:hypervisor\.uri = qemu\+ssh:\/\/fleetlab@kvm\.faculty\.example\/system: /,
      );
      expect(
        rec.steps.filter((s) => s.op === "create" && !s.urn.includes("pulumi:pulumi:Stack")),
      ).toEqual([]);
      // One login attempt, nothing else: no virsh, no download.
      expect(project.hypervisorCalls()).toEqual([
        expect.stringMatching(/^ssh .*-- fleetlab@kvm\.faculty\.example 'true'$/),
      ]);
    },
    ENGINE_TIMEOUT_MS,
  );
});

// The newcomer's stack, `local`, rendered without VMs (`fleetlab:machines: false`):
// the up / destroy cycle of everything but the hypervisor (VMs are tests/e2e's job).
describe("up, no-change preview, secrets, one-node edit, destroy (stack local, no VMs)", () => {
  const stackName = "local";
  let project: TestProject;
  let stack: Stack;
  let nodes: { name: string; ip?: string }[];

  /** Edits the test's copy of Pulumi.<stack>.yaml. */
  function editStackFile(edit: (doc: YAML.Document) => void): void {
    const file = path.join(project.dir, `Pulumi.${stackName}.yaml`);
    const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
    edit(doc);
    fs.writeFileSync(file, doc.toString());
  }

  beforeAll(async () => {
    project = tempProject(repoRoot, [stackName]);
    editStackFile((doc) => doc.setIn(["config", "fleetlab:machines"], false));
    stack = await project.open(stackName);
    nodes = stackNodes(project.dir, stackName);
  }, ENGINE_TIMEOUT_MS);

  afterAll(async () => {
    // Destroy even when a test in the middle failed, so no state is left behind.
    await stack?.destroy().catch(() => undefined);
    await stack?.workspace.removeStack(stackName, { force: true }).catch(() => undefined);
    project?.cleanup();
  }, ENGINE_TIMEOUT_MS);

  /** Resources in the checkpoint, provider resources left out (as the summary does). */
  const resourcesInState = (): string[] =>
    (JSON.parse(project.stateFile(stackName)).checkpoint.latest?.resources ?? [])
      .map((r: { type: string }) => r.type)
      .filter((t: string) => !t.startsWith("pulumi:providers:"));

  test(
    "up succeeds and creates the stack's resources: the PKI and the nodes at least",
    async () => {
      const rec = stepRecorder();
      const res = await stack.up({ onEvent: rec.onEvent });
      expect(res.summary.result).toBe("succeeded");
      expect(Object.keys(res.summary.resourceChanges ?? {})).toEqual(["create"]);
      const types = resourcesInState();
      expect(res.summary.resourceChanges?.create).toBe(types.length);
      expect(types.filter((t) => t === "fleetlab:lab:Node")).toHaveLength(nodes.length);
      // CA + admin + one certificate per node (dynamic resources).
      const certs = rec.steps.filter(
        (s) => s.op === "create" && /-(ca|admin)$/.test(urnName(s.urn)),
      );
      expect(certs).toHaveLength(2);
      expect(res.outputs.machinesCreated.value).toBe(false);
      // Planning changes nothing on the hypervisor. The program may ask it, read-only,
      // how the VMs will run (infra/index.ts: timings the stack leaves unset follow it).
      const readOnly = /^virsh -q -c \S+ (uri|domcapabilities|capabilities)\b/;
      expect(project.hypervisorCalls().filter((c) => !readOnly.test(c))).toEqual([]);
    },
    ENGINE_TIMEOUT_MS,
  );

  test(
    "a second preview reports no changes",
    async () => {
      const res = await stack.preview();
      expect(changeCounts(res)).toEqual({ same: resourcesInState().length });
    },
    ENGINE_TIMEOUT_MS,
  );

  test(
    "private keys and Ignition are encrypted in the state file",
    async () => {
      const outputs = await stack.outputs();
      const adminKey = String(outputs.adminKey.value);
      expect(outputs.adminKey.secret).toBe(true);
      expect(adminKey).toMatch(/-----BEGIN (RSA |EC )?PRIVATE KEY-----/);

      // The checkpoint file itself: `stack export` through the Automation API would
      // decrypt secrets (--show-secrets). Boolean checks keep key material out of logs.
      const state = project.stateFile(stackName);
      // A base64 line from inside the key: JSON escaping cannot hide it.
      const keyBody = adminKey.split(/\r?\n/).find((l) => /^[A-Za-z0-9+/]{64}$/.test(l))!;
      expect(keyBody).toBeDefined();
      expect(state.includes(keyBody)).toBe(false);
      expect(state.includes("PRIVATE KEY")).toBe(false);
      // No string in the state is an Ignition document in the clear.
      const strings: string[] = [];
      const walk = (v: unknown): void => {
        if (typeof v === "string") strings.push(v);
        else if (v && typeof v === "object") Object.values(v).forEach(walk);
      };
      walk(JSON.parse(state));
      expect(strings.some((s) => /"ignition"\s*:\s*\{\s*"version"/.test(s))).toBe(false);
      // Ignition carries the node key URL-encoded in a data: URL.
      expect(state.includes("PRIVATE%20KEY")).toBe(false);
      // ...while the encrypted values are there: at least one per node key, CA and admin.
      const ciphertexts = state.match(/"ciphertext":\s*"v1:/g) ?? [];
      expect(ciphertexts.length).toBeGreaterThanOrEqual(nodes.length + 2);
    },
    ENGINE_TIMEOUT_MS,
  );

  test(
    "changing one node's IP replaces only that node's resources",
    async () => {
      const target = nodes[1].name;
      const cidr = (stackConfig(project.dir, stackName)["fleetlab:network"] as { cidr: string })
        .cidr;
      // .42: inside the lab subnet, outside the DHCP pool and the derived node IPs.
      const ip = cidr.split("/")[0].replace(/\.\d+$/, ".42");
      editStackFile((doc) => doc.setIn(["config", "fleetlab:nodes", 1, "ip"], ip));

      const rec = stepRecorder();
      const res = await stack.preview({ onEvent: rec.onEvent });
      const replaced: Step[] = rec.steps.filter((s) => s.op === "replace");
      expect(replaced.length).toBeGreaterThan(0);
      expect(replaced.map((s) => urnName(s.urn))).toEqual(
        replaced.map(() => `${stackName}-${target}`),
      );
      expect(changeCounts(res).replace).toBe(replaced.length);
      expect(changeCounts(res).delete ?? 0).toBe(0);
      // Planning changes nothing on the hypervisor. The program may ask it, read-only,
      // how the VMs will run (infra/index.ts: timings the stack leaves unset follow it).
      const readOnly = /^virsh -q -c \S+ (uri|domcapabilities|capabilities)\b/;
      expect(project.hypervisorCalls().filter((c) => !readOnly.test(c))).toEqual([]);
    },
    ENGINE_TIMEOUT_MS,
  );

  test(
    "destroy leaves an empty stack",
    async () => {
      const res = await stack.destroy();
      expect(res.summary.result).toBe("succeeded");
      const state = await stack.exportStack();
      expect(state.deployment.resources ?? []).toEqual([]);
      // Planning changes nothing on the hypervisor. The program may ask it, read-only,
      // how the VMs will run (infra/index.ts: timings the stack leaves unset follow it).
      const readOnly = /^virsh -q -c \S+ (uri|domcapabilities|capabilities)\b/;
      expect(project.hypervisorCalls().filter((c) => !readOnly.test(c))).toEqual([]);
    },
    ENGINE_TIMEOUT_MS,
  );
});

// Pulumi.yaml types the structured keys (infra/config/keys.ts): the CLI itself refuses a
// value of the wrong shape, naming the key, before the program or any resource runs.
describe("the CLI checks Pulumi.yaml's config types", () => {
  let project: TestProject;
  let stack: Stack;

  beforeAll(async () => {
    project = tempProject(repoRoot, ["local"]);
    const file = path.join(project.dir, "Pulumi.local.yaml");
    const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
    doc.setIn(["config", "fleetlab:hypervisor"], "libvirt");
    doc.setIn(["config", "fleetlab:machines"], false);
    fs.writeFileSync(file, doc.toString());
    stack = await project.open("local");
  }, ENGINE_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.workspace.removeStack("local", { force: true }).catch(() => undefined);
    project?.cleanup();
  }, ENGINE_TIMEOUT_MS);

  test(
    "a text where an object is declared stops preview with the key's name",
    async () => {
      const rec = stepRecorder();
      const err = await stack.preview({ onEvent: rec.onEvent }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/configuration key 'hypervisor' must be of type 'object'/);
      expect(rec.steps).toEqual([]);
    },
    ENGINE_TIMEOUT_MS,
  );
});
