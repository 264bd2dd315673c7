// The operations behind /fleet/v1, independent of HTTP: fleet's rules for creating
// a unit (options + desiredState; an instance may borrow its template's options),
// changing its desired state, and the read models with currentState/machineID.
import {
  checkDesiredState,
  checkUnit,
  parseUnitName,
  templateOf,
  Unit,
  UnitError,
  unitHash,
  validateOptions,
} from "../unit";
import { ask, InspectRequest, MAX_JOURNAL_LINES } from "../registry/inspect";
import { ConflictError, Machine, NotFoundError, Registry, UnitState } from "../registry/registry";

export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** fleet's Unit entity as the API returns it */
export interface UnitEntity extends Unit {
  currentState: Unit["desiredState"];
  machineID?: string;
  /** fleetlab addition: why a unit that should run has no machine */
  reason?: string;
}

/**
 * The keys of fleet's Unit entity, the body fleetctl sends. currentState and machineID
 * are the server's to say: accepted and ignored, as fleet did. Anything else is a
 * mistake (a typo in desiredState would otherwise silently create an inactive unit).
 */
const UNIT_BODY_KEYS = ["name", "options", "desiredState", "currentState", "machineID"];

function checkBodyKeys(b: Record<string, unknown>): void {
  for (const k of Object.keys(b)) {
    if (UNIT_BODY_KEYS.includes(k)) continue;
    const near = UNIT_BODY_KEYS.find((u) => u.toLowerCase() === k.toLowerCase());
    throw new ApiError(
      400,
      `unknown key ${JSON.stringify(k)} in the unit body: ${near ? `did you mean ${near}? (keys are case-sensitive)` : `fleet's Unit has ${UNIT_BODY_KEYS.join(", ")}`}`,
    );
  }
}

function mapErrors(e: unknown): never {
  if (e instanceof ApiError) throw e;
  if (e instanceof UnitError) throw new ApiError(400, e.message);
  if (e instanceof NotFoundError) throw new ApiError(404, e.message);
  if (e instanceof ConflictError) throw new ApiError(409, e.message);
  throw e;
}

/**
 * A unit's currentState as fleet v1.0.0 derives it (registry/job_state.go): inactive
 * until the machine it is scheduled to reports its state, then what it was scheduled
 * as. Not the schedule alone: fleetctl's blocking `start` reads GET /state/<name> as
 * soon as currentState says launched, and v1.0.0 crashes on the 404 of a state not yet
 * reported.
 */
export function currentState(
  placements: { machineID: string; target: UnitEntity["currentState"] }[],
  reportedBy: (machineID: string) => boolean,
): UnitEntity["currentState"] {
  const acted = placements.find((p) => reportedBy(p.machineID));
  return acted?.target ?? "inactive";
}

/** A unit name from a URL, refused as the API's 400 when it is not one. */
function checkName(name: string): void {
  try {
    parseUnitName(name);
  } catch (e) {
    mapErrors(e);
  }
}

export class FleetService {
  constructor(private reg: Registry) {}

  async listUnits(): Promise<UnitEntity[]> {
    const [units, sched, reasons, states] = await Promise.all([
      this.reg.listUnits(),
      this.reg.listSchedule(),
      this.reg.listReasons(),
      this.reg.listStates(),
    ]);
    const reported = new Set(states.map((s) => `${s.name}\n${s.machineID}`));
    const where = new Map<string, { machineID: string; target: UnitEntity["currentState"] }[]>();
    for (const p of sched) where.set(p.unit, [...(where.get(p.unit) ?? []), p]);
    return units.map((u) => {
      const at = where.get(u.name) ?? [];
      const e: UnitEntity = {
        name: u.name,
        options: u.options,
        desiredState: u.desiredState,
        currentState: currentState(at, (m) => reported.has(`${u.name}\n${m}`)),
      };
      // A global unit runs on many machines; fleet left machineID empty for it.
      if (at.length === 1) e.machineID = at[0].machineID;
      if (reasons[u.name]) e.reason = reasons[u.name];
      return e;
    });
  }

  async getUnit(name: string): Promise<UnitEntity> {
    checkName(name);
    const u = (await this.listUnits()).find((x) => x.name === name);
    if (!u) throw new ApiError(404, `unit ${name} does not exist`);
    return u;
  }

