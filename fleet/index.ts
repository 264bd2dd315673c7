// What other parts of fleetlab import from the engine: the unit format, the API
// client, and the agent's deployment contract (env names, image, paths).
export {
  parseUnitFile,
  serializeUnit,
  unitHash,
  validateOptions,
  checkUnit,
  parseUnitName,
  templateOf,
} from "./unit";
export type { Unit, UnitOption, DesiredState, XFleet } from "./unit";
export { FleetClient, FleetApiError } from "./api/client";
export type { ClientTarget } from "./api/client";
export type { UnitEntity } from "./api/service";
export type { Machine, UnitState } from "./registry/registry";
export { AGENT_ENV } from "../node/env";
export {
  agentEnv,
  DEFAULT_IMAGE,
  DEFAULT_SOCKET,
  DEFAULT_UNIT_DIR,
  DEFAULT_TIMING,
} from "./agent/config";
export { PREFIX as ETCD_PREFIX, keys as etcdKeys } from "./registry/keys";
