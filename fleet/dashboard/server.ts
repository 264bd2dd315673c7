// The dashboard's HTTP side: a read-only page of a fleet cluster, live over
// server-sent events. One etcd watch on the fleet prefix says *that* something changed;
// each (debounced) burst is followed by a full re-read through the registry, so the
// page never depends on decoding individual watch events.
//
// It binds 127.0.0.1 only and answers only requests whose Host names that address or
// localhost with its port: a web page elsewhere could otherwise point a DNS name at
// 127.0.0.1 and read the cluster's state through the victim's browser (DNS rebinding).
import type { Etcd3, Watcher } from "etcd3";
import * as http from "http";
import type { AddressInfo } from "net";
import { coalesce } from "../engine/coalesce";
import { PREFIX } from "../registry/keys";
import type { Registry } from "../registry/registry";
import { CONTENT_SECURITY_POLICY, PAGE_HTML } from "./page";
import { buildView, Change, changes, ClusterView, RegistrySnapshot, remember } from "./view";

/** What the dashboard needs of a Registry (a Registry is one). */
export type DashboardRegistry = Pick<
  Registry,
  "listMachines" | "listUnits" | "listSchedule" | "listStates" | "listReasons" | "leader"
> & { client: Pick<Etcd3, "watch"> };

export interface DashboardOptions {
  /** TCP port on 127.0.0.1; 0 or absent: one the system picks */
  port?: number;
  /** where to say that the watch or a read failed (default: stderr) */
  log?: (line: string) => void;
}

/** One message of the stream, and the body of /state.json. */
export interface DashboardMessage {
  view: ClusterView;
  /** newest first, bounded (view.ts HISTORY_LIMIT) */
  history: Change[];
  /** when the state shown was read (ms since the epoch) */
  readAt: number;
  /** why the state shown may be stale */
  error?: string;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

const HOST = "127.0.0.1";
// A burst of watch events (a failover writes schedule, states and reasons) costs one read.
const DEBOUNCE_MS = 200;
// Proxies and idle-connection reapers drop a silent stream; a comment line keeps it open.
const KEEP_ALIVE_MS = 15_000;
/** how long the browser's EventSource waits before reconnecting after a drop */
const CLIENT_RETRY_MS = 2_000;
/** a projector, a laptop or two: more open streams than this is a leak somewhere */
const MAX_STREAMS = 32;
const WATCH_CANCEL_MS = 2_000;

const SECURITY_HEADERS: http.OutgoingHttpHeaders = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
};

/** Delays for retrying a watch or a read: 250 ms doubling, never over 10 s. */
class Backoff {
  private n = 0;
  next(): number {
    const ms = Math.min(250 * 2 ** this.n, 10_000);
    if (ms < 10_000) this.n++;
    return ms;
  }
  reset(): void {
    this.n = 0;
  }
}

/** One read of everything the view shows. Unit options are dropped here, at the source. */
export async function readSnapshot(reg: DashboardRegistry): Promise<RegistrySnapshot> {
  const [machines, units, schedule, states, reasons, leader] = await Promise.all([
    reg.listMachines(),
    reg.listUnits(),
    reg.listSchedule(),
    reg.listStates(),
    reg.listReasons(),
    reg.leader(),
  ]);
  return {
    machines,
    units: units.map((u) => ({ name: u.name, desiredState: u.desiredState })),
    schedule: schedule.map((p) => ({ unit: p.unit, machineID: p.machineID, target: p.target })),
    states,
    reasons,
    leader,
  };
}

function send(
  res: http.ServerResponse,
  code: number,
  type: string,
  body: string,
  extra: http.OutgoingHttpHeaders = {},
): void {
  res
    .writeHead(code, {
      ...SECURITY_HEADERS,
      "Content-Type": type,
      "Content-Length": Buffer.byteLength(body),
      ...extra,
    })
    .end(body);
}

const ROUTES: Record<string, string[]> = {
  "/": ["GET", "HEAD"],
  "/state.json": ["GET", "HEAD"],
  "/events": ["GET"],
};

/**
 * Serve the dashboard of the cluster behind `registry` on 127.0.0.1. Resolves once
 * the first read has been tried (a failed one is shown on the page and retried).
 * close() stops the watch, ends every open stream and the server; the registry's
 * etcd client is the caller's and stays open.
 */
