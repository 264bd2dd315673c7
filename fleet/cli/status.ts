// The whole cluster at a glance, as `npm run lab -- status` prints it: fleetctl's
// list-machines, then one table joining list-unit-files (desired and current state,
// machine) with list-units (systemd's active and sub state), so an admin sees in
// one place what should run, where it runs and whether systemd agrees.
import type { FleetClient } from "../api/client";
import type { UnitEntity } from "../api/service";
import type { Machine, UnitState } from "../registry/registry";
import { metadataText, short, table } from "./fleetctl";

export interface ClusterStatus {
  machines: Machine[];
  units: UnitEntity[];
  states: UnitState[];
}

export async function fetchStatus(c: FleetClient): Promise<ClusterStatus> {
  const [machines, units, states] = await Promise.all([
    c.listMachines(),
    c.listUnits(),
    c.listStates(),
  ]);
  return { machines, units, states };
}

/** Both tables, machines and units sorted by name as fleetctl lists them. */
export function formatStatus(s: ClusterStatus): string {
  const byId = new Map(s.machines.map((m) => [m.id, m]));
  const machines = table(
    ["MACHINE", "IP", "METADATA"],
    [...s.machines]
      .sort((a, b) => a.primaryIP.localeCompare(b.primaryIP, "en", { numeric: true }))
      .map((m) => [`${short(m.id)}...`, m.primaryIP, metadataText(m.metadata)]),
  );
  // A unit's state as its machine's agent last reported it; a unit reported by a
  // machine it no longer belongs to (moving) shows its target's report, or none.
  const state = (u: UnitEntity) =>
    s.states.find((x) => x.name === u.name && x.machineID === u.machineID);
  const units = table(
    ["UNIT", "DSTATE", "STATE", "MACHINE", "ACTIVE", "SUB"],
    [...s.units]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((u) => {
        const m = u.machineID ? byId.get(u.machineID) : undefined;
        const st = state(u);
        return [
          u.name,
          u.desiredState,
          u.currentState,
          u.machineID
            ? `${short(u.machineID)}.../${m?.primaryIP ?? "(gone)"}`
            : u.reason
              ? `- (${u.reason})`
              : "-",
          st?.systemdActiveState ?? "-",
          st?.systemdSubState ?? "-",
        ];
      }),
  );
  return `${machines}\n\n${units}`;
}
