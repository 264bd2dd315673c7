import { domainXml, DomainXmlInput, escapeXml, networkXml, poolXml, volumeXml } from "./xml";

const node: DomainXmlInput = {
  name: "fleetlab-local-core-01",
  type: "qemu",
  vcpus: 1,
  memoryMiB: 1024,
  pool: "fleetlab-local",
  diskVolume: "fleetlab-local-core-01.qcow2",
  diskFormat: "qcow2",
  mac: "52:54:00:00:00:0b",
  attach: { network: "fleetlab" },
  fwCfg: {
    key: "opt/org.flatcar-linux/config",
    file: "/var/lib/libvirt/images/fleetlab-local/fleetlab-local-core-01.ign",
  },
  consoleLog: "/var/log/libvirt/qemu/fleetlab-local-core-01-console.log",
};

describe("libvirt XML", () => {
  it("renders a Flatcar node booting from its disk under TCG", () => {
    expect(domainXml(node)).toMatchSnapshot();
  });

  it("renders the test image's direct kernel boot on a bridge under KVM", () => {
    const xml = domainXml({
      ...node,
      type: "kvm",
      attach: { bridge: "br0" },
      fwCfg: { key: "opt/com.coreos/config", file: "/pool/n.ign" },
      directKernelBoot: {
        kernel: "/img/vmlinuz",
        initrd: "/img/initrd.img",
        cmdline: "root=/dev/vda rw ignition.firstboot",
      },
    });
    expect(xml).toMatchSnapshot();
    expect(xml).not.toContain("<boot dev='hd'/>");
    expect(xml).toContain("<cpu mode='host-passthrough'/>");
  });

  it("renders isolated and NAT networks without a DHCP server", () => {
    const iso = networkXml({
      name: "lab",
      mode: "isolated",
      gateway: "192.168.56.1",
      netmask: "255.255.255.0",
    });
    const nat = networkXml({
      name: "lab",
      mode: "nat",
      gateway: "192.168.56.1",
      netmask: "255.255.255.0",
    });
    expect(iso).toMatchSnapshot();
    expect(iso).not.toContain("<forward");
    expect(nat).toContain("<forward mode='nat'/>");
    expect(nat).not.toContain("<dhcp");
  });

  it("renders pool, plain and copy-on-write volumes", () => {
    expect(poolXml("fleetlab-local", "/var/lib/libvirt/images/fleetlab-local")).toMatchSnapshot();
    expect(
      volumeXml({ name: "n.ign", capacityBytes: 1234, format: "raw", mode: "0644" }),
    ).toMatchSnapshot();
    expect(
      volumeXml({
        name: "n.qcow2",
        capacityBytes: 10 * 1024 ** 3,
        format: "qcow2",
        backingPath: "/img/rootfs.qcow2",
        backingFormat: "qcow2",
      }),
    ).toMatchSnapshot();
  });

  it("escapes every interpolated value", () => {
    expect(escapeXml(`a<b>&'"`)).toBe("a&#60;b&#62;&#38;&#39;&#34;");
    const xml = domainXml({ ...node, name: "x'/><evil/>" });
    expect(xml).not.toContain("<evil/>");
  });
});
