// The dashboard in a real browser against a real cluster: etcd, three agents as OS
// processes (recorded systemd), units submitted through an agent's /fleet/v1 socket,
// and Debian's Chromium driven headless by playwright-core. SIGKILL the agent holding
// a unit and the page, fed by the etcd watch, must show the unit on a survivor and
// say it moved. Everything is read from the page's DOM, as the people in the room see it.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import * as http from "http";
import { tmpdir } from "os";
import { join } from "path";
import { BrowserContext, chromium, Page } from "playwright-core";
import { DEFAULT_TIMING } from "../../fleet/agent/config";
import { FleetClient } from "../../fleet/api/client";
import { Dashboard, serveDashboard } from "../../fleet/dashboard/server";
import { shortId } from "../../fleet/dashboard/view";
import { connect, Registry } from "../../fleet/registry/registry";
import { UnitOption } from "../../fleet/unit";
import { waitFor } from "../support/wait";
import { AgentProcess, spawnAgent } from "./agent-process";
import { EtcdCluster } from "./etcd";

jest.setTimeout(180_000);

const CHROMIUM = "/usr/bin/chromium";
const ROOT = join(__dirname, "..", "..");
const SCREENSHOT = join(ROOT, "build", "dashboard.png");
// Built at run time so no scanner mistakes this file for one holding a key.
const KEY_MARKER = ["-----BEGIN", "PRIVATE KEY-----"].join(" ");

const etcd = new EtcdCluster();
const dir = mkdtempSync(join(tmpdir(), "fleet-dashboard-"));
const profile = join(dir, "chromium-profile");
const logFile = join(dir, "events.jsonl");
let agents: AgentProcess[] = [];
let reg: Registry;
let dashReg: Registry;
let dash: Dashboard | undefined;
let context: BrowserContext | undefined;
let page: Page;
const dashLog: string[] = [];
const consoleLines: string[] = [];
const requested: string[] = [];

const sleeper: UnitOption[] = [
  { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
];
const UNITS: Record<string, UnitOption[]> = {
  "dhcp.service": sleeper,
  "www.service": sleeper,
  // A secret-looking value in the registry: the page must never show it.
  "ldap.service": [
    ...sleeper,
    { section: "Service", name: "Environment", value: `BIND_KEY=${KEY_MARKER}notakey` },
  ],
};

// No machine has this metadata: the engine leaves it unplaced, with a reason.
const UNPLACEABLE = "backup.service";
const UNPLACEABLE_OPTIONS: UnitOption[] = [
  ...sleeper,
  { section: "X-Fleet", name: "MachineMetadata", value: "disk=ssd" },
];

beforeAll(async () => {
  expect(existsSync(CHROMIUM)).toBe(true);
  await etcd.start();
  reg = new Registry(connect({ endpoints: etcd.endpoints }));
  agents = [1, 2, 3].map((n) =>
    spawnAgent(n, dir, etcd.endpoints, {
      metadata: `rack=r${n}`,
      logFile,
      timing: DEFAULT_TIMING,
    }),
  );
  await waitFor("3 machines", async () => (await reg.listMachines()).length === 3, 60_000, 250);
  await waitFor("agent 1's API socket", () => existsSync(agents[0].socket), 30_000);
  const api = new FleetClient({ socket: agents[0].socket });
  for (const [name, options] of Object.entries(UNITS)) await api.putUnit(name, "launched", options);
  await api.putUnit(UNPLACEABLE, "launched", UNPLACEABLE_OPTIONS);
  await waitFor(
    "all units active",
    async () =>
      (await reg.listStates()).filter((s) => s.systemdActiveState === "active").length ===
      Object.keys(UNITS).length,
    30_000,
  );

  // The dashboard gets its own client, as `npm run lab -- dashboard` gives it one.
  dashReg = new Registry(connect({ endpoints: etcd.endpoints }));
  dash = await serveDashboard(dashReg, { log: (l) => dashLog.push(l) });

  // A persistent context, because that is how playwright takes a user-data dir: a
  // fresh one in the test's temp dir, and its path marks this browser's processes.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 720 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // Loopback bypasses a proxy; anything else goes to a closed port here, so the
      // browser reaches nothing but the dashboard (test traffic stays on 127.0.0.1).
      "--proxy-server=127.0.0.1:9",
    ],
    // Chromium's crash handler keeps its database under $XDG_CONFIG_HOME/chromium and
    // outlives the browser's process tree: here both stay in the test's directory.
    env: { ...process.env, XDG_CONFIG_HOME: join(dir, "config") },
  });
  context.on("request", (r) => requested.push(r.url()));
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  await page.goto(dash.url);
});

