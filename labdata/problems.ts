// The validation kit of the stack config and the lab data. A problem names where it is
// (the key; for lab data also the file), the value as written, what is wrong and the
// fix, and every problem of one check is collected and reported together, before
// anything is created or written.

export interface Problem {
  /** Repository-relative file of a lab-data problem, e.g. data/dhcp.yaml */
  file?: string;
  /** The key: a full config key (fleetlab:nodes[1].ip) or a path inside a data file */
  key: string;
  /** The offending value as written (undefined when missing). */
  value: unknown;
  problem: string;
  fix: string;
}

/** A lab-data problem: always in a file. */
export type DataProblem = Problem & { file: string };

/** A value as the messages show it: JSON, cut at 80 characters. */
export function show(value: unknown): string {
  if (value === undefined) return "(not set)";
  const s = JSON.stringify(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** A file name or key as printed: control characters escaped, so a name cannot forge lines. */
export function printable(s: string): string {
  return s.replace(
    // eslint-disable-next-line no-control-regex
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** Where a problem is, as printed: `file: key`, or the key alone. */
export function where(p: Problem): string {
  return p.file === undefined ? printable(p.key) : `${printable(p.file)}: ${printable(p.key)}`;
}

/** The problems as the lines of an error message, under a headline. */
function report(headline: string, problems: Problem[]): string {
  const lines = problems.map(
    (p) => `  - ${where(p)} = ${show(p.value)}: ${p.problem}\n    fix: ${p.fix}`,
  );
  return `${headline}\n${lines.join("\n")}`;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

/** The stack config is wrong: one error listing every problem, named by its key. */
export class ConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: Problem[],
  ) {
    super(formatProblems(stack, problems));
    this.name = "ConfigError";
  }
}

export function formatProblems(stack: string, problems: Problem[]): string {
  const n = problems.length;
  // A unit file's problem is in that file, not in the stack file: say where to look.
  const files = [...new Set(problems.map((p) => p.file ?? `Pulumi.${stack}.yaml`))];
  return report(
    `stack "${stack}": ${plural(n, "config problem")} (${files.map(printable).join(", ")})`,
    problems,
  );
}

/** A lab data set is wrong: one error listing every problem, named by file and key. */
export class DataError extends Error {
  constructor(
    readonly dataSet: string,
    readonly problems: DataProblem[],
  ) {
    const message = report(
      `lab data "${dataSet}": ${plural(problems.length, "problem")}`,
      problems,
    );
    super(message);
    // Pulumi's closure serializer (the LabData provider) turns super(message) into
    // Error.call(this, message), which sets nothing on `this`: set it here too.
    this.message = message;
    this.name = "DataError";
  }
}

/** Collects problems while a check goes on, so the user sees all of them at once. */
export class Problems {
  readonly list: Problem[];
  // Assigned in the constructor, not as a class field: Pulumi's closure serializer
  // (dynamic providers validate with this class) drops native field initializers.
  /** `file`: the data file being checked; none for the stack config. */
  constructor(readonly file?: string) {
    this.list = [];
  }
  add(key: string, value: unknown, problem: string, fix: string): void {
    this.list.push({ file: this.file, key, value, problem, fix });
  }
  get count(): number {
    return this.list.length;
  }
  /** Throws a DataError of `dataSet` when a problem of this data file was added. */
  check(dataSet: string): void {
    if (this.list.length > 0) throw new DataError(dataSet, this.list as DataProblem[]);
  }
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
