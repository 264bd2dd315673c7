// The VM resource shape both drivers share, on the provider kit (infra/dynamic).
import { dynamicProvider, type DiffRules } from "../../dynamic";

/**
 * A VM resource's props: its node operation's props, plus the Ignition's hash, which
 * stands for the Ignition in state (the Ignition carries the node's key and is never
 * written there).
 */
export type VmProps<P> = P & { ignitionHash: string };

/**
 * The VM provider of both drivers: the id is the VM's name, and a replaced VM goes
 * old one first, because its name, MAC and IP are fixed per node. An update only
 * records the new inputs: what may change in place matters at create time only.
 */
export function vmProvider<P extends { name: string; ignition: string }, S extends object>(
  rules: DiffRules<VmProps<P>>,
  ops: { create: (inputs: VmProps<P>) => Promise<S>; delete: (olds: VmProps<P> & S) => void },
) {
  return dynamicProvider<VmProps<P>, S>({
    rules,
    deleteBeforeReplace: true,
    idOf: (inputs) => inputs.name,
    create: ops.create,
    delete: ops.delete,
    notInState: ["ignition"],
  });
}