afterAll(async () => {
  const browser = browserPids();
  await context?.close().catch(() => undefined);
  await killByPid(browser);
  await dash?.close();
  dashReg?.client.close();
  await Promise.all(agents.map((a) => a.kill()));
  reg?.client.close();
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Processes of this test's browser and its crash handlers: their command lines name the test's directory. */
function browserPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8").includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** A process's state letter from /proc (Z: exited, not yet reaped), or undefined when gone. */
function procState(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
  } catch {
    return undefined;
  }
}

/**
 * SIGKILL what is left of the browser after its orderly close, by PID, and wait until
 * none runs. Only processes whose command line still names the test's directory are
 * signalled (an exited PID may be reused); a zombie's is empty, so it counts as
 * stopped. The zygotes are reparented to PID 1 when the browser exits and reaped by it.
 */
async function killByPid(recorded: number[]): Promise<void> {
  for (const pid of browserPids()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited in between
    }
  }
  await waitFor("the browser's processes to exit", () => browserPids().length === 0, 10_000);
  // Give PID 1 a moment to reap them, so a pgrep right after the run finds nothing.
  await waitFor(
    "PID 1 to reap the browser",
    () => recorded.every((p) => !procState(p)),
    5_000,
  ).catch(() => undefined);
}

const inCard = (machine: string, unit: string) =>
  page.locator(`[data-machine="${machine}"] [data-unit="${unit}"]`);

/** Status code of a request to the dashboard with the given method and Host header. */
function status(method: string, host: string): Promise<number> {
  const u = new URL(dash!.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: "/", method, headers: { Host: host } },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Local addresses listening on `port`, from the kernel's table (hex, as /proc writes them). */
function listeners(port: number): string[] {
  const out: string[] = [];
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = existsSync(f) ? readFileSync(f, "utf8") : "";
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== "0A") continue; // 0A: LISTEN
      const [addr, p] = cols[1].split(":");
      if (parseInt(p, 16) === port) out.push(addr);
    }
  }
  return out;
}

test("the page lists the 3 machines and each unit on the machine the registry says", async () => {
  const machines = await reg.listMachines();
  await waitFor(
    "3 machine cards",
    async () => (await page.locator('[data-machine][data-present="true"]').count()) === 3,
    20_000,
    100,
  );
  for (const m of machines) {
    const text = await page.locator(`[data-machine="${m.id}"]`).innerText();
    expect(text).toContain(shortId(m.id));
    expect(text).toContain(m.primaryIP);
    expect(text).toContain(`rack=${m.metadata.rack}`);
  }
  const sched = await reg.listSchedule();
  expect(sched).toHaveLength(Object.keys(UNITS).length);
  for (const p of sched) {
    await waitFor(
      `${p.unit} shown active on ${p.machineID}`,
      async () => (await inCard(p.machineID, p.unit).getAttribute("data-tone")) === "ok",
      10_000,
    );
    expect(await page.locator(`[data-machine] [data-unit="${p.unit}"]`).count()).toBe(1);
    expect(await inCard(p.machineID, p.unit).innerText()).toMatch(/launched · active\/running/);
  }
  const reason = await waitFor(
    `the engine's reason for ${UNPLACEABLE}`,
    async () => (await reg.listReasons())[UNPLACEABLE],
  );
  await waitFor(
    `${UNPLACEABLE} under "not placed" with its reason`,
    async () =>
      (await page.locator(`#unplaced [data-unit="${UNPLACEABLE}"]`).innerText()).includes(reason),
    10_000,
  );
  expect(await page.locator(`[data-machine] [data-unit="${UNPLACEABLE}"]`).count()).toBe(0);
  // The policy allows exactly the page's own script and style: a refused one says so here.
  expect(consoleLines.filter((l) => /Content Security Policy|Refused/i.test(l))).toEqual([]);
});