export async function serveDashboard(
  registry: DashboardRegistry,
  opts: DashboardOptions = {},
): Promise<Dashboard> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`dashboard: ${line}\n`));
  const streams = new Set<http.ServerResponse>();
  let closed = false;
  let lastView: ClusterView | undefined;
  let history: Change[] = [];
  let message: DashboardMessage | undefined;
  let shown = "";
  let frame = "";
  let readError: string | undefined;
  let watchError: string | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let retryRead: NodeJS.Timeout | undefined;
  let retryWatch: NodeJS.Timeout | undefined;
  let watcher: Watcher | undefined;
  const readBackoff = new Backoff();
  const watchBackoff = new Backoff();

  const publish = (view: ClusterView, readAt: number): void => {
    const error = readError ?? watchError;
    // Reads triggered by keys the page does not show (status/journal requests) change nothing.
    const key = JSON.stringify([view, history, error]);
    if (key === shown) return;
    shown = key;
    message = error ? { view, history, readAt, error } : { view, history, readAt };
    frame = `data: ${JSON.stringify(message)}\n\n`;
    for (const s of streams) s.write(frame);
  };

  const refresh = async (): Promise<void> => {
    try {
      const view = buildView(await readSnapshot(registry));
      const at = Date.now();
      history = remember(history, changes(lastView, view, at));
      lastView = view;
      if (readError) log("registry readable again");
      readError = undefined;
      readBackoff.reset();
      publish(view, at);
    } catch (e) {
      const ms = readBackoff.next();
      if (!readError) log(`cannot read the fleet registry: ${(e as Error).message}; retrying`);
      readError = `cannot read the fleet registry (etcd): ${(e as Error).message}`.slice(0, 300);
      publish(lastView ?? { machines: [], unplaced: [] }, message?.readAt ?? Date.now());
      if (!closed) retryRead = setTimeout(kick, ms);
    }
  };
  const run = coalesce(
    refresh,
    (e) => log(`refresh failed: ${e.message}`),
    () => closed,
  );
  // The first event of a burst sets the time; later ones ride along, so a long burst
  // (a thousand placements) cannot postpone the read forever.
  function kick(): void {
    if (closed || debounce) return;
    debounce = setTimeout(() => {
      debounce = undefined;
      run();
    }, DEBOUNCE_MS);
  }

  function startWatch(): void {
    if (closed) return;
    // Not create(): while etcd is unreachable its promise never settles, and the
    // watcher it made is already attached with no handle to cancel it by.
    const w = registry.client.watch().prefix(PREFIX).watcher();
    watcher = w;
    w.on("put", kick);
    w.on("delete", kick);
    // Also on the first connect: what changed between the first read and the watch
    // starting would otherwise wait for the next change.
    w.on("connected", () => {
      if (watchError) log(`watch on ${PREFIX} connected again`);
      watchError = undefined;
      watchBackoff.reset();
      kick();
    });
    // etcd3 reconnects a dropped stream itself (its own backoff, at most 30 s) and resumes
    // from the last revision seen; meanwhile the page says its state may be stale.
    w.on("disconnected", (err: Error) => {
      if (watchError || watcher !== w) return;
      log(`watch on ${PREFIX} lost: ${err.message}; etcd3 reconnects it`);
      watchError = "lost the etcd watch: reconnecting (the state shown may be stale)";
      if (lastView && message) publish(lastView, message.readAt);
    });
    // etcd cancelled the watch (e.g. its revision was compacted): this one is over.
    w.on("error", (err: Error) => {
      if (watcher !== w) return;
      watcher = undefined;
      const ms = watchBackoff.next();
      log(`watch on ${PREFIX} failed: ${err.message}; a new one in ${ms} ms`);
      watchError = "the etcd watch failed: starting a new one (the state shown may be stale)";
      if (lastView && message) publish(lastView, message.readAt);
      void w.cancel().catch(() => undefined);
      if (!closed) retryWatch = setTimeout(startWatch, ms);
    });
  }

  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      log(`request ${req.method} ${req.url}: ${(e as Error).message}`);
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
    }
  });
  let allowedHosts: string[] = [];

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!allowedHosts.includes((req.headers.host ?? "").toLowerCase())) {
      send(res, 403, "text/plain; charset=utf-8", "this dashboard answers on 127.0.0.1 only\n");
      return;
    }
    const path = (req.url ?? "").split("?")[0];
    const methods = ROUTES[path];
    if (!methods) {
      send(res, 404, "text/plain; charset=utf-8", "not found\n");
      return;
    }
    if (!methods.includes(req.method ?? "")) {
      send(res, 405, "text/plain; charset=utf-8", "read-only: GET only\n", {
        Allow: methods.join(", "),
      });
      return;
    }
    if (path === "/") send(res, 200, "text/html; charset=utf-8", PAGE_HTML);
    else if (path === "/state.json")
      send(res, 200, "application/json; charset=utf-8", JSON.stringify(message));
    else openStream(res);
  }

  function openStream(res: http.ServerResponse): void {
    if (streams.size >= MAX_STREAMS) {
      send(res, 503, "text/plain; charset=utf-8", `more than ${MAX_STREAMS} open streams\n`);
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "Content-Type": "text/event-stream; charset=utf-8",
      Connection: "keep-alive",
    });
    res.write(`retry: ${CLIENT_RETRY_MS}\n\n${frame}`);
    streams.add(res);
    res.on("close", () => streams.delete(res));
  }

  // Read before listening, so every request finds a state to show; then watch: the
  // watch's first "connected" reads again, which covers whatever changed in between.
  // Every later read goes through `run`, one at a time, so two reads never race to
  // extend the history.
  await refresh();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, HOST, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    closed = true;
    clearTimeout(retryRead);
    const err = e as NodeJS.ErrnoException;
    // The code stays, so a caller can tell a taken port (EADDRINUSE) from the rest.
    throw Object.assign(
      new Error(
        `dashboard: cannot listen on ${HOST}:${opts.port ?? 0}: ${err.message} (fix: choose another port)`,
      ),
      { code: err.code },
    );
  }
  server.on("error", (e) => log(`server: ${e.message}`));
  const port = (server.address() as AddressInfo).port;
  allowedHosts = [`${HOST}:${port}`, `localhost:${port}`];
  startWatch();
  const keepAlive = setInterval(() => {
    for (const s of streams) s.write(": keep-alive\n\n");
  }, KEEP_ALIVE_MS);

  return {
    url: `http://${HOST}:${port}/`,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(keepAlive);
      clearTimeout(debounce);
      clearTimeout(retryRead);
      clearTimeout(retryWatch);
      const w = watcher;
      watcher = undefined;
      // A cancel waits for etcd's answer; an etcd that went away must not hold close() up.
      if (w) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          w.cancel().catch(() => undefined),
          new Promise((r) => (timer = setTimeout(r, WATCH_CANCEL_MS))),
        ]);
        clearTimeout(timer);
      }
      for (const s of streams) s.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
