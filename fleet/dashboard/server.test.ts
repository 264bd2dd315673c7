// The dashboard server against a registry held in memory and a watch the test fires
// by hand: the HTTP rules (Host, methods, headers), the stream, and the watch's retry.
// tests/fleet/dashboard.test.ts runs it against real etcd, agents and a browser.
import { createHash } from "crypto";
import { EventEmitter } from "events";
import * as http from "http";
import { Machine, ScheduledUnit, UnitState } from "../registry/registry";
import { Unit } from "../unit";
import { CONTENT_SECURITY_POLICY, PAGE_HTML, PAGE_SCRIPT, PAGE_STYLE } from "./page";
import { Dashboard, DashboardMessage, DashboardRegistry, serveDashboard } from "./server";

class FakeWatcher extends EventEmitter {
  cancelled = false;
  async cancel(): Promise<void> {
    this.cancelled = true;
  }
}

const A = "a".repeat(32);
const secret = "-----BEGIN " + "PRIVATE KEY-----xyz";

function fakeRegistry() {
  const watchers: FakeWatcher[] = [];
  const state = {
    machines: [{ id: A, primaryIP: "10.0.0.1", metadata: { rack: "r1" } }] as Machine[],
    units: [
      {
        name: "web.service",
        desiredState: "launched",
        options: [{ section: "Service", name: "Environment", value: `KEY=${secret}` }],
      },
    ] as Unit[],
    schedule: [
      { unit: "web.service", machineID: A, target: "launched", lease: "1", hash: "h" },
    ] as ScheduledUnit[],
    states: [] as UnitState[],
  };
  const reg: DashboardRegistry = {
    listMachines: async () => state.machines,
    listUnits: async () => state.units,
    listSchedule: async () => state.schedule,
    listStates: async () => state.states,
    listReasons: async () => ({}),
    leader: async () => A,
    client: {
      watch: () => {
        const builder = {
          prefix: () => builder,
          watcher: () => {
            const w = new FakeWatcher();
            watchers.push(w);
            setImmediate(() => w.emit("connected", {}));
            return w;
          },
        };
        return builder;
      },
    } as unknown as DashboardRegistry["client"],
  };
  return { reg, state, watchers };
}

