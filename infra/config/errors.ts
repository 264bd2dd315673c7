// Every config problem names the key, the bad value and the fix, and all problems
// are reported together, before any resource exists.

export const CONFIG_NAMESPACE = "fleetlab";

export interface ConfigProblem {
  /** Full config key, e.g. fleetlab:nodes[1].ip */
  key: string;
  /** The offending value as written (undefined when missing). */
  value: unknown;
  problem: string;
  fix: string;
}

export class ConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: ConfigProblem[],
  ) {
    super(formatProblems(stack, problems));
    this.name = "ConfigError";
  }
}

function show(value: unknown): string {
  if (value === undefined) return "(not set)";
  const s = JSON.stringify(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function formatProblems(stack: string, problems: ConfigProblem[]): string {
  const n = problems.length;
  const lines = problems.map(
    (p) => `  - ${p.key} = ${show(p.value)}: ${p.problem}\n    fix: ${p.fix}`,
  );
  return `stack "${stack}": ${n} config problem${n === 1 ? "" : "s"} (Pulumi.${stack}.yaml)\n${lines.join("\n")}`;
}

/** Collects problems while parsing so the user sees all of them at once. */
export class Problems {
  readonly list: ConfigProblem[] = [];
  add(key: string, value: unknown, problem: string, fix: string): void {
    this.list.push({ key, value, problem, fix });
  }
  get count(): number {
    return this.list.length;
  }
}

export function fullKey(name: string): string {
  return `${CONFIG_NAMESPACE}:${name}`;
}
