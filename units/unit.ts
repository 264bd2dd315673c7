// The typed unit API: a fleet unit as data ([Unit], [Service], [Install] and a typed
// [X-Fleet]), rendered by the same renderer as the lab's own services
// (node/systemd.ts) and checked by the fleet engine's own parser before it leaves the
// program, so a unit the engine would refuse fails `pulumi preview`, not `up`.
import { checkUnit, parseUnitFile, type DesiredState } from "../fleet/unit";
import { renderUnit, type UnitSection, type UnitSections } from "../node/systemd";

/** [X-Fleet] as typed fields; each maps to fleet's option of the same name. */
export interface XFleetOptions {
  /** Only on this machine (its /etc/machine-id). */
  machineID?: string;
  /** On the machine that runs these units (e.g. a sidekick beside its service). */
  machineOf?: string | string[];
  /** Only on machines with this metadata: `{ lan: "true" }`; a list means any of them. */
  machineMetadata?: Record<string, string | string[]>;
  /** Never on a machine that runs a unit matching one of these globs: `["ldap@*.service"]`. */
  conflicts?: string | string[];
  /** On every machine that matches (with machineMetadata and conflicts only). */
  global?: boolean;
  /** Takes the machine of these units, which move elsewhere. */
  replaces?: string | string[];
}

export interface UnitDefinition {
  /** e.g. redis.service, tftp@.service (a template) or tftp@1.service. */
  name: string;
  unit?: UnitSection;
  service?: UnitSection;
  install?: UnitSection;
  /** Other systemd sections (e.g. Socket, Timer), rendered after [Install]. */
  sections?: UnitSections;
  xfleet?: XFleetOptions;
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

// fleet splits an [X-Fleet] value on whitespace and reads `"` as quoting, so a
// word holding either would not reach the scheduler as written.
function word(field: string, v: string): string {
  if (v === "" || /[\s"]/.test(v))
    throw new Error(
      `[X-Fleet] ${field} ${JSON.stringify(v)}: must be one non-empty word without spaces or quotes; fix: name a unit, machine or metadata as one word`,
    );
  return v;
}

/**
 * The [X-Fleet] section of `x`, one directive per value, or undefined when it holds
 * nothing (fleet places a unit without one anywhere). Global renders as fleet reads
 * it (true/false), not as systemd's yes/no.
 */
export function xfleetSection(x: XFleetOptions = {}): UnitSection | undefined {
  const metadata = Object.entries(x.machineMetadata ?? {}).flatMap(([k, vs]) =>
    list(vs).map((v) => `${word("machineMetadata key", k)}=${word(`machineMetadata.${k}`, v)}`),
  );
  const words = (field: string, v: string | string[] | undefined) =>
    list(v).map((w) => word(field, w));
  const s: UnitSection = {
    MachineID: x.machineID === undefined ? undefined : word("machineID", x.machineID),
    MachineOf: words("machineOf", x.machineOf),
    MachineMetadata: metadata,
    Conflicts: words("conflicts", x.conflicts),
    Global: x.global === undefined ? undefined : String(x.global),
    Replaces: words("replaces", x.replaces),
  };
  const set = Object.entries(s).filter(
    ([, v]) => v !== undefined && !(Array.isArray(v) && !v.length),
  );
  return set.length > 0 ? Object.fromEntries(set) : undefined;
}

/** The unit file's text, in section order [Unit] [Service] [Install] ... [X-Fleet]. */
export function renderUnitDefinition(u: UnitDefinition): string {
  const sections: UnitSections = {};
  if (u.unit) sections.Unit = u.unit;
  if (u.service) sections.Service = u.service;
  if (u.install) sections.Install = u.install;
  Object.assign(sections, u.sections);
  const xfleet = xfleetSection(u.xfleet);
  if (xfleet) sections["X-Fleet"] = xfleet;
  return renderUnit(sections);
}

/** A unit ready for the fleet API: its name, its file, what it should be. */
export interface LabUnit {
  name: string;
  text: string;
  desiredState: DesiredState;
}

/**
 * `u` rendered and checked as the engine will check it (name, options, [X-Fleet]
 * combinations, templates only inactive). Throws naming the unit and the fix.
 */
export function fleetUnit(u: UnitDefinition, desiredState: DesiredState = "launched"): LabUnit {
  const text = renderUnitDefinition(u);
  try {
    checkUnit(u.name, parseUnitFile(text), desiredState);
  } catch (e) {
    throw new Error(`unit ${u.name}: ${(e as Error).message}`);
  }
  return { name: u.name, text, desiredState };
}
