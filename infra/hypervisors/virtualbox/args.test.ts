import {
  closeMediumArgs,
  cloneDiskArgs,
  createVmArgs,
  diskResizeMiB,
  ignitionPropertyArgs,
  modifyVmArgs,
  parseCapacityMiB,
  parseHostOnlyIfs,
  parseMachineReadable,
  powerOffArgs,
  resizeDiskArgs,
  showMediumInfoArgs,
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
    const base = "/cache/flatcar_production_virtualbox_image.vmdk";
    expect([
      showMediumInfoArgs(base),
      cloneDiskArgs({ basePath: base, diskPath: disk }),
      resizeDiskArgs(disk, 20480),
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

describe("the node's disk size (VirtualBox only grows disks)", () => {
  const disk = {
    name: "fleetlab-dev-core-01",
    basePath: "/cache/flatcar_production_virtualbox_image.vmdk",
    diskPath: "/vms/fleetlab-dev-core-01.vdi",
  };
  // Flatcar's VirtualBox image: about 12.24 GiB of partitions.
  const flatcarMiB = 12534;

  it("grows the copy to the requested size when that is larger than the image", () => {
    expect(diskResizeMiB({ ...disk, diskMiB: 20480 }, flatcarMiB)).toBe(20480);
  });

  it("leaves a copy of exactly the requested size alone", () => {
    expect(diskResizeMiB({ ...disk, diskMiB: 12534 }, flatcarMiB)).toBeUndefined();
  });

  it("refuses a size below the image, naming the key, the value and the fix", () => {
    expect(() => diskResizeMiB({ ...disk, diskMiB: 10240 }, flatcarMiB)).toThrow(
      "fleetlab:nodes[fleetlab-dev-core-01].diskGiB (or fleetlab:nodeDefaults.diskGiB) = 10: " +
        "the base image /cache/flatcar_production_virtualbox_image.vmdk is already 12.24 GiB and " +
        "VirtualBox can only grow a disk. Set diskGiB to 13 or more (the dev stack uses 20)",
    );
  });
});

describe("VBoxManage output parsers", () => {
  it("reads a medium's capacity from showmediuminfo", () => {
    const out = [
      "UUID:           0c6e2a4e-5d0b-4a4e-9c8f-0e7f3c2b1a00",
      "Parent UUID:    base",
      "State:          created",
      "Type:           normal (base)",
      "Location:       /cache/flatcar_production_virtualbox_image.vmdk",
      "Storage format: VMDK",
      "Capacity:       12534 MBytes",
      "Size on disk:   1021 MBytes",
      "",
    ].join("\n");
    expect(parseCapacityMiB(out)).toBe(12534);
    expect(() => parseCapacityMiB("UUID: x\n")).toThrow(/printed no capacity/);
  });

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
