import {
  closeMediumArgs,
  cloneDiskArgs,
  createVmArgs,
  ignitionPropertyArgs,
  modifyVmArgs,
  parseHostOnlyIfs,
  parseMachineReadable,
  powerOffArgs,
  startVmArgs,
  storageArgs,
  unregisterArgs,
  vboxMac,
  VmArgsInput,
} from "./args";

const vm: VmArgsInput = {
  name: "fleetlab-dev-core-01",
  baseFolder: "/home/me/VirtualBox VMs/dev",
  cpus: 1,
  memoryMiB: 2048,
  mac: "08:00:27:a8:38:0b",
  hostOnlyInterface: "vboxnet0",
  consoleLog: "/home/me/VirtualBox VMs/dev/fleetlab-dev-core-01/fleetlab-dev-core-01-console.log",
};

describe("VBoxManage argument lists", () => {
  it("renders every call of a node's life, in order", () => {
    const disk = "/home/me/VirtualBox VMs/dev/fleetlab-dev-core-01/fleetlab-dev-core-01.vdi";
    expect([
      ...cloneDiskArgs({
        name: vm.name,
        basePath: "/cache/flatcar_production_virtualbox_image.vmdk",
        diskPath: disk,
        diskMiB: 10240,
      }),
      createVmArgs(vm),
      modifyVmArgs(vm),
      ...storageArgs(vm.name, disk),
      ignitionPropertyArgs(vm.name, '{"ignition":{}}'),
      startVmArgs(vm.name, true),
      powerOffArgs(vm.name),
      unregisterArgs(vm.name),
      closeMediumArgs(disk),
    ]).toMatchSnapshot();
  });

  it("puts the lab NIC on the host-only interface with the node's MAC, NAT on NIC2", () => {
    const a = modifyVmArgs(vm);
    const after = (flag: string) => a[a.indexOf(flag) + 1];
    expect(after("--nic1")).toBe("hostonly");
    expect(after("--hostonlyadapter1")).toBe("vboxnet0");
    expect(after("--macaddress1")).toBe("080027A8380B");
    expect(after("--nic2")).toBe("nat");
    expect(a).not.toContain("--macaddress2");
    expect(after("--uartmode1")).toBe("file");
    expect(a[a.indexOf("--uartmode1") + 2]).toBe(vm.consoleLog);
  });

  it("starts headless or with a window", () => {
    expect(startVmArgs("n", true)).toEqual(["startvm", "n", "--type", "headless"]);
    expect(startVmArgs("n", false)).toEqual(["startvm", "n", "--type", "gui"]);
  });

  it("writes MACs the way VirtualBox wants them and rejects anything else", () => {
    expect(vboxMac("08:00:27:a8:38:0b")).toBe("080027A8380B");
    expect(vboxMac("08-00-27-A8-38-0C")).toBe("080027A8380C");
    expect(() => vboxMac("08:00:27:a8:38")).toThrow(/not a MAC address/);
  });

  it("passes names with spaces and quotes as single arguments", () => {
    const odd = { ...vm, name: `lab "x" y` };
    expect(createVmArgs(odd)).toContain(`lab "x" y`);
    expect(unregisterArgs(odd.name)[1]).toBe(`lab "x" y`);
  });
});

describe("VBoxManage output parsers", () => {
  it("reads host-only interfaces", () => {
    const out = [
      "Name:            vboxnet0",
      "GUID:            786f6276-656e-4074-8000-0a0027000000",
      "DHCP:            Disabled",
      "IPAddress:       192.168.56.1",
      "NetworkMask:     255.255.255.0",
      "",
      "Name:            vboxnet1",
      "IPAddress:       192.168.57.1",
      "",
    ].join("\n");
    expect(parseHostOnlyIfs(out)).toEqual([
      { name: "vboxnet0", ip: "192.168.56.1" },
      { name: "vboxnet1", ip: "192.168.57.1" },
    ]);
    expect(parseHostOnlyIfs("")).toEqual([]);
  });

  it("reads showvminfo --machinereadable", () => {
    const info = parseMachineReadable(
      'name="fleetlab-dev-core-01"\nUUID="4c1f0e5e-1a2b-4c3d-8e9f-001122334455"\nVMState="running"\nmemory=2048\n"SATA-0-0"="/x.vdi"\n',
    );
    expect(info).toMatchObject({
      name: "fleetlab-dev-core-01",
      UUID: "4c1f0e5e-1a2b-4c3d-8e9f-001122334455",
      VMState: "running",
      memory: "2048",
      "SATA-0-0": "/x.vdi",
    });
  });
});
