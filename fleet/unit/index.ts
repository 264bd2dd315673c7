export * from "./unit";
export * from "./name";
export * from "./xfleet";
import { DESIRED_STATES, DesiredState, UnitError, UnitOption, validateOptions } from "./unit";
import { parseUnitName } from "./name";
import { parseXFleet, XFleet } from "./xfleet";

/** A unit as the registry stores it and the API returns it (fleet's Unit entity). */
export interface Unit {
  name: string;
  options: UnitOption[];
  desiredState: DesiredState;
}

export function checkDesiredState(value: unknown): DesiredState {
  if (!DESIRED_STATES.includes(value as DesiredState)) {
    throw new UnitError(
      `desiredState ${JSON.stringify(value)} is invalid: use one of ${DESIRED_STATES.join(", ")}`,
    );
  }
  return value as DesiredState;
}

/** Validate everything about a unit that does not depend on other units. */
export function checkUnit(
  name: string,
  options: unknown,
  desiredState: unknown,
): { unit: Unit; xfleet: XFleet } {
  const n = parseUnitName(name);
  const state = checkDesiredState(desiredState);
  const opts = validateOptions(options);
  if (n.isTemplate && state !== "inactive") {
    throw new UnitError(
      `${name} is a template: submit it, then load or start an instance such as ${n.prefix}@1.${n.suffix}`,
    );
  }
  const xfleet = parseXFleet(opts, name);
  return { unit: { name, options: opts, desiredState: state }, xfleet };
}
