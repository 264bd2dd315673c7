// Every lab-data problem names the file, the key inside it, the bad value and the
// fix, and all problems of a data set are reported together before anything is
// written to etcd (so a bad edit never reaches a running service).

import { parse as parseYaml } from "yaml";
import { unknownKeyFix } from "./suggest";

export interface DataProblem {
  /** Repository-relative file, e.g. data/dhcp.yaml */
  file: string;
  /** Path inside the file, e.g. reservations[2].ip */
  key: string;
  value: unknown;
  problem: string;
  fix: string;
}

function show(value: unknown): string {
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

export class DataError extends Error {
  constructor(
    readonly dataSet: string,
    readonly problems: DataProblem[],
  ) {
    const n = problems.length;
    const lines = problems.map(
      (p) =>
        `  - ${printable(p.file)}: ${printable(p.key)} = ${show(p.value)}: ${p.problem}\n    fix: ${p.fix}`,
    );
    const message = `lab data "${dataSet}": ${n} problem${n === 1 ? "" : "s"}\n${lines.join("\n")}`;
    super(message);
    // Pulumi's closure serializer (the LabData provider) turns super(message) into
    // Error.call(this, message), which sets nothing on `this`: set it here too.
    this.message = message;
    this.name = "DataError";
  }
}

/** Collects problems of one file while validating it. */
export class DataProblems {
  readonly list: DataProblem[];
  // Assigned in the constructor, not as a class field: Pulumi's closure serializer
  // (dynamic providers validate with this class) drops native field initializers.
  constructor(readonly file: string) {
    this.list = [];
  }
  add(key: string, value: unknown, problem: string, fix: string): void {
    this.list.push({ file: this.file, key, value, problem, fix });
  }
  /** Throws a DataError when anything was added. */
  check(dataSet: string): void {
    if (this.list.length > 0) throw new DataError(dataSet, this.list);
  }
}

/** Reads field `key` of a YAML mapping as a string, or records why it cannot. */
export function str(
  p: DataProblems,
  obj: Record<string, unknown>,
  key: string,
  path: string,
  fix: string,
): string | undefined {
  const v = obj[key];
  if (typeof v === "string" && v.trim() !== "") return v.trim();
  p.add(path, v, v === undefined ? "missing" : "must be a non-empty string", fix);
  return undefined;
}

/** Reads an integer field within [min, max], or records why it cannot. */
export function int(
  p: DataProblems,
  obj: Record<string, unknown>,
  key: string,
  path: string,
  range: [number, number],
  fix: string,
): number | undefined {
  const v = obj[key];
  if (typeof v === "number" && Number.isInteger(v) && v >= range[0] && v <= range[1]) return v;
  p.add(path, v, `must be an integer from ${range[0]} to ${range[1]}`, fix);
  return undefined;
}

/**
 * Parses `text` as a YAML mapping; records why it is not one and throws the
 * DataError at once (nothing else can be checked without the document).
 */
export function yamlMapping(
  p: DataProblems,
  text: string,
  dataSet: string,
  example: string,
): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    p.add(
      "(document)",
      undefined,
      `is not valid YAML: ${(e as Error).message}`,
      "fix the YAML syntax",
    );
  }
  if (p.list.length === 0 && !isMapping(doc))
    p.add("(document)", doc, "must be a mapping", `start with \`${example}\``);
  p.check(dataSet);
  return doc as Record<string, unknown>;
}

/**
 * Records every key of `obj` not in `allowed` (a typo such as `reservation:` would
 * otherwise silently mean "none"), with a "did you mean" for near misses. `special`
 * gives a key its own problem and fix (e.g. a cleartext `password:`), and hides its
 * value when the problem says so.
 */
export function knownKeys(
  p: DataProblems,
  obj: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  special: Record<string, { problem: string; fix: string; hide?: boolean }> = {},
): void {
  for (const k of Object.keys(obj)) {
    if (allowed.includes(k)) continue;
    const key = path ? `${path}.${k}` : k;
    const s = Object.prototype.hasOwnProperty.call(special, k) ? special[k] : undefined;
    if (s) p.add(key, s.hide ? "(hidden)" : obj[k], s.problem, s.fix);
    else p.add(key, obj[k], "unknown key", unknownKeyFix(k, allowed));
  }
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reports the first of two items that share a value (duplicate MACs, IPs, names). */
export function findDuplicates<T>(
  p: DataProblems,
  items: T[],
  value: (t: T) => string | undefined,
  path: (i: number) => string,
  what: string,
): void {
  const seen = new Map<string, number>();
  items.forEach((it, i) => {
    const v = value(it);
    if (v === undefined) return;
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else
      p.add(
        path(i),
        v,
        `duplicate ${what}: also at ${path(first)}`,
        `give each entry its own ${what}`,
      );
  });
}
