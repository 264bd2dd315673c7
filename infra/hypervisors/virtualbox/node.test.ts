// Node create/delete with a RECORDING STAND-IN for VBoxManage (testing/VBoxManage):
// VirtualBox cannot run here, so these tests show the calls the driver makes, the
// Ignition hand-off over HTTP and the cleanup, not a VM boot. The test plays the guest's
// Ignition: it reads the guest property the driver set, fetches the URL in it and checks
// the SHA-512, as Ignition's config.replace does. All traffic stays on 127.0.0.0/8.
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { FULL_IGNITION, recordedCalls } from "../common/testing/recording";
import { createNode, deleteNode, NodeProps } from "./node";

const STANDIN = path.join(__dirname, "testing", "VBoxManage");
// Loopback stands for the host-only network: host side .1, the node .57.
const HOST_IP = "127.0.0.1";
const NODE_IP = "127.0.0.57";

let dir: string;
let props: NodeProps;
const full = FULL_IGNITION;

const calls = (): string[][] => recordedCalls(dir);
const vmState = (name: string) => {
  const f = path.join(dir, "vms", `${name}.json`);
  return fs.existsSync(f)
    ? (JSON.parse(fs.readFileSync(f, "utf8")) as { state: string; props: Record<string, string> })
    : undefined;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      // No keep-alive agent: each request is a new connection, as a booting guest's is.
      .get(url, { agent: false }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

/** What Flatcar's Ignition would do on first boot, then sshd coming up (bounded). */
async function playGuest(name: string): Promise<{ url: string; body: string; sshd: net.Server }> {
  for (let i = 0; i < 100; i++) {
    const vm = vmState(name);
    const small = vm?.state === "running" ? vm.props["/Ignition/Config"] : undefined;
    if (small) {
      const replace = JSON.parse(small).ignition.config.replace;
      const { status, body } = await httpGet(replace.source);
      expect(status).toBe(200);
      const hash = `sha512-${crypto.createHash("sha512").update(body).digest("hex")}`;
      expect(hash).toBe(replace.verification.hash);
      const sshd = net.createServer((s) => s.end("SSH-2.0-standin\r\n"));
      await new Promise<void>((r) => sshd.listen(22, NODE_IP, () => r()));
      return { url: replace.source, body, sshd };
    }
    await sleep(50);
  }
  throw new Error(`stand-in VM ${name} never started with an Ignition guest property`);
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-vbox-"));
  fs.writeFileSync(
    path.join(dir, "hostonlyifs"),
    `Name:            vboxnet0\nIPAddress:       ${HOST_IP}\nNetworkMask:     255.0.0.0\n\n`,
  );
  const base = path.join(dir, "flatcar_production_virtualbox_image.vmdk");
  fs.writeFileSync(base, "not a real disk");
  process.env.VBOX_STANDIN_DIR = dir;
  delete process.env.VBOX_STANDIN_FAIL;
  props = {
    vboxManage: STANDIN,
    name: "fleetlab-dev-core-01",
    baseFolder: path.join(dir, "VirtualBox VMs"),
    hostOnlyInterface: "vboxnet0",
    gateway: HOST_IP,
    headless: true,
    cpus: 1,
    memoryMiB: 2048,
    diskMiB: 20480,
    basePath: base,
    mac: "08:00:27:a8:38:0b",
    ip: NODE_IP,
    ignition: full,
    readinessTimeoutSec: 20,
  };
});

afterEach(() => {
  delete process.env.VBOX_STANDIN_DIR;
  delete process.env.VBOX_STANDIN_FAIL;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("VirtualBox node with a recording stand-in for VBoxManage (VirtualBox cannot run here)", () => {
  jest.setTimeout(30_000);

  it("creates the VM, serves the full Ignition once behind a small guest property, then deletes it", async () => {
    const [state, guest] = await Promise.all([createNode(props), playGuest(props.name)]);
    try {
      expect(guest.body).toBe(full);
      expect(guest.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fleetlab-dev-core-01\.ign$/);
      expect(state.vmUuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(state.diskPath).toBe(
        path.join(props.baseFolder, props.name, "fleetlab-dev-core-01.vdi"),
      );
      const verbs = calls().map((c) => c[0]);
      expect(verbs).toEqual([
        "--version",
        "list",
        "showvminfo",
        "showmediuminfo",
        "clonemedium",
        "modifymedium",
        "createvm",
        "modifyvm",
        "storagectl",
        "storageattach",
        "guestproperty",
        "startvm",
        "showvminfo",
      ]);
      const prop = calls().find((c) => c[0] === "guestproperty")!;
      expect(Buffer.byteLength(prop[4])).toBeLessThan(1024);
      expect(prop[4]).not.toContain("kkkk");
      expect(vmState(props.name)?.state).toBe("running");
      // The server is gone once the node answered: the URL no longer connects.
      await expect(httpGet(guest.url)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      guest.sshd.close();
    }

    fs.writeFileSync(state.consoleLog, "Flatcar login:\n"); // what the serial port would leave
    deleteNode(props);
    expect(vmState(props.name)).toBeUndefined();
    expect(fs.existsSync(state.diskPath)).toBe(false);
    expect(fs.existsSync(path.join(props.baseFolder, props.name))).toBe(false);
    expect(
      calls()
        .slice(-3)
        .map((c) => c.slice(0, 2)),
    ).toEqual([
      ["showvminfo", props.name],
      ["controlvm", props.name],
      ["unregistervm", props.name],
    ]);
  });

  it("grows the disk copy to diskMiB, and refuses one smaller than the image before copying", async () => {
    const [, guest] = await Promise.all([createNode(props), playGuest(props.name)]);
    guest.sshd.close();
    expect(calls().find((c) => c[0] === "modifymedium")).toEqual([
      "modifymedium",
      "disk",
      path.join(props.baseFolder, props.name, `${props.name}.vdi`),
      "--resize",
      "20480",
    ]);
    deleteNode(props);

    const before = calls().length;
    await expect(createNode({ ...props, diskMiB: 10240 })).rejects.toThrow(
      /diskGiB\) = 10: the base image .* is already 12\.24 GiB and VirtualBox can only grow a disk\. Set diskGiB to 13 or more/,
    );
    const verbs = calls()
      .slice(before)
      .map((c) => c[0]);
    expect(verbs).toEqual(["--version", "list", "showvminfo", "showmediuminfo"]);
  });

  it("removes the VM, its disk and folder and stops serving when a later step fails", async () => {
    process.env.VBOX_STANDIN_FAIL = "startvm";
    await expect(createNode(props)).rejects.toThrow(/startvm .* failed \(injected by the test\)/);
    expect(vmState(props.name)).toBeUndefined();
    expect(fs.existsSync(path.join(props.baseFolder, props.name))).toBe(false);
    expect(fs.existsSync(path.join(props.baseFolder, props.name, `${props.name}.vdi`))).toBe(false);
    expect(calls().map((c) => c[0])).toContain("unregistervm");
    const url = JSON.parse(calls().find((c) => c[0] === "guestproperty")![4]).ignition.config
      .replace.source;
    await expect(httpGet(url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("gives up when the node never fetches its Ignition, with the console tail, and cleans up", async () => {
    await expect(createNode({ ...props, readinessTimeoutSec: 1 })).rejects.toThrow(
      /never fetched its Ignition from http:\/\/127\.0\.0\.1:\d+\/fleetlab-dev-core-01\.ign within 1s.*Console log tail/s,
    );
    expect(vmState(props.name)).toBeUndefined();
    const verbs = calls().map((c) => c[0]);
    // Powered off before unregistering: VirtualBox refuses to delete a running VM.
    expect(verbs.slice(verbs.lastIndexOf("controlvm"))).toEqual([
      "controlvm",
      "unregistervm",
      "closemedium",
    ]);
  });

  it("names fleetlab:hypervisor.vboxManage and the fix when VBoxManage is missing", async () => {
    await expect(
      createNode({ ...props, vboxManage: path.join(dir, "no-such-VBoxManage") }),
    ).rejects.toThrow(
      /fleetlab:hypervisor\.vboxManage = .*no-such-VBoxManage: could not run it .*Install VirtualBox/,
    );
  });

  it("lists the host-only interfaces that exist when the configured one is missing", async () => {
    await expect(createNode({ ...props, hostOnlyInterface: "vboxnet7" })).rejects.toThrow(
      "fleetlab:hypervisor.hostOnlyInterface = vboxnet7: VirtualBox has no such host-only interface (it has: vboxnet0 (127.0.0.1))",
    );
    fs.writeFileSync(path.join(dir, "hostonlyifs"), "");
    await expect(createNode(props)).rejects.toThrow(/\(it has: none\)/);
    expect(calls().map((c) => c[0])).not.toContain("createvm");
  });

  it("refuses a gateway that is not the host-only interface's address", async () => {
    await expect(createNode({ ...props, gateway: "127.0.0.9" })).rejects.toThrow(
      "fleetlab:network.gateway = 127.0.0.9, but host-only interface vboxnet0 has address 127.0.0.1",
    );
  });

  it("refuses to take over a VM that already exists, and touches nothing", async () => {
    const [, guest] = await Promise.all([createNode(props), playGuest(props.name)]);
    guest.sshd.close();
    const before = calls().length;
    await expect(createNode(props)).rejects.toThrow(
      /VirtualBox VM fleetlab-dev-core-01 already exists: remove it/,
    );
    expect(
      calls()
        .slice(before)
        .map((c) => c[0]),
    ).toEqual(["--version", "list", "showvminfo"]);
    expect(vmState(props.name)?.state).toBe("running");
  });

  it("deletes a VM that is already gone without error", () => {
    expect(() => deleteNode(props)).not.toThrow();
    expect(calls().map((c) => c[0])).toEqual(["--version", "showvminfo"]);
  });
});
