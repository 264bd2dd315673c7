// The /fleet/v1 routes: one table that both the HTTP handler dispatches on and the
// discovery document (discovery.ts) is written from, so the two cannot drift apart.
// The first six are fleet v1.0.0's documented methods (its schema/v1.json); the
// rest are fleetlab's additions.
import { discoveryDocument } from "./discovery";
import { FleetService } from "./service";

export interface RouteContext {
  svc: FleetService;
  /** path parameters, decoded */
  params: Record<string, string>;
  query: URLSearchParams;
  /** the parsed JSON body (PUT only) */
  body?: unknown;
  /** one page of a list, with fleet's nextPageToken */
  page<T>(field: string, items: T[]): Record<string, unknown>;
}

export interface Route {
  /** discovery resource and method, e.g. Units / Get */
  resource: string;
  method: string;
  httpMethod: "GET" | "PUT" | "DELETE";
  /** relative to /fleet/v1/, with {param} segments */
  path: string;
  description: string;
  query?: string[];
  request?: string;
  response?: string;
  /** true for methods fleet v1.0.0 documents */
  fleet: boolean;
  run(ctx: RouteContext): Promise<{ status: number; body?: unknown }>;
}

const ok = (body: unknown) => ({ status: 200, body });

/** GET units/{unitName}/<kind>: asked of the unit's agent (registry/inspect.ts). */
function inspectRoute(kind: "status" | "journal", description: string): Route {
  return {
    resource: "Units",
    method: kind === "status" ? "Status" : "Journal",
    httpMethod: "GET",
    path: `units/{unitName}/${kind}`,
    description,
    query: kind === "journal" ? ["machineID", "lines"] : ["machineID"],
    response: "UnitText",
    fleet: false,
    run: async (c) =>
      ok(
        await c.svc.inspectUnit(c.params.unitName, kind, {
          machineID: c.query.get("machineID"),
          lines: c.query.get("lines"),
        }),
      ),
  };
}

export const ROUTES: readonly Route[] = [
  {
    resource: "Machines",
    method: "List",
    httpMethod: "GET",
    path: "machines",
    description: "Retrieve a page of Machine objects.",
    query: ["nextPageToken"],
    response: "MachinePage",
    fleet: true,
    run: async (c) => ok(c.page("machines", await c.svc.listMachines())),
  },
  {
    resource: "Units",
    method: "List",
    httpMethod: "GET",
    path: "units",
    description: "Retrieve a page of Unit objects.",
    query: ["nextPageToken"],
    response: "UnitPage",
    fleet: true,
    run: async (c) => ok(c.page("units", await c.svc.listUnits())),
  },
  {
    resource: "Units",
    method: "Get",
    httpMethod: "GET",
    path: "units/{unitName}",
    description: "Retrieve a single Unit object.",
    response: "Unit",
    fleet: true,
    run: async (c) => ok(await c.svc.getUnit(c.params.unitName)),
  },
  {
    resource: "Units",
    method: "Delete",
    httpMethod: "DELETE",
    path: "units/{unitName}",
    description: "Delete the referenced Unit object.",
    fleet: true,
    run: async (c) => {
      await c.svc.deleteUnit(c.params.unitName);
      return { status: 204 };
    },
  },
  {
    resource: "Units",
    method: "Set",
    httpMethod: "PUT",
    path: "units/{unitName}",
    description:
      "Create a Unit (options; no desiredState means inactive), replace its options, or set its desiredState.",
    request: "Unit",
    fleet: true,
    run: async (c) => ({ status: await c.svc.putUnit(c.params.unitName, c.body) }),
  },
  {
    resource: "UnitState",
    method: "List",
    httpMethod: "GET",
    path: "state",
    description: "Retrieve a page of UnitState objects.",
    query: ["nextPageToken", "unitName", "machineID"],
    response: "UnitStatePage",
    fleet: true,
    run: async (c) => {
      const filter = {
        machineID: c.query.get("machineID") ?? undefined,
        unitName: c.query.get("unitName") ?? undefined,
      };
      return ok(c.page("states", await c.svc.listStates(filter)));
    },
  },
  {
    resource: "UnitState",
    method: "Get",
    httpMethod: "GET",
    path: "state/{unitName}",
    description: "Retrieve the UnitState of a single unit (404 until its machine reports one).",
    response: "UnitState",
    fleet: true,
    run: async (c) => ok(await c.svc.getState(c.params.unitName)),
  },
  inspectRoute(
    "status",
    "systemd's status of the unit, from the agent of the machine it is placed on.",
  ),
  inspectRoute(
    "journal",
    "The last lines (default 10, at most 1000) of the unit's journal, from its agent.",
  ),
  {
    resource: "Discovery",
    method: "Get",
    httpMethod: "GET",
    path: "discovery",
    description: "This API's discovery document.",
    response: "RestDescription",
    fleet: false,
    run: async () => ok(discoveryDocument(ROUTES)),
  },
];

/** Params of `path` against a route pattern, or undefined when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const m = /^\{(\w+)\}$/.exec(want[i]);
    if (m) {
      if (got[i] === "") return undefined;
      try {
        params[m[1]] = decodeURIComponent(got[i]);
      } catch {
        return undefined;
      }
    } else if (want[i] !== got[i]) return undefined;
  }
  return params;
}
