// Readers of the lab data's YAML that record a problem (file, key, value, fix) instead of
// throwing, so every problem of a data set is reported together before anything is
// written to etcd (so a bad edit never reaches a running service). The kit they
// record into is problems.ts.

import { parse as parseYaml } from "yaml";
import { isMapping, Problems } from "./problems";
import { unknownKeyFix } from "./suggest";

/** Reads field `key` of a YAML mapping as a string, or records why it cannot. */
export function str(
  p: Problems,
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
  p: Problems,
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
  p: Problems,
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
  p: Problems,
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

/** Reports the first of two items that share a value (duplicate MACs, IPs, names). */
export function findDuplicates<T>(
  p: Problems,
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
