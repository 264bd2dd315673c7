// Bad input to the libvirt driver against a real libvirtd (started in a namespace of
// the test's own): each case fails with a message naming the key, the value and the
// fix, and leaves nothing behind. No VM boots and no traffic leaves 127.0.0.0/8.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createNode, NodeProps } from "../../infra/hypervisors/libvirt/node";
import {
  createBaseImage,
  createNetwork,
  createPool,
  deleteNetwork,
} from "../../infra/hypervisors/libvirt/shared";
import {
  FLATCAR_KEY_FINGERPRINT,
  FLATCAR_SIGNING_KEY,
  fetchUrl,
  verifySignature,
} from "../../infra/hypervisors/common/image";
import { domainXml } from "../../infra/hypervisors/libvirt/xml";
import { forceClean, leftovers } from "./checks";
import { createNetns, Daemon, deleteNetns, Netns, startLibvirt, stopDaemon } from "./netns";

jest.setTimeout(5 * 60_000);

const URI = "qemu:///system";
const TAG = "fleetlab-errs";
let tmp: string;
let ns: Netns;
let daemons: Daemon[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-errs-"));
  fs.chmodSync(tmp, 0o755);
  ns = createNetns(`fl-errs-${process.pid}`);
  daemons = await startLibvirt(ns, tmp);
  forceClean(ns, TAG);
  await createPool({ uri: URI, name: TAG, path: `/var/lib/libvirt/images/${TAG}` });
});