  /**
   * PUT /units/<name>, fleet v1.0.0's rules: a new unit needs options (201; with no
   * desiredState it is stored inactive, as `fleetctl submit` sends it; an instance
   * may borrow its template's options); for an existing unit, options that differ
   * replace it (204, `--replace`; inactive unless a desiredState is sent, as fleet's
   * new unit entry was),
   * otherwise desiredState is required and set (204).
   */
  async putUnit(name: string, body: unknown): Promise<201 | 204> {
    try {
      if (body === null || typeof body !== "object" || Array.isArray(body))
        throw new ApiError(400, "request body must be a JSON object");
      const b = body as Record<string, unknown>;
      checkBodyKeys(b);
      if (b.name !== undefined && b.name !== "" && b.name !== name)
        throw new ApiError(
          400,
          `name ${JSON.stringify(b.name)} in the body does not match ${name} in the URL`,
        );
      parseUnitName(name);
      const state =
        b.desiredState === undefined || b.desiredState === "" ? undefined : b.desiredState;
      if (b.options !== undefined && b.options !== null) validateOptions(b.options);
      const hasOptions = Array.isArray(b.options) && b.options.length > 0;
      const existing = await this.reg.getUnit(name);
      if (existing) {
        if (hasOptions) {
          // fleet v1.0.0 stores different options as a new unit, inactive unless the
          // body says otherwise: `fleetctl start --replace` waits for that, then starts it.
          const { unit, xfleet } = checkUnit(name, b.options, state ?? "inactive");
          if (unitHash(unit.options) !== unitHash(existing.options)) {
            await this.reg.replaceUnit(unit, xfleet);
            return 204;
          }
        }
        if (state === undefined)
          throw new ApiError(
            409,
            `unit ${name} exists: send desiredState to change it, or different options to replace it`,
          );
        if (parseUnitName(name).isTemplate && state !== "inactive") {
          checkUnit(name, existing.options, state);
        }
        await this.reg.setDesiredState(name, checkDesiredState(state));
        return 204;
      }
      let options = b.options;
      if (!hasOptions) {
        const tpl = templateOf(name);
        const template = tpl ? await this.reg.getUnit(tpl) : undefined;
        if (!template)
          throw new ApiError(
            409,
            `unit ${name} does not exist and the request has no options: send the unit's options`,
          );
        options = template.options;
      }
      const { unit, xfleet } = checkUnit(name, options, state ?? "inactive");
      await this.reg.createUnit(unit, xfleet);
      return 201;
    } catch (e) {
      mapErrors(e);
    }
  }

  /**
   * Status or journal of a unit, from the agent of the machine it is placed on
   * (`machineID` picks one machine of a global unit).
   */
  async inspectUnit(
    name: string,
    kind: InspectRequest["kind"],
    opts: { lines?: string | null; machineID?: string | null },
  ): Promise<{ machineID: string; lines: string[] }> {
    const u = await this.getUnit(name);
    let lines = 0;
    if (kind === "journal") {
      lines = opts.lines === null || opts.lines === undefined ? 10 : Number(opts.lines);
      if (!Number.isInteger(lines) || lines < 1 || lines > MAX_JOURNAL_LINES)
        throw new ApiError(400, `lines must be an integer from 1 to ${MAX_JOURNAL_LINES}`);
    }
    const machines = (await this.reg.listSchedule())
      .filter((p) => p.unit === u.name)
      .map((p) => p.machineID);
    const machineID = opts.machineID ?? (machines.length === 1 ? machines[0] : undefined);
    if (machines.length === 0)
      throw new ApiError(404, `unit ${name} is not placed on any machine: load or start it first`);
    if (!machineID || !machines.includes(machineID))
      throw new ApiError(
        400,
        `unit ${name} runs on ${machines.length} machines: pass machineID, one of ${machines.join(", ")}`,
      );
    const a = await ask(this.reg, machineID, { unit: name, kind, lines }).catch((e: Error) => {
      throw new ApiError(504, e.message);
    });
    if (a.error !== undefined) throw new ApiError(502, `machine ${machineID}: ${a.error}`);
    return { machineID, lines: a.lines ?? [] };
  }

  async deleteUnit(name: string): Promise<void> {
    try {
      parseUnitName(name);
      await this.reg.destroyUnit(name);
    } catch (e) {
      mapErrors(e);
    }
  }

  /** GET /state/<name>: fleet v1.0.0 answers one state (the first, for a global unit). */
  async getState(name: string): Promise<UnitState> {
    checkName(name);
    const s = (await this.listStates({ unitName: name }))[0];
    if (!s) throw new ApiError(404, `unit state of ${name} does not exist`);
    return s;
  }

  async listStates(filter: { machineID?: string; unitName?: string }): Promise<UnitState[]> {
    return (await this.reg.listStates()).filter(
      (s) =>
        (!filter.machineID || s.machineID === filter.machineID) &&
        (!filter.unitName || s.name === filter.unitName),
    );
  }

  async listMachines(): Promise<Machine[]> {
    return this.reg.listMachines();
  }
}
