// Every argument the VirtualBox driver hands to VBoxManage passes its grammar: VBoxManage
// has no end-of-options marker, so a value that could be read as an option is refused.
// And the host checks that run before any VM exists.
import { bootstrapConfig, configUrl } from "./bootstrap";
import * as a from "./args";
import { hostOnlyInterface, unsupportedHostProblem, vboxManageArgs } from "./vboxmanage";

const vm: a.VmArgsInput = {
  name: "fleetlab-dev-core-01",
  baseFolder: "/home/u/VirtualBox VMs/dev",
  cpus: 2,
  memoryMiB: 2048,
  mac: "08:00:27:a8:38:0b",
  hostOnlyInterface: "vboxnet0",
  consoleLog: "/home/u/VirtualBox VMs/dev/fleetlab-dev-core-01/fleetlab-dev-core-01-console.log",
};
const disk = { basePath: "/cache/base.vmdk", diskPath: "/vms/core-01.vdi" };

describe("VBoxManage arguments", () => {
  it("passes every call of a node's life unchanged", () => {
    const small = bootstrapConfig(configUrl("192.168.56.1", 8080, vm.name), "{}");
    const all = [
      a.VERSION,
      a.LIST_HOSTONLYIFS,
      a.showMediumInfoArgs(disk.basePath),
      a.cloneDiskArgs(disk),
      a.resizeDiskArgs(disk.diskPath, 20480),
      a.createVmArgs(vm),
      a.modifyVmArgs(vm),
      ...a.storageArgs(vm.name, disk.diskPath),
      a.ignitionPropertyArgs(vm.name, small),
      a.startVmArgs(vm.name, true),
      a.showVmInfoArgs(vm.name),
      a.powerOffArgs(vm.name),
      a.unregisterArgs(vm.name),
      a.closeMediumArgs(disk.diskPath),
    ];
    for (const args of all) expect(vboxManageArgs(args)).toEqual(args);
  });

  it.each([
    [a.showVmInfoArgs("-x"), /a value starting with '-' would be read as an option/],
    // A VM named like an option the grammar knows: counted, so not taken for it.
    [a.showVmInfoArgs("--delete"), /showvminfo takes 1 value\(s\), got 0/],
    [a.cloneDiskArgs({ basePath: "--help", diskPath: "/d.vdi" }), /a value starting with '-'/],
    [a.modifyVmArgs({ ...vm, hostOnlyInterface: "--nic1" }), /not a value for --hostonlyadapter1/],
    [a.modifyVmArgs({ ...vm, consoleLog: "-log" }), /not a value for --uartmode1/],
    [["modifyvm", vm.name, "--nic3", "bridged"], /a value starting with '-'/],
    [["export", vm.name], /not a VBoxManage command the driver uses/],
    [["startvm", "--type", "gui", vm.name], /values must come before the options/],
  ])("refuses %j", (args, why) =>
    expect(() => vboxManageArgs(args)).toThrow(
      new RegExp(`^VBoxManage ${args[0]}: refusing .*${why.source}`),
    ),
  );
});

describe("VirtualBox 7 on macOS (host-only networks only)", () => {
  it("is refused before VirtualBox is asked anything, naming what to do", () => {
    const v = { bin: "VBoxManage", run: jest.fn(), tryRun: jest.fn() };
    expect(() => hostOnlyInterface(v, "vboxnet0", "192.168.56.1", "darwin")).toThrow(
      "fleetlab:hypervisor.kind = virtualbox: VirtualBox on macOS has only host-only networks (hostonlynet), " +
        "which fleetlab's VirtualBox driver does not support (docs/virtualbox.md). Run the dev stack from a " +
        "Linux or Windows host with VirtualBox, or use a libvirt stack (faculty: a remote KVM server over qemu+ssh://)",
    );
    expect(v.run).not.toHaveBeenCalled();
    expect(unsupportedHostProblem("linux")).toBeUndefined();
    expect(unsupportedHostProblem("win32")).toBeUndefined();
  });
});