afterAll(async () => {
  if (ns) forceClean(ns, TAG);
  for (const d of [...daemons].reverse()) await stopDaemon(d);
  if (ns) deleteNetns(ns.name);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function nodeProps(over: Partial<NodeProps> = {}): NodeProps {
  return {
    uri: URI,
    pool: TAG,
    name: `${TAG}-n1`,
    domainType: "qemu",
    vcpus: 1,
    memoryMiB: 256,
    diskBytes: 1 << 30,
    base: { path: path.join(tmp, "base.qcow2"), format: "qcow2", capacityBytes: 1 << 30 },
    mac: "52:54:00:aa:bb:01",
    ip: "10.123.0.11",
    attach: { network: "default" },
    fwCfgKey: "opt/com.coreos/config",
    ignition: "{}",
    readinessTimeoutSec: 1,
    ...over,
  };
}

test("an unreachable libvirt URI names the key and how to fix it", async () => {
  const uri = "qemu+ssh://nobody@127.0.0.1:1/system";
  await expect(
    createNetwork({
      uri,
      name: `${TAG}-x`,
      mode: "isolated",
      gateway: "10.123.0.1",
      netmask: "255.255.255.0",
    }),
  ).rejects.toThrow(
    /fleetlab:hypervisor.uri = qemu\+ssh:\/\/nobody@127.0.0.1:1\/system: libvirt does not answer.*ssh user@host virsh/s,
  );
});

test("a missing pool is reported with the command that creates it", async () => {
  await expect(
    createBaseImage({
      uri: URI,
      pool: "no-such-pool",
      volume: "b",
      source: { kind: "path", path: "/x", format: "qcow2" },
    }),
  ).rejects.toThrow(
    /fleetlab:hypervisor.pool = no-such-pool: no such storage pool.*pool-define-as/,
  );
  await expect(createNode(nodeProps({ pool: "no-such-pool" }))).rejects.toThrow(
    /fleetlab:hypervisor.pool = no-such-pool/,
  );
  expect(leftovers(ns, TAG).filter((l) => !l.startsWith("pool "))).toEqual([]);
});

test("a subnet that is already in use fails network creation and leaves no network", async () => {
  const net = {
    uri: URI,
    mode: "isolated" as const,
    gateway: "10.123.0.1",
    netmask: "255.255.255.0",
  };
  await createNetwork({ ...net, name: `${TAG}-a` });
  try {
    await expect(createNetwork({ ...net, name: `${TAG}-b` })).rejects.toThrow(
      /fleetlab:network = 10.123.0.1\/255.255.255.0: .*pick another/s,
    );
    expect(leftovers(ns, `${TAG}-b`)).toEqual([]);
  } finally {
    deleteNetwork({ uri: URI, name: `${TAG}-a` });
  }
});

test("a MAC already used by another domain is refused before anything is created", async () => {
  const other = `${TAG}-other`;
  const xml = domainXml({
    name: other,
    type: "qemu",
    vcpus: 1,
    memoryMiB: 128,
    pool: TAG,
    diskVolume: "none.qcow2",
    diskFormat: "qcow2",
    mac: "52:54:00:aa:bb:01",
    attach: { network: "default" },
    fwCfg: { key: "opt/com.coreos/config", file: "/dev/null" },
    consoleLog: path.join(tmp, "other.log"),
  });
  fs.writeFileSync(path.join(tmp, "other.xml"), xml);
  expect(ns.exec("virsh", ["-c", URI, "define", path.join(tmp, "other.xml")]).status).toBe(0);
  await expect(createNode(nodeProps())).rejects.toThrow(
    /fleetlab:nodes fleetlab-errs-n1.mac = 52:54:00:aa:bb:01 is already used by libvirt domain fleetlab-errs-other/,
  );
  await expect(createNode(nodeProps({ name: other, mac: "52:54:00:aa:bb:02" }))).rejects.toThrow(
    /domain fleetlab-errs-other already exists/,
  );
  ns.exec("virsh", ["-c", URI, "undefine", other]);
  expect(leftovers(ns, TAG).filter((l) => !l.startsWith("pool "))).toEqual([]);
});

test("a URL image whose sha256 does not match is rejected and not cached", async () => {
  // The server runs in its own process: fetchUrl blocks this one while curl downloads.
  const www = path.join(tmp, "www");
  fs.mkdirSync(www);
  fs.writeFileSync(path.join(www, "img.qcow2"), "not the image you are looking for");
  const server = spawn(
    "python3",
    ["-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", www, "0"],
    {
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  try {
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("http.server did not start")), 10_000);
      server.stdout.on("data", (d: Buffer) => {
        const m = / port (\d+)/.exec(d.toString());
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    process.env.FLEETLAB_IMAGE_DOWNLOADS = path.join(tmp, "downloads");
    const want = "0".repeat(64);
    expect(() => fetchUrl(`http://127.0.0.1:${port}/img.qcow2`, want)).toThrow(
      /fleetlab:hypervisor.image.sha256 = 0{64} does not match the downloaded image \(sha256 [0-9a-f]{64}/,
    );
    expect(fs.readdirSync(path.join(tmp, "downloads", "sha256"))).toEqual([]);
  } finally {
    delete process.env.FLEETLAB_IMAGE_DOWNLOADS;
    server.stdout.destroy();
    server.kill();
  }
});

test("an OpenPGP signature check accepts the signed file and rejects a tampered one", () => {
  const gnupg = path.join(tmp, "gnupg");
  fs.mkdirSync(gnupg, { mode: 0o700 });
  const gpg = (args: string[]) =>
    spawnSync(
      "gpg",
      ["--homedir", gnupg, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", ...args],
      { encoding: "utf8" },
    );
  expect(
    gpg(["--quick-gen-key", "fleetlab test <test@fleetlab.invalid>", "ed25519", "sign", "1d"])
      .status,
  ).toBe(0);
  const key = path.join(tmp, "key.asc");
  expect(gpg(["--armor", "--output", key, "--export"]).status).toBe(0);
  const img = path.join(tmp, "image.img");
  fs.writeFileSync(img, "a disk image");
  expect(gpg(["--detach-sign", "--output", `${img}.sig`, img]).status).toBe(0);
  expect(() => verifySignature(img, `${img}.sig`, key, "test image")).not.toThrow();
  fs.appendFileSync(img, "tampered");
  expect(() => verifySignature(img, `${img}.sig`, key, "test image")).toThrow(
    /test image: OpenPGP signature check FAILED/,
  );
});

test("the shipped Flatcar signing key is Flatcar's (fingerprint) and loads into gpgv", () => {
  const r = spawnSync("gpg", ["--batch", "--show-keys", "--with-colons", FLATCAR_SIGNING_KEY], {
    encoding: "utf8",
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain(`fpr:::::::::${FLATCAR_KEY_FINGERPRINT}:`);
});