test("no key material in the page, its source or its state", async () => {
  const sources = [
    await page.content(),
    await page.locator("body").innerText(),
    await (await fetch(dash!.url)).text(),
    await (await fetch(new URL("state.json", dash!.url))).text(),
  ];
  for (const s of sources) {
    expect(s).not.toMatch(/PRIVATE KEY|-----BEGIN|BIND_KEY/);
  }
});

test("127.0.0.1 only: a bad Host header is 403, POST is 405", async () => {
  const port = Number(new URL(dash!.url).port);
  expect(new URL(dash!.url).hostname).toBe("127.0.0.1");
  expect(listeners(port)).toEqual(["0100007F"]); // 127.0.0.1, and no other address
  expect(await status("GET", `127.0.0.1:${port}`)).toBe(200);
  expect(await status("GET", `rebind.example:${port}`)).toBe(403);
  expect(await status("POST", `127.0.0.1:${port}`)).toBe(405);
  // and the page itself asked for nothing but its own origin
  expect(requested.length).toBeGreaterThan(0);
  expect(requested.filter((u) => new URL(u).host !== `127.0.0.1:${port}`)).toEqual([]);
});

test("SIGKILL of the agent holding a unit: the page shows it on a survivor and that it moved", async () => {
  const leader = await reg.leader();
  const sched = await reg.listSchedule();
  // Not the engine leader: its failover also waits for a new leader, and that is
  // failover.test.ts's subject, not the page's.
  const victim = agents.find((a) => a.id !== leader && sched.some((p) => p.machineID === a.id))!;
  const units = sched.filter((p) => p.machineID === victim.id).map((p) => p.unit);
  const survivors = agents.filter((a) => a !== victim).map((a) => a.id);
  const killedAt = Date.now();
  await victim.kill("SIGKILL");

  // Bounded by the failover time: a lease TTL, then the engine's pass, then the
  // dashboard's debounced read and the browser's render.
  const limitMs = (DEFAULT_TIMING.leaseTTL + 20) * 1000;
  for (const unit of units) {
    const to = await waitFor(
      `the page to show ${unit} moved off ${shortId(victim.id)}`,
      async () => {
        const moved = page.locator(`#moved li[data-kind="moved"][data-unit="${unit}"]`);
        if ((await moved.count()) === 0) return false;
        for (const m of survivors) if ((await inCard(m, unit).count()) === 1) return m;
        return false;
      },
      limitMs,
      100,
    );
    const line = await page
      .locator(`#moved li[data-kind="moved"][data-unit="${unit}"]`)
      .first()
      .innerText();
    expect(line).toContain(`${unit} moved ${shortId(victim.id)} → ${shortId(to)}`);
    expect(line).toMatch(/^\d\d:\d\d:\d\d/);
    // The page agrees with the registry.
    const now = (await reg.listSchedule()).filter((p) => p.unit === unit);
    expect(now.map((p) => p.machineID)).toEqual([to]);
  }
  await waitFor(
    "the dead machine's card to go",
    async () => (await page.locator(`[data-machine="${victim.id}"]`).count()) === 0,
    limitMs,
  );
  expect(await page.locator("#moved").innerText()).toContain(`machine ${shortId(victim.id)} left`);
  console.log(
    `dashboard showed ${units.join(", ")} moved ${((Date.now() - killedAt) / 1000).toFixed(2)} s after SIGKILL (lease TTL ${DEFAULT_TIMING.leaseTTL} s)`,
  );

  mkdirSync(join(ROOT, "build"), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  expect(existsSync(SCREENSHOT)).toBe(true);
});

test("when the stream drops, the page says it is disconnected and retrying", async () => {
  await dash!.close();
  await waitFor(
    "the disconnected banner",
    async () => (await page.locator("#status").innerText()) === "disconnected — retrying",
    10_000,
  );
  expect(await page.locator("#status").getAttribute("data-state")).toBe("down");
  // the dashboard logged nothing while etcd and its watch were healthy
  expect(dashLog).toEqual([]);
});
