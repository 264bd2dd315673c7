// Node create/delete against a RECORDING TEST DOUBLE for virsh (testing/virsh): these
// tests show the calls the driver makes, what it leaves in the pool and the domain, and
// its cleanup, not a VM boot (the e2e layer boots real domains under libvirt). The test
// plays the guest: once the double marks the domain running, sshd "comes up" on the
// node's address. All traffic stays on 127.0.0.0/8.
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { FULL_IGNITION, recordedCalls } from "../common/testing/recording";
import { createNode, deleteNode, NodeProps, withoutFirstboot } from "./node";

const DOUBLE = path.join(__dirname, "testing", "virsh");
const URI = "qemu:///system";
// Loopback stands for the lab network; the node is .58.
const NODE_IP = "127.0.0.58";
const FIRSTBOOT = "root=/dev/vda rw ignition.firstboot ignition.platform.id=qemu";
/** What undoing a create does after the domain is stopped: the domain, then both volumes. */
const REMOVED = ["undefine", "vol-info", "vol-delete", "vol-info", "vol-delete"];

interface DoubleState {
  pools: Record<string, { path: string; volumes: Record<string, { backing?: string }> }>;
  domains: Record<string, { uuid: string; state: string; xml: string; definitions: number }>;
}

let dir: string;
let props: NodeProps;
let node: { server: net.Server; booted: boolean };
const full = FULL_IGNITION;

const calls = (): string[][] => recordedCalls(dir);
/** The command of each call: argv is `-q -c URI <command> ...`. */
const verbs = (): string[] => calls().map((c) => c[3]);
const state = (): DoubleState =>
  JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8")) as DoubleState;
const seed = (s: DoubleState) => fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(s));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The guest: sshd answers once the domain runs (bounded wait). */
async function playGuest(name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (state().domains[name]?.state === "running") {
      node.booted = true;
      return;
    }
    await sleep(50);
  }
  throw new Error(`test double domain ${name} never started`);
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-virsh-double-"));
  fs.mkdirSync(path.join(dir, "pool"));
  seed({ pools: { default: { path: path.join(dir, "pool"), volumes: {} } }, domains: {} });
  const base = path.join(dir, "base.qcow2");
  fs.writeFileSync(base, "not a real disk");
  process.env.VIRSH_DOUBLE_DIR = dir;
  process.env.FLEETLAB_VIRSH = DOUBLE;
  delete process.env.VIRSH_DOUBLE_FAIL;
  props = {
    uri: URI,
    pool: "default",
    name: "fleetlab-local-core-01",
    domainType: "auto",
    vcpus: 1,
    memoryMiB: 1024,
    diskBytes: 10 * 1024 ** 3,
    base: { path: base, format: "qcow2", capacityBytes: 12 * 1024 ** 3 },
    mac: "52:54:00:00:00:0b",
    ip: NODE_IP,
    attach: { network: "fleetlab-local" },
    fwCfgKey: "opt/org.flatcar-linux/config",
    ignition: full,
    directKernelBoot: { kernel: "/boot/vmlinuz", initrd: "/boot/initrd", cmdline: FIRSTBOOT },
    readinessTimeoutSec: 20,
  };
  // On loopback a closed port refuses, which the driver reads as a machine already on
  // the address; so until the guest boots its address takes connections and says nothing.
  node = { server: net.createServer(), booted: false };
  node.server.on("connection", (s) => (node.booted ? s.end("SSH-2.0-double\r\n") : s.destroy()));
  await new Promise<void>((r) => node.server.listen(22, NODE_IP, () => r()));
});

