// What names a node's VM and what stands for its Ignition in state, the same on every
// hypervisor: one stack's VMs never collide with another stack's on a shared host.
import * as crypto from "crypto";
import type { LabSpec, NodeSpec } from "../../config/types";

/** The VM's name on the hypervisor (libvirt domain, VirtualBox VM): fleetlab-<stack>-<node>. */
export function vmName(spec: LabSpec, node: NodeSpec): string {
  return `fleetlab-${spec.stack}-${node.name}`;
}

/**
 * sha256 of the node's Ignition JSON. The Ignition itself is a secret that is never
 * written to state; its hash is, so a changed config shows up in a diff and replaces the VM.
 */
export function ignitionHash(ignition: string): string {
  return crypto.createHash("sha256").update(ignition).digest("hex");
}
