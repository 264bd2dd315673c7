// Typed readers over the raw (YAML/JSON) stack config. Each records a problem with
// the full key instead of throwing, so parsing goes on and reports everything.
import { isMapping, Problems } from "../../labdata/problems";
import { unknownKeyFix } from "../../labdata/suggest";

export type Raw = Record<string, unknown>;

export class Reader {
  constructor(readonly problems: Problems) {}

  /** An optional object; reports unknown keys (typos) against `allowed`. */
  object(key: string, v: unknown, allowed: readonly string[]): Raw | undefined {
    if (v === undefined) return undefined;
    if (!isMapping(v)) {
      this.problems.add(
        key,
        v,
        "must be a mapping",
        `write ${key} as a YAML mapping with keys: ${allowed.join(", ")}`,
      );
      return undefined;
    }
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) {
        this.problems.add(`${key}.${k}`, v[k], "unknown key", unknownKeyFix(k, allowed));
      }
    }
    return v;
  }

  requiredObject(
    key: string,
    v: unknown,
    allowed: readonly string[],
    example: string,
  ): Raw | undefined {
    if (v === undefined) {
      this.problems.add(key, v, "is required", `set it, e.g. ${example}`);
      return undefined;
    }
    return this.object(key, v, allowed);
  }

  string(key: string, v: unknown, fallback?: string): string | undefined {
    if (v === undefined) return fallback;
    if (typeof v !== "string" || v.trim() === "") {
      this.problems.add(key, v, "must be a non-empty string", `set ${key} to a string`);
      return fallback;
    }
    return v.trim();
  }

  requiredString(key: string, v: unknown, example: string): string | undefined {
    if (v === undefined) {
      this.problems.add(key, v, "is required", `set it, e.g. ${key}: ${example}`);
      return undefined;
    }
    return this.string(key, v);
  }

  oneOf<T extends string>(
    key: string,
    v: unknown,
    allowed: readonly T[],
    fallback?: T,
  ): T | undefined {
    const s = this.string(key, v);
    if (s === undefined) {
      if (fallback === undefined) {
        this.problems.add(key, v, "is required", `set it to one of: ${allowed.join(", ")}`);
      }
      return fallback;
    }
    if (!(allowed as readonly string[]).includes(s)) {
      this.problems.add(key, v, "is not a known value", `use one of: ${allowed.join(", ")}`);
      return fallback;
    }
    return s as T;
  }

  /** Integers may arrive as strings (Pulumi passes config values as text). */
  integer(key: string, v: unknown, fallback: number, min: number, max: number, why = ""): number {
    if (v === undefined) return fallback;
    const n = typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n)) {
      this.problems.add(
        key,
        v,
        "must be an integer",
        `set ${key} to a whole number between ${min} and ${max}`,
      );
      return fallback;
    }
    if (n < min || n > max) {
      this.problems.add(
        key,
        v,
        `is out of range${why ? ` (${why})` : ""}`,
        `use a value between ${min} and ${max}`,
      );
      return fallback;
    }
    return n;
  }

  boolean(key: string, v: unknown, fallback: boolean): boolean {
    if (v === undefined) return fallback;
    if (v === true || v === "true") return true;
    if (v === false || v === "false") return false;
    this.problems.add(key, v, "must be true or false", `set ${key} to true or false`);
    return fallback;
  }

  array(key: string, v: unknown, example: string): unknown[] | undefined {
    if (v === undefined) {
      this.problems.add(key, v, "is required", `set it, e.g. ${example}`);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.problems.add(key, v, "must be a list", `write ${key} as a YAML list, e.g. ${example}`);
      return undefined;
    }
    return v;
  }
}
