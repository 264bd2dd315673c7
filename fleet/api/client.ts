// A small typed client for /fleet/v1, over the node's unix socket or over TCP with
// a TLS client certificate. Used by fleetctl and by the Pulumi FleetUnit resource.
import { readFileSync } from "fs";
import * as http from "http";
import * as https from "https";
import { UnitOption, DesiredState } from "../unit/unit";
import { Machine, UnitState } from "../registry/registry";
import { API_PREFIX } from "./server";
import { UnitEntity } from "./service";

/** TLS client credentials: PEM files, or PEM texts. */
export type ClientTls =
  | { certFile: string; keyFile: string; caFile: string }
  | { cert: string | Buffer; key: string | Buffer; ca: string | Buffer };

/**
 * Where the API is: a node's unix socket, one URL, or several URLs (every agent
 * serves the whole cluster's registry, so any node's API will do; see `urls`).
 */
export type ClientTarget =
  { socket: string } | ({ url: string } & ClientTls) | ({ urls: string[] } & ClientTls);

/**
 * Error codes that mean "this endpoint did not get (or answer) the request": the
 * node is down, unreachable or restarting, or its TLS handshake was cut. Worth
 * trying the next endpoint. Anything else (an HTTP error, a certificate that does
 * not verify) is an answer about the request or the credentials and is returned.
 */
// (An array, not a Set: Pulumi's closure serializer cannot ship a Set's contents.)
const CONNECTION_FAILURES = [
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
];

/** A request that failed before any HTTP response arrived. */
class ConnectionError extends Error {
  constructor(
    readonly where: string,
    readonly code: string | undefined,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export function isConnectionFailure(e: unknown): boolean {
  return (
    e instanceof ConnectionError && e.code !== undefined && CONNECTION_FAILURES.includes(e.code)
  );
}

export class FleetApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`fleet API ${code}: ${message}`);
  }
}

export class FleetClient {
  /** Index in `urls` of the endpoint that answered last: tried first next time. */
  private preferred: number;

  constructor(
    private target: ClientTarget,
    private timeoutMs = 10_000,
  ) {
    // Set here, not as a field initializer: Pulumi's closure serializer ships the
    // constructor's body only, and the dynamic providers run this class shipped.
    this.preferred = 0;
    if ("urls" in target && target.urls.length === 0)
      throw new Error("fleet API client: no URL given; fix: pass at least one agent's https URL");
  }

  /**
   * One request, to the one endpoint or, with `urls`, to each in turn (the one that
   * answered last first, then the rest in order) while they fail at the connection
   * level. The first HTTP answer, error or not, is final: another node would give
   * the same answer from the same registry, and a retried write could apply twice.
   */
  private async request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json?: unknown }> {
    const t = this.target;
    if (!("urls" in t)) {
      try {
        return await this.requestOnce(t, method, path, body);
      } catch (e) {
        throw e instanceof ConnectionError ? new Error(unreachable([e])) : e;
      }
    }
    const order = t.urls.map((_, i) => (this.preferred + i) % t.urls.length);
    const failed: ConnectionError[] = [];
    for (const i of order) {
      try {
        const answer = await this.requestOnce({ ...t, url: t.urls[i] }, method, path, body);
        this.preferred = i;
        return answer;
      } catch (e) {
        if (!isConnectionFailure(e)) {
          // An answer (HTTP error) or a local problem: that endpoint is the one to keep.
          if (e instanceof FleetApiError) this.preferred = i;
          throw e instanceof ConnectionError ? new Error(unreachable([...failed, e])) : e;
        }
        failed.push(e as ConnectionError);
      }
    }
    throw new Error(unreachable(failed));
  }

  private requestOnce(
    t: { socket: string } | ({ url: string } & ClientTls),
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json?: unknown }> {
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
        req.destroy(
          Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: "ETIMEDOUT" }),
        ),
      );
      const where = "socket" in t ? `unix socket ${t.socket}` : t.url;
      req.on("error", (e: NodeJS.ErrnoException) =>
        reject(new ConnectionError(where, e.code, e.message)),
      );
      req.end(payload);
    });
  }

  /** The endpoint that answered last (the one the next request tries first). */
  get endpoint(): string {
    const t = this.target;
    return "socket" in t ? t.socket : "urls" in t ? t.urls[this.preferred] : t.url;
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
  /**
   * Create a unit (with options), replace its options (with different ones), or
   * change its desired state (without). `desiredState` undefined sends none, as
   * `fleetctl submit` does: a new unit is then inactive, a replaced one keeps its own.
   */
  async putUnit(
    name: string,
    desiredState: DesiredState | undefined,
    options?: UnitOption[],
  ): Promise<"created" | "modified"> {
    const body: Record<string, unknown> = {};
    if (desiredState) body.desiredState = desiredState;
    if (options) body.options = options;
    const { status } = await this.request("PUT", `/units/${encodeURIComponent(name)}`, body);
    return status === 201 ? "created" : "modified";
  }
  /** systemd's status, or the last `lines` journal lines, of a unit, from its agent. */
  async inspectUnit(
    name: string,
    kind: "status" | "journal",
    opts: { lines?: number; machineID?: string } = {},
  ): Promise<{ machineID: string; lines: string[] }> {
    const q = new URLSearchParams();
    if (opts.lines !== undefined) q.set("lines", String(opts.lines));
    if (opts.machineID) q.set("machineID", opts.machineID);
    const qs = q.toString() ? `?${q}` : "";
    const { json } = await this.request("GET", `/units/${encodeURIComponent(name)}/${kind}${qs}`);
    return json as { machineID: string; lines: string[] };
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

/** The message when no endpoint answered: every endpoint tried, with its error. */
function unreachable(failed: ConnectionError[]): string {
  if (failed.length === 1)
    return `cannot reach the fleet API at ${failed[0].where}: ${failed[0].detail} (is the agent running?)`;
  return (
    `cannot reach the fleet API at any of ${failed.length} endpoints: ` +
    failed.map((f) => `${f.where}: ${f.detail}`).join("; ") +
    " (is an agent running on any node?)"
  );
}
