import type { LabSpec, LibvirtSettings, VirtualBoxSettings } from "../../config/types";
import { hypervisorSettings } from "./driver";

describe("a driver's own settings", () => {
  const libvirt = { kind: "libvirt", uri: "qemu:///system" } as LibvirtSettings;
  const vbox = { kind: "virtualbox", vboxManage: "VBoxManage" } as VirtualBoxSettings;

  it("are spec.hypervisor itself when the kinds match", () => {
    expect(hypervisorSettings({ hypervisor: libvirt } as LabSpec, "libvirt")).toBe(libvirt);
    expect(hypervisorSettings({ hypervisor: vbox } as LabSpec, "virtualbox")).toBe(vbox);
  });

  it("are refused for another kind, naming the driver, the key and the kind it got", () => {
    expect(() => hypervisorSettings({ hypervisor: vbox } as LabSpec, "libvirt")).toThrow(
      new Error("libvirt driver got fleetlab:hypervisor.kind = virtualbox"),
    );
    expect(() => hypervisorSettings({ hypervisor: libvirt } as LabSpec, "virtualbox")).toThrow(
      new Error("virtualbox driver got fleetlab:hypervisor.kind = libvirt"),
    );
  });
});
