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
  validateOptions,
} from "../unit";
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

function mapErrors(e: unknown): never {
  if (e instanceof ApiError) throw e;
  if (e instanceof UnitError) throw new ApiError(400, e.message);
  if (e instanceof NotFoundError) throw new ApiError(404, e.message);
  if (e instanceof ConflictError) throw new ApiError(409, e.message);
  throw e;
}

export class FleetService {
  constructor(private reg: Registry) {}

  async listUnits(): Promise<UnitEntity[]> {
    const [units, sched, reasons] = await Promise.all([
      this.reg.listUnits(),
      this.reg.listSchedule(),
      this.reg.listReasons(),
    ]);
    const where = new Map<string, { machineID: string; target: UnitEntity["currentState"] }[]>();
    for (const p of sched) where.set(p.unit, [...(where.get(p.unit) ?? []), p]);
    return units.map((u) => {
      const at = where.get(u.name) ?? [];
      const e: UnitEntity = {
        name: u.name,
        options: u.options,
        desiredState: u.desiredState,
        currentState: at[0]?.target ?? "inactive",
      };
      // A global unit runs on many machines; fleet left machineID empty for it.
      if (at.length === 1) e.machineID = at[0].machineID;
      if (reasons[u.name]) e.reason = reasons[u.name];
      return e;
    });
  }

  async getUnit(name: string): Promise<UnitEntity> {
    try {
      parseUnitName(name);
    } catch (e) {
      mapErrors(e);
    }
    const u = (await this.listUnits()).find((x) => x.name === name);
    if (!u) throw new ApiError(404, `unit ${name} does not exist`);
    return u;
  }

  /** PUT /units/<name>: create (201) or change desiredState (204). */
  async putUnit(name: string, body: unknown): Promise<201 | 204> {
    try {
      if (body === null || typeof body !== "object" || Array.isArray(body))
        throw new ApiError(400, "request body must be a JSON object");
      const b = body as Record<string, unknown>;
      if (b.name !== undefined && b.name !== name)
        throw new ApiError(
          400,
          `name ${JSON.stringify(b.name)} in the body does not match ${name} in the URL`,
        );
      if (b.desiredState === undefined)
        throw new ApiError(400, "desiredState is required: inactive, loaded or launched");
      parseUnitName(name);
      const existing = await this.reg.getUnit(name);
      if (b.options !== undefined && b.options !== null) validateOptions(b.options);
      const hasOptions = Array.isArray(b.options) && b.options.length > 0;
      if (existing) {
        if (hasOptions) {
          const { unit } = checkUnit(name, b.options, b.desiredState);
          if (JSON.stringify(unit.options) !== JSON.stringify(existing.options)) {
            throw new ApiError(
              409,
              `unit ${name} already exists with different options: destroy it first`,
            );
          }
        }
        if (parseUnitName(name).isTemplate && b.desiredState !== "inactive") {
          checkUnit(name, existing.options, b.desiredState);
        }
        await this.reg.setDesiredState(name, checkDesiredState(b.desiredState));
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
      const { unit, xfleet } = checkUnit(name, options, b.desiredState);
      await this.reg.createUnit(unit, xfleet);
      return 201;
    } catch (e) {
      mapErrors(e);
    }
  }

  async deleteUnit(name: string): Promise<void> {
    try {
      parseUnitName(name);
      await this.reg.destroyUnit(name);
    } catch (e) {
      mapErrors(e);
    }
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
