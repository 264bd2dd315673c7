// A small typed client for /fleet/v1, over the node's unix socket or over TCP with
// a TLS client certificate. Used by fleetctl and by the Pulumi FleetUnit resource.
import { readFileSync } from "fs";
import * as http from "http";
import * as https from "https";
import { UnitOption, DesiredState } from "../unit/unit";
import { Machine, UnitState } from "../registry/registry";
import { API_PREFIX } from "./server";
import { UnitEntity } from "./service";

export type ClientTarget =
  | { socket: string }
  | { url: string; certFile: string; keyFile: string; caFile: string }
  | { url: string; cert: string | Buffer; key: string | Buffer; ca: string | Buffer };

export class FleetApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`fleet API ${code}: ${message}`);
  }
}

export class FleetClient {
  constructor(
    private target: ClientTarget,
    private timeoutMs = 10_000,
  ) {}

  private request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json?: unknown }> {
    const t = this.target;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = payload
      ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) }
      : {};
    return new Promise((resolve, reject) => {
      const onRes = (res: http.IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            return reject(
              new FleetApiError(res.statusCode ?? 0, `non-JSON response: ${text.slice(0, 200)}`),
            );
          }
          const status = res.statusCode ?? 0;
          if (status >= 400) {
            const err = (json as { error?: { message?: string } })?.error;
            return reject(new FleetApiError(status, err?.message ?? text));
          }
          resolve({ status, json });
        });
      };
      let req: http.ClientRequest;
      if ("socket" in t) {
        req = http.request(
          {
            socketPath: t.socket,
            path: API_PREFIX + path,
            method,
            headers,
            timeout: this.timeoutMs,
          },
          onRes,
        );
      } else {
        const u = new URL(API_PREFIX + path, t.url);
        const cred =
          "certFile" in t
            ? {
                cert: readFileSync(t.certFile),
                key: readFileSync(t.keyFile),
                ca: readFileSync(t.caFile),
              }
            : { cert: t.cert, key: t.key, ca: t.ca };
        req = https.request(u, { method, headers, timeout: this.timeoutMs, ...cred }, onRes);
      }
      req.on("timeout", () =>
        req.destroy(new Error(`fleet API: no answer within ${this.timeoutMs} ms`)),
      );
      const where = "socket" in t ? `unix socket ${t.socket}` : t.url;
      req.on("error", (e) =>
        reject(
          new Error(`cannot reach the fleet API at ${where}: ${e.message} (is the agent running?)`),
        ),
      );
      req.end(payload);
    });
  }

  private async all<T>(path: string, field: string, query = ""): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10_000; i++) {
      const q = new URLSearchParams(query);
      if (token) q.set("nextPageToken", token);
      const qs = q.toString();
      const { json } = await this.request("GET", path + (qs ? `?${qs}` : ""));
      const page = json as Record<string, unknown>;
      out.push(...((page[field] as T[]) ?? []));
      token = page.nextPageToken as string | undefined;
      if (!token) return out;
    }
    throw new Error(`fleet API: ${path} paging did not end`);
  }

  listUnits(): Promise<UnitEntity[]> {
    return this.all<UnitEntity>("/units", "units");
  }
  async getUnit(name: string): Promise<UnitEntity | undefined> {
    try {
      return (await this.request("GET", `/units/${encodeURIComponent(name)}`)).json as UnitEntity;
    } catch (e) {
      if (e instanceof FleetApiError && e.code === 404) return undefined;
      throw e;
    }
  }
  /** Create a unit (with options) or change its desired state (without). */
  async putUnit(
    name: string,
    desiredState: DesiredState,
    options?: UnitOption[],
  ): Promise<"created" | "modified"> {
    const { status } = await this.request(
      "PUT",
      `/units/${encodeURIComponent(name)}`,
      options ? { desiredState, options } : { desiredState },
    );
    return status === 201 ? "created" : "modified";
  }
  async deleteUnit(name: string): Promise<void> {
    await this.request("DELETE", `/units/${encodeURIComponent(name)}`);
  }
  listStates(filter: { machineID?: string; unitName?: string } = {}): Promise<UnitState[]> {
    const q = new URLSearchParams(
      Object.entries(filter).filter(([, v]) => v) as [string, string][],
    );
    return this.all<UnitState>("/state", "states", q.toString());
  }
  listMachines(): Promise<Machine[]> {
    return this.all<Machine>("/machines", "machines");
  }
}