function request(
  url: string,
  opts: { method?: string; host?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: opts.method ?? "GET",
        headers: opts.host ? { Host: opts.host } : {},
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Open /events and collect its messages until the returned close() is called. */
function stream(url: string): { messages: DashboardMessage[]; raw: string[]; close(): void } {
  const messages: DashboardMessage[] = [];
  const raw: string[] = [];
  const req = http.get(new URL("events", url), (res) => {
    let buf = "";
    res.on("data", (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        raw.push(chunk);
        if (chunk.startsWith("data: ")) messages.push(JSON.parse(chunk.slice(6)));
      }
    });
  });
  req.on("error", () => undefined);
  return { messages, raw, close: () => req.destroy() };
}

async function until<T>(what: string, f: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let fake: ReturnType<typeof fakeRegistry>;
let dash: Dashboard;
const logged: string[] = [];

beforeEach(async () => {
  fake = fakeRegistry();
  logged.length = 0;
  dash = await serveDashboard(fake.reg, { log: (l) => logged.push(l) });
});
afterEach(() => dash.close());

test("listens on 127.0.0.1 and serves the page with the security headers", async () => {
  expect(new URL(dash.url).hostname).toBe("127.0.0.1");
  const r = await request(dash.url);
  expect(r.status).toBe(200);
  expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
  expect(r.headers["x-content-type-options"]).toBe("nosniff");
  expect(r.headers["cache-control"]).toBe("no-store");
  expect(r.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
  expect(r.body).toBe(PAGE_HTML);
});

test("the page loads nothing from elsewhere, and the policy's hashes are its own script and style", () => {
  expect(PAGE_HTML).not.toMatch(/https?:\/\/|\bsrc=|<link/);
  expect(PAGE_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  // a template literal can turn "\\n" into a raw line break inside the script's strings
  expect(() => new Function(PAGE_SCRIPT)).not.toThrow();
  const sha = (t: string) => createHash("sha256").update(t).digest("base64");
  expect(CONTENT_SECURITY_POLICY).toContain(`script-src 'sha256-${sha(PAGE_SCRIPT)}'`);
  expect(CONTENT_SECURITY_POLICY).toContain(`style-src 'sha256-${sha(PAGE_STYLE)}'`);
  expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
  expect(PAGE_HTML).toContain(`<script>${PAGE_SCRIPT}</script>`);
  expect(PAGE_HTML).toContain(`<style>${PAGE_STYLE}</style>`);
});

test("a Host other than 127.0.0.1:<port> or localhost:<port> is refused", async () => {
  const port = new URL(dash.url).port;
  expect((await request(dash.url, { host: `localhost:${port}` })).status).toBe(200);
  for (const host of [`evil.example:${port}`, "127.0.0.1", `127.0.0.1:${Number(port) + 1}`]) {
    const r = await request(dash.url, { host });
    expect([host, r.status]).toEqual([host, 403]);
    expect(r.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
  }
});

test("read-only: other methods are 405 with Allow, other paths 404", async () => {
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    const r = await request(dash.url, { method });
    expect([method, r.status, r.headers.allow]).toEqual([method, 405, "GET, HEAD"]);
  }
  expect((await request(new URL("events", dash.url).href, { method: "HEAD" })).status).toBe(405);
  const nf = await request(new URL("units", dash.url).href);
  expect(nf.status).toBe(404);
  expect(nf.headers["x-content-type-options"]).toBe("nosniff");
});

test("/state.json: the view, without unit options", async () => {
  const r = await request(new URL("state.json", dash.url).href);
  const m = JSON.parse(r.body) as DashboardMessage;
  expect(m.view.machines.map((x) => [x.id, x.units.map((u) => u.name)])).toEqual([
    [A, ["web.service"]],
  ]);
  expect(r.body).not.toContain("PRIVATE KEY");
  expect(r.body).not.toContain("Environment");
});

test("/events: the state on connect, then one message per change after a watch event", async () => {
  const s = stream(dash.url);
  try {
    await until("first message", () => s.messages.length === 1);
    expect(s.raw[0]).toMatch(/^retry: \d+$/);
    const B = "b".repeat(32);
    fake.state.machines = [...fake.state.machines, { id: B, primaryIP: "10.0.0.2", metadata: {} }];
    fake.state.schedule = [{ ...fake.state.schedule[0], machineID: B }];
    fake.watchers[0].emit("put", {});
    fake.watchers[0].emit("put", {});
    const m = await until("second message", () => s.messages[1]);
    expect(m.history.map((c) => c.text)).toEqual([
      "machine bbbbbbbb joined",
      "web.service moved aaaaaaaa → bbbbbbbb",
    ]);
    // a watch event that changes nothing shown sends nothing
    fake.watchers[0].emit("put", {});
    await new Promise((r) => setTimeout(r, 500));
    expect(s.messages).toHaveLength(2);
  } finally {
    s.close();
  }
});

test("a failed watch is logged and replaced; close() cancels it and ends the streams", async () => {
  const s = stream(dash.url);
  await until("first message", () => s.messages.length === 1);
  fake.watchers[0].emit("error", new Error("required revision has been compacted"));
  await until("a new watcher", () => fake.watchers.length === 2);
  expect(fake.watchers[0].cancelled).toBe(true);
  expect(logged.join("\n")).toMatch(/watch on \/fleetlab\/fleet\/ failed: required revision/);
  await dash.close();
  expect(fake.watchers[1].cancelled).toBe(true);
  await expect(request(dash.url)).rejects.toThrow(/ECONNREFUSED/);
  s.close();
});

test("a registry that cannot be read: the page says so, and the read is retried", async () => {
  const s = stream(dash.url);
  try {
    await until("first message", () => s.messages.length === 1);
    const ok = fake.reg.listUnits;
    fake.reg.listUnits = async () => {
      throw new Error("14 UNAVAILABLE: no connection");
    };
    fake.watchers[0].emit("put", {});
    const bad = await until("an error message", () => s.messages.find((m) => m.error));
    expect(bad.error).toMatch(/cannot read the fleet registry.*UNAVAILABLE/);
    expect(bad.view.machines).toHaveLength(1);
    fake.reg.listUnits = ok;
    const good = await until("recovered", () => s.messages.length > 2 && s.messages.at(-1));
    expect(good.error).toBeUndefined();
  } finally {
    s.close();
  }
});

test("a port already taken is refused with the port and the fix", async () => {
  const port = Number(new URL(dash.url).port);
  const taken = serveDashboard(fake.reg, { port, log: () => undefined });
  await expect(taken).rejects.toThrow(
    `dashboard: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`,
  );
  await expect(taken).rejects.toMatchObject({ code: "EADDRINUSE" });
  // the failed one started no watch
  expect(fake.watchers).toHaveLength(1);
});

test("HEAD of the page: headers only", async () => {
  const r = await request(dash.url, { method: "HEAD" });
  expect([r.status, r.body, r.headers["cache-control"]]).toEqual([200, "", "no-store"]);
});
