// Unit names, templates (foo@.service -> foo@1.service) and the specifiers fleet
// expanded in [X-Fleet] values (%n %N %p %i), following systemd's definitions.
import { UnitError } from "./unit";

const SUFFIXES = [
  "service",
  "socket",
  "device",
  "mount",
  "automount",
  "swap",
  "target",
  "path",
  "timer",
  "slice",
  "scope",
];
const NAME_RE = /^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.([a-z]+)$/;
export const MAX_NAME_LENGTH = 255;

export interface UnitName {
  full: string;
  /** name without the type suffix (%N) */
  base: string;
  /** part before "@" or the whole base (%p) */
  prefix: string;
  /** instance after "@" (%i), "" for templates and plain units */
  instance: string;
  isTemplate: boolean;
  isInstance: boolean;
  suffix: string;
}

export function parseUnitName(full: string): UnitName {
  const m = NAME_RE.exec(full);
  if (!m || full.length > MAX_NAME_LENGTH || !SUFFIXES.includes(m[2])) {
    throw new UnitError(
      `invalid unit name ${JSON.stringify(full)}: use [A-Za-z0-9:_.-] characters, at most ${MAX_NAME_LENGTH}, ending in one of .${SUFFIXES.join(", .")}`,
    );
  }
  const suffix = m[2];
  const base = full.slice(0, -(suffix.length + 1));
  const at = base.indexOf("@");
  const prefix = at >= 0 ? base.slice(0, at) : base;
  const instance = at >= 0 ? base.slice(at + 1) : "";
  if (at === 0)
    throw new UnitError(`invalid unit name ${JSON.stringify(full)}: nothing before "@"`);
  return {
    full,
    base,
    prefix,
    instance,
    isTemplate: at >= 0 && instance === "",
    isInstance: instance !== "",
    suffix,
  };
}

/** Name of the template an instance comes from (foo@1.service -> foo@.service), or undefined. */
export function templateOf(full: string): string | undefined {
  const n = parseUnitName(full);
  return n.isInstance ? `${n.prefix}@.${n.suffix}` : undefined;
}

/** Expand %n %N %p %i %% in an [X-Fleet] value for the given unit name. */
export function expandSpecifiers(value: string, unitName: string): string {
  const n = parseUnitName(unitName);
  const table: Record<string, string> = {
    n: n.full,
    N: n.base,
    p: n.prefix,
    i: n.instance,
    "%": "%",
  };
  return value.replace(/%(.)/g, (whole, c: string) => {
    if (!(c in table))
      throw new UnitError(
        `unknown specifier ${whole} in ${JSON.stringify(value)}: use %n %N %p %i or %%`,
      );
    return table[c];
  });
}