afterEach(async () => {
  await new Promise((r) => node.server.close(r));
  delete process.env.VIRSH_DOUBLE_DIR;
  delete process.env.VIRSH_DOUBLE_FAIL;
  delete process.env.FLEETLAB_VIRSH;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("libvirt node with a recording test double for virsh", () => {
  jest.setTimeout(30_000);

  it("uploads the Ignition, defines and starts the domain, drops ignition.firstboot, then deletes it all", async () => {
    const [created] = await Promise.all([createNode(props), playGuest(props.name)]);
    const pool = state().pools.default;
    const ign = path.join(pool.path, `${props.name}.ign`);
    expect(fs.readFileSync(ign, "utf8")).toBe(full);
    expect(pool.volumes[`${props.name}.qcow2`].backing).toBe(props.base.path);

    const dom = state().domains[props.name];
    expect(created).toMatchObject({
      domainUuid: dom.uuid,
      // The double, like the test machines, has no usable KVM.
      actualDomainType: "qemu",
      diskVolume: `${props.name}.qcow2`,
      ignitionVolume: `${props.name}.ign`,
    });
    expect(dom.state).toBe("running");
    expect(dom.xml).toContain(`<domain type='qemu'>`);
    expect(dom.xml).toContain(`<entry name='opt/org.flatcar-linux/config' file='${ign}'/>`);
    // Redefined once it answered, under the same UUID, for the boots after the first.
    expect(dom.definitions).toBe(2);
    expect(dom.xml).toContain(`<uuid>${dom.uuid}</uuid>`);
    expect(dom.xml).toContain("<cmdline>root=/dev/vda rw ignition.platform.id=qemu</cmdline>");

    expect(verbs()).toEqual([
      "uri",
      "pool-info",
      "domstate",
      "list",
      "vol-create",
      "vol-upload",
      "vol-path",
      "vol-create",
      "domcapabilities",
      "define",
      "start",
      "domuuid",
      "define",
    ]);
    // Every call names the connection, and every name or path comes after `--`.
    for (const c of calls()) expect(c.slice(0, 3)).toEqual(["-q", "-c", URI]);
    expect(calls().find((c) => c[3] === "vol-upload")).toEqual([
      "-q",
      "-c",
      URI,
      "vol-upload",
      "--pool",
      "default",
      "--",
      `${props.name}.ign`,
      expect.stringMatching(/fleetlab-ign-.*\.ign$/),
    ]);

    deleteNode(props, created);
    expect(state().domains).toEqual({});
    expect(state().pools.default.volumes).toEqual({});
    expect(fs.readdirSync(pool.path)).toEqual([]);
  });

  it("removes the domain and both volumes when a later step fails", async () => {
    process.env.VIRSH_DOUBLE_FAIL = "start";
    await expect(createNode(props)).rejects.toThrow(
      /virsh start fleetlab-local-core-01 \(on qemu:\/\/\/system\) failed: error: start failed \(injected by the test\)/,
    );
    expect(state().domains).toEqual({});
    expect(state().pools.default.volumes).toEqual({});
    expect(verbs().slice(verbs().indexOf("start"))).toEqual(["start", "domstate", ...REMOVED]);
  });

  it("gives up when SSH never answers, with the console tail, and destroys the running domain", async () => {
    await expect(createNode({ ...props, readinessTimeoutSec: 1 })).rejects.toThrow(
      /node fleetlab-local-core-01 \(libvirt domain on qemu:\/\/\/system\): SSH did not answer at 127\.0\.0\.58:22 within 1s\. .*Console log tail:/s,
    );
    expect(state().domains).toEqual({});
    expect(state().pools.default.volumes).toEqual({});
    // Stopped before it is undefined: an undefined running domain would live on, transient.
    expect(verbs().slice(verbs().lastIndexOf("domstate"))).toEqual([
      "domstate",
      "destroy",
      ...REMOVED,
    ]);
  });

  it("refuses a domain that already exists, and touches nothing", async () => {
    const other = { uuid: "u", state: "running", xml: "<domain/>", definitions: 1 };
    seed({ ...state(), domains: { [props.name]: other } });
    await expect(createNode(props)).rejects.toThrow(
      "libvirt domain fleetlab-local-core-01 already exists on qemu:///system: remove it (virsh -c qemu:///system undefine fleetlab-local-core-01) or rename the stack",
    );
    expect(verbs()).toEqual(["uri", "pool-info", "domstate"]);
    expect(state().domains[props.name]).toEqual(other);
  });

  it("refuses a MAC another domain has, naming the node's key and that domain", async () => {
    const xml = `<domain><interface type='network'><source network='default'/><mac address='52:54:00:00:00:0B'/></interface></domain>`;
    seed({ ...state(), domains: { web: { uuid: "u", state: "shut off", xml, definitions: 1 } } });
    await expect(createNode(props)).rejects.toThrow(
      "fleetlab:nodes fleetlab-local-core-01.mac = 52:54:00:00:00:0b is already used by libvirt domain web: pick another mac or remove web",
    );
    expect(verbs()).not.toContain("vol-create");
  });

  it("refuses an address something already answers on", async () => {
    node.booted = true;
    await expect(createNode(props)).rejects.toThrow(
      "fleetlab:nodes fleetlab-local-core-01.ip = 127.0.0.58 already answers on the lab network: pick a free address for fleetlab-local-core-01",
    );
    expect(verbs()).not.toContain("vol-create");
  });

  it("names fleetlab:hypervisor.pool when the pool does not exist", async () => {
    await expect(createNode({ ...props, pool: "lab" })).rejects.toThrow(
      "fleetlab:hypervisor.pool = lab: no such storage pool on qemu:///system; create it or set fleetlab:hypervisor.poolPath",
    );
  });

  it("names fleetlab:hypervisor.uri with libvirt's answer when the connection fails", async () => {
    process.env.VIRSH_DOUBLE_FAIL = "uri";
    await expect(createNode(props)).rejects.toThrow(
      "fleetlab:hypervisor.uri = qemu:///system: libvirt does not answer (error: uri failed (injected by the test)). Start libvirtd",
    );
  });

  it("says what to install when virsh itself is missing", async () => {
    process.env.FLEETLAB_VIRSH = path.join(dir, "no-such-virsh");
    await expect(createNode(props)).rejects.toThrow(
      /fleetlab:hypervisor\.uri = qemu:\/\/\/system: libvirt does not answer \(virsh uri on qemu:\/\/\/system could not run: .*ENOENT; install libvirt-clients\)/,
    );
  });

  it("deletes a node that is already gone without error", () => {
    expect(() => deleteNode(props, {})).not.toThrow();
    expect(verbs()).toEqual(["uri", "domstate", "vol-info", "vol-info"]);
  });
});

describe("the kernel command line after the first boot", () => {
  it("drops ignition.firstboot and keeps the rest", () => {
    expect(withoutFirstboot(FIRSTBOOT)).toBe("root=/dev/vda rw ignition.platform.id=qemu");
    expect(withoutFirstboot("ignition.firstboot=1 quiet")).toBe("quiet");
  });
});
