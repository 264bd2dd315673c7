// Stack config -> LabSpec. See types.ts for the model and parse.ts for the rules.
import * as pulumi from "@pulumi/pulumi";
import { servicesData } from "./data";
import { configFromEngine, loadStackFile, readStackConfig, stackOfFile } from "./load";
import { HostFacts, parseLabSpec } from "./parse";
import type { LabSpec } from "./types";
import { labUnitFiles } from "./units";

export * from "./types";
export { ConfigError, formatProblems, type Problem as ConfigProblem } from "../../labdata/problems";
export { parseLabSpec, type HostFacts } from "./parse";
export { CONFIG_KEYS, DEFAULTS, NODE_DEFAULTS, STACK_KEYS, declaration } from "./keys";
export { loadStackFile, readStackConfig, stackOfFile, configFromEngine, PROJECT_DIR } from "./load";
export { labUnitFiles } from "./units";
export { MIN_MEMORY_MIB, MIN_DISK_GIB, MAC_PREFIX, FLATCAR_FW_CFG_KEY } from "./defaults";

/**
 * LabSpec of the stack the Pulumi engine is running. With fleetlab:services the lab
 * data is checked too (its paths, and a DHCP subnet that is the lab network's), and
 * the admin's unit files (fleetlab:unitsDir), so that a mismatch or a bad unit stops
 * the program before any resource, VMs included, exists.
 */
export function labSpecFromPulumi(hostOf?: (first: LabSpec) => HostFacts): LabSpec {
  const stack = pulumi.getStack();
  const raw = configFromEngine(pulumi.runtime.allConfig(), stack);
  const first = parseLabSpec(stack, raw);
  // What the host says can only change the defaults of unset keys: parse again with it.
  const host = hostOf?.(first) ?? {};
  const spec = host.emulated ? parseLabSpec(stack, raw, host) : first;
  if (spec.services) {
    servicesData(spec);
    labUnitFiles(spec);
  }
  return spec;
}

/**
 * LabSpec of a stack read from its Pulumi.<stack>.yaml (render command, tests).
 * `stack` may also be a path to a Pulumi.<name>.yaml file outside the project.
 */
export function labSpecFromFile(stack: string, projectDir?: string): LabSpec {
  const fromPath = stack.endsWith(".yaml") ? stackOfFile(stack) : undefined;
  if (stack.endsWith(".yaml") && !fromPath) {
    throw new Error(`${stack}: a stack file must be named Pulumi.<stack>.yaml`);
  }
  return fromPath
    ? parseLabSpec(fromPath, readStackConfig(stack, fromPath))
    : parseLabSpec(stack, loadStackFile(stack, projectDir));
}
