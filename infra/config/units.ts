// fleetlab:unitsDir and fleetlab:units: where the admin's own unit files are, and
// what the stack makes of each (a template's instances, a desired state). Only the
// keys' shape is checked here; the files themselves are read and checked against
// these settings and the lab's units when the program runs (units/files.ts).
import * as fs from "fs";
import * as path from "path";
import { DESIRED_STATES, parseUnitName } from "../../fleet/unit";
import { ConfigError, isMapping } from "../../labdata/problems";
import { loadUnitFiles } from "../../units/files";
import { serviceUnits } from "../../units/services";
import type { LabUnit } from "../../units/unit";
import { fullKey } from "./errors";
import { DEFAULTS } from "./keys";
import { PROJECT_DIR } from "./load";
import { Reader } from "./read";
import type { LabSpec, UnitFileSettings, UnitsSpec } from "./types";

/** More instances than a lab has machines for is a typo, not a plan. */
export const MAX_INSTANCES = 64;
const INSTANCE = /^[A-Za-z0-9:_.\\-]+$/;
const EXAMPLE = `fleetlab:units: {"tftp@.service": {instances: 2}}`;

export function parseUnits(r: Reader, rawDir: unknown, rawUnits: unknown): UnitsSpec {
  const dir = r.string(fullKey("unitsDir"), rawDir, DEFAULTS.unitsDir)!;
  const files: Record<string, UnitFileSettings> = {};
  if (rawUnits === undefined) return { dir, files };
  const key = fullKey("units");
  if (!isMapping(rawUnits)) {
    r.problems.add(key, rawUnits, "must be a mapping of unit file names", `write it as ${EXAMPLE}`);
    return { dir, files };
  }
  for (const [file, raw] of Object.entries(rawUnits)) {
    const k = `${key}.${file}`;
    let template = false;
    try {
      template = parseUnitName(file).isTemplate;
    } catch (e) {
      r.problems.add(k, raw, (e as Error).message, `name a file of ${dir}, e.g. tftp@.service`);
      continue;
    }
    const o = r.object(k, raw, ["instances", "desiredState"]);
    if (!o) continue;
    const settings: UnitFileSettings = {};
    if (o.desiredState !== undefined)
      settings.desiredState = r.oneOf(`${k}.desiredState`, o.desiredState, DESIRED_STATES);
    if (o.instances !== undefined) {
      if (!template) {
        r.problems.add(
          `${k}.instances`,
          o.instances,
          "is set on a unit that is not a template",
          `drop it, or name a template file (<name>@.service) whose instances these are`,
        );
        continue;
      }
      settings.instances = instances(r, `${k}.instances`, o.instances);
    }
    files[file] = settings;
  }
  return { dir, files };
}

/** N -> ["1".."N"], or a list of instance names, each once. */
function instances(r: Reader, key: string, v: unknown): string[] | undefined {
  if (typeof v === "number" || (typeof v === "string" && /^\d+$/.test(v))) {
    const n = r.integer(key, v, 0, 1, MAX_INSTANCES);
    return n > 0 ? Array.from({ length: n }, (_, i) => String(i + 1)) : undefined;
  }
  if (!Array.isArray(v) || v.length === 0) {
    r.problems.add(
      key,
      v,
      "must be a count or a non-empty list of instance names",
      `use e.g. instances: 2 (instances 1 and 2) or instances: [a, b]`,
    );
    return undefined;
  }
  const names = v.map(String);
  const bad = names.filter((n, i) => !INSTANCE.test(n) || names.indexOf(n) !== i);
  if (bad.length > 0 || names.length > MAX_INSTANCES) {
    r.problems.add(
      key,
      v,
      bad.length > 0
        ? `has ${bad.map((b) => JSON.stringify(b)).join(", ")}: an instance name is given twice or is not [A-Za-z0-9:_.-]`
        : `lists more than ${MAX_INSTANCES} instances`,
      `list each instance once, e.g. [a, b]`,
    );
    return undefined;
  }
  return names;
}

const checked = new WeakMap<LabSpec, LabUnit[]>();

/**
 * The admin's units of the stack, read from fleetlab:unitsDir and checked (files,
 * settings, against the lab's own units and machines); every problem is a
 * ConfigError naming the file and line, or the key. Read once per program run.
 */
export function labUnitFiles(spec: LabSpec, projectDir = PROJECT_DIR): LabUnit[] {
  const known = projectDir === PROJECT_DIR ? checked.get(spec) : undefined;
  if (known) return known;
  const dir = path.resolve(projectDir, spec.units.dir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new ConfigError(spec.stack, [
      {
        key: fullKey("unitsDir"),
        value: spec.units.dir,
        problem: `${dir} ${fs.existsSync(dir) ? "is not a directory" : "does not exist"}`,
        fix: `point it at a directory of unit files (the default is ${DEFAULTS.unitsDir})`,
      },
    ]);
  }
  const result = loadUnitFiles(dir, spec.units.dir, spec.units.files, {
    labUnits: serviceUnits().map((u) => u.name),
    machines: spec.nodes,
    settingsKey: fullKey("units"),
  });
  if (result.problems.length > 0) throw new ConfigError(spec.stack, result.problems);
  if (projectDir === PROJECT_DIR) checked.set(spec, result.units);
  return result.units;
}
