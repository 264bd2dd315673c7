// The [X-Fleet] section: parsed into typed requirements, with fleet's rules for
// which options may be combined. Values are expanded for the unit's own name, so a
// template's `Conflicts=%p@*.service` means "no two instances of me on one machine".
import { expandSpecifiers, parseUnitName } from "./name";
import { UnitError, UnitOption } from "./unit";

export const XFLEET = "X-Fleet";
export const XFLEET_KEYS = [
  "MachineID",
  "MachineOf",
  "MachineMetadata",
  "Conflicts",
  "Global",
  "Replaces",
] as const;

export interface XFleet {
  machineID?: string;
  machineOf: string[];
  /** key -> accepted values (OR); different keys must all match (AND) */
  machineMetadata: Record<string, string[]>;
  conflicts: string[];
  global: boolean;
  replaces: string[];
}

/** Split a value on whitespace, honouring "double quoted" words, as fleet did. */
function words(value: string): string[] {
  return [...value.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]).filter((w) => w !== "");
}

/** The unit names of a MachineOf= or Replaces= value: each must be one a unit can have. */
function unitNames(key: string, value: string): string[] {
  const names = words(value);
  for (const n of names) {
    try {
      parseUnitName(n);
    } catch (e) {
      throw new UnitError(`[X-Fleet] ${key}=${value}: ${(e as Error).message}`);
    }
  }
  return names;
}

export function parseXFleet(options: readonly UnitOption[], unitName: string): XFleet {
  const x: XFleet = {
    machineOf: [],
    machineMetadata: {},
    conflicts: [],
    global: false,
    replaces: [],
  };
  for (const o of options) {
    if (o.section !== XFLEET) continue;
    const value = expandSpecifiers(o.value, unitName);
    switch (o.name) {
      case "MachineID":
        if (x.machineID !== undefined && x.machineID !== value) {
          throw new UnitError(
            `[X-Fleet] MachineID is given twice (${x.machineID}, ${value}): a unit runs on one machine`,
          );
        }
        if (!/^[A-Za-z0-9]+$/.test(value))
          throw new UnitError(`[X-Fleet] MachineID=${value} is not a machine ID`);
        x.machineID = value;
        break;
      case "MachineOf":
        x.machineOf.push(...unitNames(o.name, value));
        break;
      case "MachineMetadata":
        for (const pair of words(value)) {
          const eq = pair.indexOf("=");
          if (eq <= 0) throw new UnitError(`[X-Fleet] MachineMetadata=${pair} is not key=value`);
          // machines' metadata values are never empty (infra/config), so it could never match
          if (eq === pair.length - 1)
            throw new UnitError(
              `[X-Fleet] MachineMetadata=${pair} has no value, so no machine can match it: give one, e.g. ${pair}true`,
            );
          (x.machineMetadata[pair.slice(0, eq)] ??= []).push(pair.slice(eq + 1));
        }
        break;
      case "Conflicts":
        x.conflicts.push(...words(value));
        break;
      case "Replaces":
        x.replaces.push(...unitNames(o.name, value));
        break;
      case "Global":
        if (!/^(true|false)$/i.test(value))
          throw new UnitError(`[X-Fleet] Global=${value}: use true or false`);
        x.global = value.toLowerCase() === "true";
        break;
      default:
        throw new UnitError(
          `unknown [X-Fleet] option ${o.name}: use one of ${XFLEET_KEYS.join(", ")}`,
        );
    }
  }
  validateCombination(x, unitName);
  return x;
}

function validateCombination(x: XFleet, unitName: string): void {
  if (x.global && (x.machineID || x.machineOf.length || x.replaces.length)) {
    throw new UnitError(
      `${unitName}: Global=true runs on every matching machine, so it cannot be combined with MachineID, MachineOf or Replaces (only MachineMetadata and Conflicts)`,
    );
  }
  if (x.replaces.length && x.conflicts.length) {
    throw new UnitError(`${unitName}: Replaces cannot be combined with Conflicts`);
  }
  if (x.machineID && x.machineOf.length) {
    throw new UnitError(`${unitName}: MachineID and MachineOf both fix the machine: use one`);
  }
  if (x.machineOf.includes(unitName))
    throw new UnitError(`${unitName}: MachineOf names the unit itself`);
  if (x.replaces.includes(unitName))
    throw new UnitError(`${unitName}: Replaces names the unit itself`);
}

/** Reject Replaces cycles (a replaces b replaces ... a) among all units of the registry. */
export function checkReplacesCycles(units: ReadonlyMap<string, XFleet>): void {
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      throw new UnitError(
        `Replaces cycle: ${[...path.slice(path.indexOf(name)), name].join(" -> ")}`,
      );
    }
    state.set(name, "visiting");
    for (const r of units.get(name)?.replaces ?? []) visit(r, [...path, name]);
    state.set(name, "done");
  };
  for (const name of units.keys()) visit(name, []);
}

/** fleet's Conflicts values are shell globs over unit names. */
export function globMatch(glob: string, name: string): boolean {
  const re = glob
    .replace(/[.+^${}()|\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(name);
}
