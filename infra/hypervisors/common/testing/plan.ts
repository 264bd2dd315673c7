// Pulumi mocks for a driver's plan of a stack: the driver's resources echo their inputs
// plus what its provider would add at create (nothing runs a hypervisor tool under
// mocks: the providers do, at create), and the PKI's dynamic resources still run the
// real certificate code.
import type * as pulumi from "@pulumi/pulumi";
import { labSpecFromFile } from "../../../config";
import type { HypervisorKind, LabSpec } from "../../../config/types";
import { MockedResource, outputValue, pkiMocks } from "../../../pki/mocks";
import type { LabMachines } from "../../types";
import type { LabImageName, LocalImage } from "../../../registry/build";
import { fixedLabImages } from "../../../testing/images";

/**
 * Records each of `kind`'s resources in `created`; `outputs` maps a resource type
 * ("Node", "BaseImage") to the outputs its provider adds.
 */
export function driverMocks(
  kind: HypervisorKind,
  created: MockedResource[],
  outputs: Record<string, Record<string, unknown>>,
): pulumi.runtime.Mocks {
  const pki = pkiMocks(created);
  const prefix = `pulumi-nodejs:dynamic/${kind}:`;
  return {
    newResource(args) {
      if (!args.type.startsWith(prefix)) return pki.newResource(args);
      created.push({ type: args.type, name: args.name, inputs: args.inputs });
      const extra = outputs[args.type.slice(prefix.length)] ?? {};
      return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
    },
    call: (args) => args.inputs,
  };
}

/** What planStack needs of the Lab component (cluster/lab.ts, which the test loads). */
interface PlannedLab {
  machines?: LabMachines;
  registry?: { refs(): Partial<Record<string, pulumi.Output<string>>> };
  nodes: { ignition: pulumi.Output<string> }[];
}

/**
 * The Lab of `stack` with its real driver, once every VM has registered (so the mocks
 * recorded it): the test passes the Lab class in, loaded after its setMocks. `of(type)`
 * is what was recorded of the driver's resources of that type.
 */
export async function planStack<L extends PlannedLab>(
  Lab: new (
    name: string,
    spec: LabSpec,
    opts: { images: (names: readonly LabImageName[]) => LocalImage<LabImageName>[] },
  ) => L,
  stack: string,
  created: MockedResource[],
): Promise<{ spec: LabSpec; lab: L; of: (type: string) => MockedResource[] }> {
  created.length = 0;
  // The driver's plan only: the services are infra/cluster/services.test.ts's, and
  // would still be registering when the test ends.
  const spec = { ...labSpecFromFile(stack), services: false };
  const lab = new Lab(stack, spec, { images: fixedLabImages() });
  const machines = lab.machines?.machines ?? [];
  if (machines.length !== spec.nodes.length)
    throw new Error(`${stack}: planned ${machines.length} VMs for ${spec.nodes.length} nodes`);
  await Promise.all(machines.map((m) => outputValue(m.machineId)));
  await Promise.all(Object.values(lab.registry?.refs() ?? {}).map((r) => outputValue(r!)));
  const prefix = `pulumi-nodejs:dynamic/${spec.hypervisor.kind}:`;
  return { spec, lab, of: (type) => created.filter((c) => c.type === `${prefix}${type}`) };
}
