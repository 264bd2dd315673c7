// /fleet/v1 over HTTP: on a unix socket (local users, guarded by file permissions)
// and optionally on TCP with TLS that REQUIRES a client certificate from the lab CA
// (fleet had no authentication at all).
import { chmodSync, mkdirSync, readFileSync, rmSync } from "fs";
import * as http from "http";
import * as https from "https";
import type * as net from "net";
import type * as tls from "tls";
import { dirname } from "path";
import { matchPath, ROUTES } from "./routes";
import { ApiError, FleetService } from "./service";

export const API_PREFIX = "/fleet/v1";
export const PAGE_SIZE = 100;
const MAX_BODY = 256 * 1024;

function send(res: http.ServerResponse, code: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(code).end();
    return;
  }
  const text = JSON.stringify(body);
  res
    .writeHead(code, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(text),
    })
    .end(text);
}

/** Page tokens are opaque to clients: base64 of the next offset. */
function page<T>(
  items: T[],
  token: string | null,
  size = PAGE_SIZE,
): { items: T[]; next?: string } {
  let start = 0;
  if (token !== null) {
    const m = /^o:(\d{1,9})$/.exec(Buffer.from(token, "base64url").toString());
    if (!m) throw new ApiError(400, "invalid value of nextPageToken query parameter");
    start = Number(m[1]);
  }
  const end = start + size;
  return {
    items: items.slice(start, end),
    next: end < items.length ? Buffer.from(`o:${end}`).toString("base64url") : undefined,
  };
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString() || "null");
  } catch {
    throw new ApiError(400, "request body is not valid JSON");
  }
}

/** fleet's rule: exactly one Content-Type, and it is application/json (parameters aside). */
function checkContentType(req: http.IncomingMessage): void {
  const raw = req.headersDistinct?.["content-type"] ?? [];
  const type = raw.length === 1 ? raw[0].split(";")[0].trim().toLowerCase() : undefined;
  if (type !== "application/json")
    throw new ApiError(
      415,
      `the request body must be sent with Content-Type: application/json (got ${raw.length ? raw.join(", ") : "none"})`,
    );
}

export function handler(svc: FleetService, pageSize = PAGE_SIZE): http.RequestListener {
  return (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://fleet");
      if (!url.pathname.startsWith(API_PREFIX + "/"))
        throw new ApiError(
          404,
          `no such resource ${url.pathname}: the API lives under ${API_PREFIX}`,
        );
      const path = url.pathname.slice(API_PREFIX.length + 1);
      const matching = ROUTES.map((r) => ({ r, params: matchPath(r.path, path) })).filter(
        (x) => x.params !== undefined,
      );
      if (!matching.length) throw new ApiError(404, `no such resource ${url.pathname}`);
      const m = req.method ?? "GET";
      const hit = matching.find((x) => x.r.httpMethod === m);
      if (!hit) {
        const allowed = matching.map((x) => x.r.httpMethod);
        res.setHeader("Allow", allowed.join(", "));
        throw new ApiError(
          405,
          `method ${m} not allowed on ${url.pathname}: use ${allowed.join(", ")}`,
        );
      }
      let body: unknown;
      if (m === "PUT") {
        checkContentType(req);
        body = await readBody(req);
      }
      const token = url.searchParams.get("nextPageToken");
      const out = await hit.r.run({
        svc,
        params: hit.params!,
        query: url.searchParams,
        body,
        page: (field, items) => {
          const p = page(items, token, pageSize);
          return { [field]: p.items, ...(p.next ? { nextPageToken: p.next } : {}) };
        },
      });
      send(res, out.status, out.body);
    })().catch((e: unknown) => {
      const code = e instanceof ApiError ? e.code : 500;
      send(res, code, { error: { code, message: e instanceof Error ? e.message : String(e) } });
    });
  };
}

/**
 * The TLS listener's guard against clients that connect and never finish the handshake
 * (a slow or hostile client holding sockets, each with a pending TLS state): at most
 * `maxPending` handshakes at a time, each dropped after `timeoutMs`. A connection over
 * the cap is closed at once; clients that finished the handshake do not count.
 */
export const HANDSHAKE_LIMITS = { maxPending: 64, timeoutMs: 10_000 };

/** Counts the server's connections still in the TLS handshake and closes those over `max`. */
function capPendingHandshakes(server: tls.Server, max: number): void {
  // The raw socket and its TLS socket share their peer's address and port.
  const pending = new Map<string, net.Socket>();
  const key = (s: net.Socket) => `${s.remoteAddress}|${s.remotePort}`;
  // Before the TLS layer's own listener, so a socket over the cap never gets TLS state.
  server.prependListener("connection", (raw: net.Socket) => {
    if (pending.size >= max) {
      raw.destroy();
      return;
    }
    const k = key(raw);
    pending.set(k, raw);
    raw.once("close", () => {
      if (pending.get(k) === raw) pending.delete(k);
    });
  });
  server.on("secureConnection", (t: tls.TLSSocket) => pending.delete(key(t)));
}

/**
 * Requests that Node's HTTP parser refuses before our handler sees them (a malformed
 * request line, a body on a GET sent chunked) get the API's JSON error shape too, not
 * an empty 400.
 */
function answerClientErrors(server: http.Server): void {
  server.on("clientError", (err: Error & { code?: string }, socket: net.Socket) => {
    // A TLS handshake that ran out of time has no HTTP to answer: just drop it.
    if (!socket.writable || err.code === "ERR_TLS_HANDSHAKE_TIMEOUT") {
      socket.destroy();
      return;
    }
    const message = `malformed HTTP request (${err.code ?? err.message})`;
    const body = JSON.stringify({ error: { code: 400, message } });
    socket.end(
      "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
}

export interface ApiServers {
  close(): Promise<void>;
}

export async function serveApi(
  svc: FleetService,
  opts: {
    socket?: string;
    tcp?: { host: string; port: number; certFile: string; keyFile: string; caFile: string };
    pageSize?: number;
    handshake?: typeof HANDSHAKE_LIMITS;
  },
): Promise<ApiServers & { tcpPort?: number }> {
  const servers: http.Server[] = [];
  const h = handler(svc, opts.pageSize);
  let tcpPort: number | undefined;
  if (opts.socket) {
    mkdirSync(dirname(opts.socket), { recursive: true });
    rmSync(opts.socket, { force: true });
    const s = http.createServer(h);
    answerClientErrors(s);
    await new Promise<void>((r) => s.listen(opts.socket, r));
    chmodSync(opts.socket, 0o660);
    servers.push(s);
  }
  if (opts.tcp) {
    const t = opts.tcp;
    const s = https.createServer(
      {
        cert: readFileSync(t.certFile),
        key: readFileSync(t.keyFile),
        ca: readFileSync(t.caFile),
        requestCert: true,
        rejectUnauthorized: true,
        handshakeTimeout: (opts.handshake ?? HANDSHAKE_LIMITS).timeoutMs,
      },
      h,
    );
    capPendingHandshakes(s, (opts.handshake ?? HANDSHAKE_LIMITS).maxPending);
    answerClientErrors(s);
    await new Promise<void>((r) => s.listen(t.port, t.host, r));
    tcpPort = (s.address() as { port: number }).port;
    servers.push(s);
  }
  return {
    tcpPort,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      if (opts.socket) rmSync(opts.socket, { force: true });
    },
  };
}
