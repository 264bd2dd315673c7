// The one seam between the lab model and a hypervisor. Each driver lives in
// hypervisors/<kind>/index.ts and exports `driver: HypervisorDriver`; the
// program reaches a driver only through the map in ./index.ts.
import * as pulumi from "@pulumi/pulumi";
import type { HypervisorKind, LabSpec, NodeSpec } from "../config/types";

export interface MachineInput {
  node: NodeSpec;
  /** Serialized Ignition JSON; a secret (it carries the node's private key). */
  ignition: pulumi.Output<string>;
}

export interface MachineHandle {
  node: NodeSpec;
  /** The resource that is the VM; later layers depend on it. */
  resource: pulumi.Resource;
  /** Hypervisor's identity of the VM (libvirt domain UUID, VirtualBox VM UUID). */
  machineId: pulumi.Output<string>;
}

export interface LabMachines {
  machines: MachineHandle[];
  /** Everything else the driver created (network, pool, base volume). */
  shared: pulumi.Resource[];
}

export interface HypervisorDriver {
  readonly kind: HypervisorKind;
  /**
   * Whether this lab's VMs will run under software emulation (QEMU without KVM),
   * asked before the config is parsed for good, so that timings the stack leaves
   * unset can take emulation-safe defaults. Never throws: a host it cannot reach
   * answers false here, and createLab reports the connection problem.
   */
  emulates(spec: LabSpec): boolean;
  /**
   * What can be checked of the hypervisor host before any resource exists, on `up` and
   * on `preview`: throws an error that names the key, the value and the fix. Hosts the
   * program reaches over the network (a remote KVM server) are checked here; a host
   * that is this machine is checked by the providers as they run.
   */
  checkHost(spec: LabSpec): void;
  /**
   * Create the lab network, if the settings ask for one: what must exist before the
   * management host holds the network's gateway address (the lab registry listens
   * there, and the VMs' Ignition names images in it). Empty when the network is the
   * host's own (a bridge, VirtualBox's host-only interface). `opts.parent` is the lab.
   */
  createNetwork(
    name: string,
    spec: LabSpec,
    opts: pulumi.ComponentResourceOptions,
  ): pulumi.Resource[];
  /**
   * Create one VM per node that boots with its Ignition, on `network` (what
   * createNetwork made, returned again in `shared`). `opts.parent` is the lab
   * component. Changing only an input other than the node's Ignition/resources must
   * not replace a VM.
   */
  createLab(
    name: string,
    spec: LabSpec,
    machines: MachineInput[],
    opts: pulumi.ComponentResourceOptions,
    network: pulumi.Resource[],
  ): LabMachines;
}
