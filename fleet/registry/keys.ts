// etcd key layout (documented in fleet/README.md). One prefix so a lab can share
// its etcd with other data (the services' lab data lives beside it).
export const PREFIX = "/fleetlab/fleet/";

export const keys = {
  unitsPrefix: `${PREFIX}units/`,
  unit: (name: string) => `${PREFIX}units/${name}`,
  machinesPrefix: `${PREFIX}machines/`,
  machine: (id: string) => `${PREFIX}machines/${id}`,
  schedulePrefix: `${PREFIX}schedule/`,
  machineSchedulePrefix: (machineID: string) => `${PREFIX}schedule/${machineID}/`,
  schedule: (machineID: string, unit: string) => `${PREFIX}schedule/${machineID}/${unit}`,
  statePrefix: `${PREFIX}state/`,
  state: (unit: string, machineID: string) => `${PREFIX}state/${unit}/${machineID}`,
  reasonsPrefix: `${PREFIX}reasons/`,
  reason: (unit: string) => `${PREFIX}reasons/${unit}`,
  leader: `${PREFIX}engine/leader`,
  inspectPrefix: (machineID: string) => `${PREFIX}inspect/${machineID}/`,
  inspect: (machineID: string, id: string) => `${PREFIX}inspect/${machineID}/${id}`,
  answer: (id: string) => `${PREFIX}answers/${id}`,
};

/** Last path segment(s) after a prefix: "schedule/<m>/<u>" -> ["<m>", "<u>"]. */
export function tail(key: string, prefix: string): string[] {
  return key.slice(prefix.length).split("/");
}
