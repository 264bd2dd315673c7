// fleetlab's discovery document (a Google-style REST description, the format of
// fleet's schema/v1.json), generated from the route table so it lists exactly what
// the server routes. Entity schemas are written here, one place per entity.
import type { Route } from "./routes";

type Schema = Record<string, unknown>;

const str = { type: "string" };
const states = { type: "string", enum: ["inactive", "loaded", "launched"] };
const pageOf = (field: string, ref: string): Schema => ({
  type: "object",
  properties: { [field]: { type: "array", items: { $ref: ref } }, nextPageToken: str },
});

export const SCHEMAS: Record<string, Schema> = {
  Machine: {
    type: "object",
    properties: {
      id: str,
      primaryIP: str,
      metadata: { type: "object", additionalProperties: str },
    },
  },
  MachinePage: pageOf("machines", "Machine"),
  UnitOption: {
    type: "object",
    properties: { section: str, name: str, value: str },
  },
  Unit: {
    type: "object",
    properties: {
      name: str,
      options: { type: "array", items: { $ref: "UnitOption" } },
      desiredState: states,
      currentState: states,
      machineID: str,
      reason: {
        type: "string",
        description: "fleetlab: why a unit that should run has no machine",
      },
    },
  },
  UnitPage: pageOf("units", "Unit"),
  UnitState: {
    type: "object",
    properties: {
      name: str,
      hash: str,
      machineID: str,
      systemdLoadState: str,
      systemdActiveState: str,
      systemdSubState: str,
    },
  },
  UnitStatePage: pageOf("states", "UnitState"),
  UnitText: {
    type: "object",
    properties: { machineID: str, lines: { type: "array", items: str } },
  },
  RestDescription: { type: "object", description: "this document" },
  Error: {
    type: "object",
    properties: {
      error: { type: "object", properties: { code: { type: "integer" }, message: str } },
    },
  },
};

export function discoveryDocument(routes: readonly Route[]): Schema {
  const resources: Record<string, { methods: Record<string, Schema> }> = {};
  for (const r of routes) {
    const params: Record<string, Schema> = {};
    for (const m of r.path.matchAll(/\{(\w+)\}/g))
      params[m[1]] = { type: "string", location: "path", required: true };
    for (const q of r.query ?? []) params[q] = { type: "string", location: "query" };
    const method: Schema = {
      id: `fleet.${r.resource}.${r.method}`,
      description: r.description,
      httpMethod: r.httpMethod,
      path: r.path,
      parameters: params,
    };
    const order = Object.keys(params).filter((p) => params[p].location === "path");
    if (order.length) method.parameterOrder = order;
    if (r.request) method.request = { $ref: r.request };
    if (r.response) method.response = { $ref: r.response };
    if (!r.fleet) method["x-fleetlab"] = true;
    (resources[r.resource] ??= { methods: {} }).methods[r.method] = method;
  }
  return {
    kind: "discovery#restDescription",
    discoveryVersion: "v1",
    id: "fleet:v1",
    name: "fleet",
    version: "v1",
    title: "fleetlab's fleet-compatible API",
    protocol: "rest",
    basePath: "/fleet/v1/",
    servicePath: "fleet/v1/",
    schemas: Object.fromEntries(Object.entries(SCHEMAS).map(([id, s]) => [id, { id, ...s }])),
    resources,
  };
}
