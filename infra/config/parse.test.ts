import { ConfigError, parseLabSpec } from ".";
import { DEMO_SSH_KEY, validRawConfig } from "./fixtures";
import type { Raw } from "./read";
import { NODE_TCP_PORTS, TIMING_DEFAULTS } from "./defaults";
import { FLEET_API_PORT } from "../ignition/fleet";
import { DEFAULT_SERVICE_UNIT_OPTIONS } from "../../units/services";

/** Parses `raw`, expects a ConfigError, returns its problems' keys and the message. */
function problemsOf(raw: Raw): { keys: string[]; message: string } {
  try {
    parseLabSpec("test", raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    return { keys: e.problems.map((p) => p.key), message: e.message };
  }
  throw new Error("expected a ConfigError");
}

function withNodes(nodes: unknown[]): Raw {
  return { ...validRawConfig(), nodes };
}

describe("parseLabSpec: a valid config", () => {
  const spec = parseLabSpec("test", validRawConfig());

  it("derives IPs from the position, after the first 10 host addresses", () => {
    expect(spec.nodes.map((n) => n.ip)).toEqual(["10.88.0.11", "10.88.0.12", "10.88.0.13"]);
  });

  it("derives locally administered libvirt MACs from the IP", () => {
    expect(spec.nodes.map((n) => n.mac)).toEqual([
      "52:54:00:58:00:0b",
      "52:54:00:58:00:0c",
      "52:54:00:58:00:0d",
    ]);
  });

  it("derives VirtualBox MACs with VirtualBox's prefix", () => {
    // alpha: VirtualBox needs a Flatcar release with vboxguest (flatcar.test.ts).
    const vbox = parseLabSpec("test", {
      ...validRawConfig(),
      hypervisor: { kind: "virtualbox" },
      flatcarChannel: "alpha",
    });
    expect(vbox.nodes[0].mac).toBe("08:00:27:58:00:0b");
    expect(vbox.hypervisor).toEqual({
      kind: "virtualbox",
      hostOnlyInterface: "vboxnet0",
      vboxManage: "VBoxManage",
      headless: true,
      image: { kind: "flatcar" },
    });
  });

  it("fills network facts, defaults and the role metadata", () => {
    expect(spec.network).toMatchObject({
      name: "fleetlab-test",
      cidr: "10.88.0.0/24",
      prefixLength: 24,
      netmask: "255.255.255.0",
      broadcast: "10.88.0.255",
      dns: ["10.88.0.1"],
    });
    expect(spec.nodes[0]).toMatchObject({
      index: 0,
      role: "etcd",
      cpus: 2,
      memoryMiB: 2048,
      diskGiB: 10,
      metadata: { role: "etcd", lan: "true" },
    });
    expect(spec.flatcar).toEqual({ channel: "stable", version: "current", updates: false });
    expect(spec.etcd).toEqual({
      image: "quay.io/coreos/etcd:v3.5.17",
      clientPort: 2379,
      peerPort: 2380,
      heartbeatMs: 100,
      electionMs: 1000,
    });
    expect(spec.timing).toEqual({
      profile: "hardware",
      defaulted: ["etcdHeartbeatMs", "etcdElectionMs", "fleetLeaseTtlSec"],
    });
    expect(spec.hypervisor).toMatchObject({
      kind: "libvirt",
      pool: "fleetlab-test",
      domainType: "auto",
      ignitionFwCfgKey: "opt/org.flatcar-linux/config",
      network: { mode: "isolated" },
      image: { kind: "flatcar" },
    });
  });

  it("keeps explicit addresses, lower-cases MACs and takes per-node resources", () => {
    const s = parseLabSpec(
      "test",
      withNodes([{ name: "a", ip: "10.88.0.50", mac: "52:54:00:AA:BB:CC", memoryMiB: 4096 }]),
    );
    expect(s.nodes[0]).toMatchObject({
      ip: "10.88.0.50",
      mac: "52:54:00:aa:bb:cc",
      memoryMiB: 4096,
      role: "etcd",
    });
  });

  it("accepts booleans and integers given as text (how the Pulumi engine passes them)", () => {
    expect(spec.machines).toBe(true);
    expect(parseLabSpec("test", { ...validRawConfig(), machines: "false" }).machines).toBe(false);
    expect(
      parseLabSpec("test", { ...validRawConfig(), etcdClientPort: "12379" }).etcd.clientPort,
    ).toBe(12379);
  });

  it("takes the test image settings the libvirt e2e test needs", () => {
    const s = parseLabSpec("test", {
      ...validRawConfig(),
      hypervisor: {
        kind: "libvirt",
        uri: "qemu:///system",
        domainType: "qemu",
        ignitionFwCfgKey: "opt/com.coreos/config",
        image: { path: "/var/lib/fleetlab/debian.img", format: "raw" },
        directKernelBoot: {
          kernel: "/var/lib/fleetlab/vmlinuz",
          initrd: "/var/lib/fleetlab/initrd.img",
          cmdline: "root=/dev/vda rw",
        },
      },
    });
    expect(s.hypervisor).toMatchObject({
      ignitionFwCfgKey: "opt/com.coreos/config",
      domainType: "qemu",
      image: { kind: "path", format: "raw" },
      directKernelBoot: { cmdline: "root=/dev/vda rw" },
    });
  });
});

describe("parseLabSpec: bad input names the key, the value and the fix", () => {
  const cases: [string, Raw, string][] = [
    ["no nodes", withNodes([]), "fleetlab:nodes"],
    ["zero etcd members", withNodes([{ name: "a", role: "worker" }]), "fleetlab:nodes"],
    ["an even number of etcd members", withNodes([{ name: "a" }, { name: "b" }]), "fleetlab:nodes"],
    [
      "duplicate node names",
      withNodes([{ name: "a" }, { name: "b" }, { name: "a" }]),
      "fleetlab:nodes[2].name",
    ],
    [
      "duplicate IPs",
      withNodes([{ name: "a", ip: "10.88.0.12" }, { name: "b" }, { name: "c" }]),
      "fleetlab:nodes[1].ip",
    ],
    [
      "duplicate MACs",
      withNodes([
        { name: "a", mac: "52:54:00:00:00:01" },
        { name: "b", mac: "52:54:00:00:00:01" },
        { name: "c" },
      ]),
      "fleetlab:nodes[1].mac",
    ],
    ["an IP outside the CIDR", withNodes([{ name: "a", ip: "10.89.0.5" }]), "fleetlab:nodes[0].ip"],
    [
      "the network address as IP",
      withNodes([{ name: "a", ip: "10.88.0.0" }]),
      "fleetlab:nodes[0].ip",
    ],
    [
      "the broadcast address as IP",
      withNodes([{ name: "a", ip: "10.88.0.255" }]),
      "fleetlab:nodes[0].ip",
    ],
    ["the gateway as IP", withNodes([{ name: "a", ip: "10.88.0.1" }]), "fleetlab:nodes[0].ip"],
    ["a malformed IP", withNodes([{ name: "a", ip: "10.88.0.300" }]), "fleetlab:nodes[0].ip"],
    [
      "a malformed MAC",
      withNodes([{ name: "a", mac: "52:54:00:zz:00:01" }]),
      "fleetlab:nodes[0].mac",
    ],
    [
      "a multicast MAC",
      withNodes([{ name: "a", mac: "01:00:5e:00:00:01" }]),
      "fleetlab:nodes[0].mac",
    ],
    [
      "a private SSH key",
      {
        ...validRawConfig(),
        sshKeys: [
          "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
        ],
      },
      "fleetlab:sshKeys[0]",
    ],
    [
      "a malformed SSH key",
      { ...validRawConfig(), sshKeys: ["ssh-ed25519 not-base64!"] },
      "fleetlab:sshKeys[0]",
    ],
    [
      "an SSH key whose blob is another type",
      { ...validRawConfig(), sshKeys: [DEMO_SSH_KEY.replace("ssh-ed25519", "ssh-rsa")] },
      "fleetlab:sshKeys[0]",
    ],
    ["no SSH keys", { ...validRawConfig(), sshKeys: [] }, "fleetlab:sshKeys"],
    [
      "an unknown Flatcar channel",
      { ...validRawConfig(), flatcarChannel: "edge" },
      "fleetlab:flatcarChannel",
    ],
    [
      "a malformed Flatcar version",
      { ...validRawConfig(), flatcarVersion: "latest" },
      "fleetlab:flatcarVersion",
    ],
    [
      "memory below Flatcar's minimum",
      withNodes([{ name: "a", memoryMiB: 512 }]),
      "fleetlab:nodes[0].memoryMiB",
    ],
    [
      "default memory below the minimum",
      { ...validRawConfig(), nodeDefaults: { memoryMiB: 768 } },
      "fleetlab:nodeDefaults.memoryMiB",
    ],
    [
      "a DHCP pool overlapping a node",
      withNodes([{ name: "a", ip: "10.88.0.150" }]),
      "fleetlab:network.dhcpPool",
    ],
    [
      "a DHCP pool containing the gateway",
      {
        ...validRawConfig(),
        network: {
          cidr: "10.88.0.0/24",
          gateway: "10.88.0.120",
          dhcpPool: { start: "10.88.0.100", end: "10.88.0.199" },
        },
      },
      "fleetlab:network.dhcpPool",
    ],
    [
      "a DHCP pool outside the CIDR",
      {
        ...validRawConfig(),
        network: {
          cidr: "10.88.0.0/24",
          gateway: "10.88.0.1",
          dhcpPool: { start: "10.88.1.1", end: "10.88.1.9" },
        },
      },
      "fleetlab:network.dhcpPool.start",
    ],
    [
      "a CIDR with host bits",
      { ...validRawConfig(), network: { cidr: "10.88.0.7/24", gateway: "10.88.0.1" } },
      "fleetlab:network.cidr",
    ],
    [
      "a gateway outside the CIDR",
      { ...validRawConfig(), network: { cidr: "10.88.0.0/24", gateway: "10.0.0.1" } },
      "fleetlab:network.gateway",
    ],
    ["an invalid host name", withNodes([{ name: "Core_01" }]), "fleetlab:nodes[0].name"],
    ["an unknown role", withNodes([{ name: "a", role: "master" }]), "fleetlab:nodes[0].role"],
    ["a typo in a key", withNodes([{ name: "a", memoryMb: 2048 }]), "fleetlab:nodes[0].memoryMb"],
    ["an unknown top-level key", { ...validRawConfig(), node: [] }, "fleetlab:node"],
    [
      "a missing environment",
      { ...validRawConfig(), environment: undefined },
      "fleetlab:environment",
    ],
    [
      "a non-QEMU libvirt URI",
      { ...validRawConfig(), hypervisor: { kind: "libvirt", uri: "xen:///system" } },
      "fleetlab:hypervisor.uri",
    ],
    [
      "an unknown hypervisor",
      { ...validRawConfig(), hypervisor: { kind: "hyperv" } },
      "fleetlab:hypervisor.kind",
    ],
    [
      "a VirtualBox-only key on libvirt",
      {
        ...validRawConfig(),
        hypervisor: { kind: "libvirt", uri: "qemu:///system", hostOnlyInterface: "vboxnet0" },
      },
      "fleetlab:hypervisor.hostOnlyInterface",
    ],
    [
      "bridge mode without a bridge",
      {
        ...validRawConfig(),
        hypervisor: { kind: "libvirt", uri: "qemu:///system", networkMode: "bridge" },
      },
      "fleetlab:hypervisor.bridge",
    ],
    [
      "direct kernel boot of the Flatcar image",
      {
        ...validRawConfig(),
        hypervisor: {
          kind: "libvirt",
          uri: "qemu:///system",
          directKernelBoot: { kernel: "/k", initrd: "/i" },
        },
      },
      "fleetlab:hypervisor.directKernelBoot",
    ],
    [
      "an image URL without checksum",
      {
        ...validRawConfig(),
        hypervisor: {
          kind: "libvirt",
          uri: "qemu:///system",
          image: { url: "https://example.org/x.qcow2" },
        },
      },
      "fleetlab:hypervisor.image.sha256",
    ],
    [
      "an etcd image without tag",
      { ...validRawConfig(), etcdImage: "quay.io/coreos/etcd" },
      "fleetlab:etcdImage",
    ],
    ["equal etcd ports", { ...validRawConfig(), etcdPeerPort: 2379 }, "fleetlab:etcdPeerPort"],
    [
      "an etcd port that is the fleet API's",
      { ...validRawConfig(), etcdClientPort: 49153 },
      "fleetlab:etcdClientPort",
    ],
    [
      "an etcd port that is sshd's",
      { ...validRawConfig(), etcdPeerPort: 22 },
      "fleetlab:etcdPeerPort",
    ],
    [
      "a 1 s fleet lease",
      { ...validRawConfig(), fleetLeaseTtlSec: 1 },
      "fleetlab:fleetLeaseTtlSec",
    ],
    [
      "a fleet lease that fences during an etcd election",
      { ...validRawConfig(), etcdHeartbeatMs: 500, etcdElectionMs: 5000, fleetLeaseTtlSec: 15 },
      "fleetlab:fleetLeaseTtlSec",
    ],
    [
      "an election timeout under 5 heartbeats",
      { ...validRawConfig(), etcdHeartbeatMs: 500 },
      "fleetlab:etcdElectionMs",
    ],
    [
      "a heartbeat of 0 ms",
      { ...validRawConfig(), etcdHeartbeatMs: 0 },
      "fleetlab:etcdHeartbeatMs",
    ],
    [
      "metadata with a comma",
      withNodes([{ name: "a", metadata: { zone: "a,b" } }]),
      "fleetlab:nodes[0].metadata.zone",
    ],
    [
      "metadata contradicting the role",
      withNodes([{ name: "a", metadata: { role: "worker" } }]),
      "fleetlab:nodes[0].metadata.role",
    ],
  ];

  it.each(cases)("rejects %s", (_what, raw, key) => {
    const { keys, message } = problemsOf(raw);
    expect(keys).toContain(key);
    expect(message).toContain(key);
    expect(message).toMatch(/fix: \S/);
  });

  it("reports every problem at once", () => {
    const { keys } = problemsOf({
      ...withNodes([{ name: "a", ip: "10.99.0.1" }, { name: "a" }]),
      flatcarChannel: "edge",
    });
    expect(keys).toEqual(
      expect.arrayContaining([
        "fleetlab:nodes",
        "fleetlab:nodes[0].ip",
        "fleetlab:nodes[1].name",
        "fleetlab:flatcarChannel",
      ]),
    );
  });

  it("shows the bad value and never echoes a private key", () => {
    const secret =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETSECRET\n-----END OPENSSH PRIVATE KEY-----";
    expect(problemsOf({ ...validRawConfig(), sshKeys: [secret] }).message).not.toContain(
      "SECRETSECRET",
    );
    expect(problemsOf(withNodes([{ name: "a", ip: "10.89.0.5" }])).message).toContain(
      '"10.89.0.5"',
    );
  });

  it("says which addresses are free when an IP is outside the network", () => {
    expect(problemsOf(withNodes([{ name: "a", ip: "10.89.0.5" }])).message).toContain(
      "10.88.0.1-10.88.0.254",
    );
  });
});

describe("NODE_TCP_PORTS", () => {
  it("are the ports the fleet API and the service units really use", () => {
    expect(NODE_TCP_PORTS[FLEET_API_PORT]).toBe("the fleet API");
    expect(NODE_TCP_PORTS[DEFAULT_SERVICE_UNIT_OPTIONS.wwwPort]).toBe("the WWW service");
    expect(NODE_TCP_PORTS[DEFAULT_SERVICE_UNIT_OPTIONS.ldapPort]).toBe("the LDAP service");
    expect(Object.keys(NODE_TCP_PORTS)).toHaveLength(4);
  });
});

describe("timings that follow the host", () => {
  it("an emulated host gives the unset timing keys the emulation-safe defaults", () => {
    const spec = parseLabSpec("test", validRawConfig(), { emulated: true });
    expect([spec.etcd.heartbeatMs, spec.etcd.electionMs, spec.fleet.leaseTtlSec]).toEqual([
      500, 5000, 22,
    ]);
    expect(spec.timing.profile).toBe("emulated");
  });

  it("keeps what the stack sets, and says which keys took a default", () => {
    const spec = parseLabSpec(
      "test",
      { ...validRawConfig(), etcdHeartbeatMs: 200, etcdElectionMs: 4000 },
      { emulated: true },
    );
    expect([spec.etcd.heartbeatMs, spec.etcd.electionMs, spec.fleet.leaseTtlSec]).toEqual([
      200, 4000, 22,
    ]);
    expect(spec.timing.defaulted).toEqual(["fleetLeaseTtlSec"]);
  });

  it("the emulated defaults pass the program's own timing checks (fence window > 3 elections)", () => {
    const { etcdElectionMs, fleetLeaseTtlSec } = TIMING_DEFAULTS.emulated;
    expect(fleetLeaseTtlSec * 1000 * 0.7).toBeGreaterThanOrEqual(3 * etcdElectionMs);
  });
});
