// The agent's configuration: read from its environment (configFromEnv) on the node, and
// written for the node (agentEnv) by Ignition, so both sides use one list of names.
import { readFileSync } from "fs";
import { AGENT_ENV } from "../../node/env";
import { labImage } from "../../node/images";
import { CA_FILE, NODE_CERT_FILE, NODE_KEY_FILE, TLS_DIR } from "../../node/paths";
import { EtcdConfig } from "../registry/registry";
import { watchdogTimingProblem } from "./watchdog";

export const DEFAULT_IMAGE = labImage("fleet");
export const DEFAULT_SOCKET = "/run/fleet/fleet.sock";
export const DEFAULT_UNIT_DIR = "/run/fleet/units";

/**
 * The Node.js flags the agent runs with: fleet/Dockerfile's ENTRYPOINT (config.test.ts
 * holds them equal) and the failover benchmark's agents. --lite-mode runs V8 without its
 * optimizing compiler: the agent waits on etcd and D-Bus and computes little, and it
 * kept 55 MiB resident instead of 64-72, for the same CPU time (measured beside
 * bench:failover). Lite mode also turns WebAssembly off, which the agent does not use
 * (its two `long` copies fall back to plain JS; it never calls fetch, whose parser is
 * WebAssembly); saying so with --no-expose-wasm spares the image's Node.js 18 a warning
 * on every start.
 */
export const AGENT_NODE_FLAGS = ["--lite-mode", "--no-expose-wasm"];

/**
 * Lab timings: failover = TTL (expiry) + ~1 s reconcile, well under 10 s. The periodic
 * reconcile (agent and engine) is only a safety net behind etcd watches, but each pass
 * costs a few etcd requests: on an emulated VM that is real CPU, so it scales too.
 */
export const DEFAULT_TIMING = {
  leaseTTL: 5,
  renewMs: 1000,
  fenceMarginMs: 1500,
  reconcileMs: 1000,
  /** how often the host-side watcher looks at the agent's deadline (watchdog.ts) */
  watchdogPollMs: 250,
};

/**
 * The timings for another TTL, in the default's proportions: renew 5 times per TTL,
 * fence after 70% of it without a renewal (the margin leaves the victim time to stop
 * its units before the lease can expire and the engine moves them).
 */
export function timingForTtl(leaseTTL: number): typeof DEFAULT_TIMING {
  const scale = leaseTTL / DEFAULT_TIMING.leaseTTL;
  return {
    leaseTTL,
    renewMs: Math.round(DEFAULT_TIMING.renewMs * scale),
    fenceMarginMs: Math.round(DEFAULT_TIMING.fenceMarginMs * scale),
    reconcileMs: Math.round(DEFAULT_TIMING.reconcileMs * scale),
    watchdogPollMs: Math.round(DEFAULT_TIMING.watchdogPollMs * scale),
  };
}

export interface AgentConfig {
  etcd: EtcdConfig;
  machineID: string;
  publicIP: string;
  metadata: Record<string, string>;
  leaseTTL: number;
  renewMs: number;
  fenceMarginMs: number;
  /** the agent's and engine's periodic reconcile (watches trigger the rest) */
  reconcileMs: number;
  /** the host-side watcher's poll (watchdog.ts), which the agent's deadline allows for */
  watchdogPollMs: number;
  unitDir: string;
  socket: string;
  apiListen?: string;
  apiTLS?: { certFile: string; keyFile: string; caFile: string };
  systemd: "dbus" | "recording";
  recordLog?: string;
  /**
   * systemd unit of the agent itself (e.g. fleet-agent.service): every unit file
   * gets BindsTo=/After= on it, so if the agent process dies while the machine
   * lives, systemd stops its units too — fencing cannot run in a dead process.
   */
  bindsTo?: string;
  /**
   * heartbeat for the host-side watcher (watchdog.ts), rewritten after each successful
   * renewal; with it, the timings are checked against the watcher's rule at start
   */
  heartbeatFile?: string;
  /** the engine moves units to machines with fewer (scheduler.ts rebalance); off in fleet */
  rebalance: boolean;
}

/** "role=etcd,lan=true" -> {role: "etcd", lan: "true"} */
export function parseMetadata(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of s
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq <= 0)
      throw new Error(
        `${AGENT_ENV.metadata}: ${JSON.stringify(pair)} is not key=value (example: role=etcd,lan=true)`,
      );
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function num(env: NodeJS.ProcessEnv, key: string, def: number): number {
  const v = env[key];
  if (v === undefined || v === "") return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${key}=${v} must be a positive number`);
  return n;
}

/** Build the agent config from the environment (pure apart from reading the machine-id file). */
export function configFromEnv(
  env: NodeJS.ProcessEnv,
  readFile = (p: string) => readFileSync(p, "utf8"),
): AgentConfig {
  const endpoints = (env[AGENT_ENV.endpoints] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (!endpoints.length)
    throw new Error(
      `${AGENT_ENV.endpoints} is empty: set it to the etcd client URLs, e.g. https://10.0.0.1:2379`,
    );
  const machineID = readFile(env[AGENT_ENV.machineIDFile] ?? "/etc/machine-id").trim();
  if (!/^[0-9a-f]{32}$/.test(machineID))
    throw new Error(`machine ID ${JSON.stringify(machineID)} is not 32 hex digits`);
  const t = {
    leaseTTL: num(env, AGENT_ENV.leaseTTL, DEFAULT_TIMING.leaseTTL),
    renewMs: num(env, AGENT_ENV.renewMs, DEFAULT_TIMING.renewMs),
    fenceMarginMs: num(env, AGENT_ENV.fenceMarginMs, DEFAULT_TIMING.fenceMarginMs),
    reconcileMs: num(env, AGENT_ENV.reconcileMs, DEFAULT_TIMING.reconcileMs),
  };
  if (t.renewMs * 2 + t.fenceMarginMs >= t.leaseTTL * 1000) {
    throw new Error(
      `timings: ${AGENT_ENV.renewMs}*2 + ${AGENT_ENV.fenceMarginMs} must stay below ${AGENT_ENV.leaseTTL}*1000 so fencing can act before expiry`,
    );
  }
  // The watcher's poll follows the TTL, as Ignition renders the watcher's arguments.
  const watchdog = { watchdogPollMs: timingForTtl(t.leaseTTL).watchdogPollMs };
  const heartbeatFile = env[AGENT_ENV.heartbeatFile] || undefined;
  const problem = heartbeatFile && watchdogTimingProblem({ ...t, ...watchdog });
  if (problem) throw new Error(`timings (${AGENT_ENV.leaseTTL}): ${problem}`);
  const apiCert = env[AGENT_ENV.apiCert];
  const rebalance = env[AGENT_ENV.rebalance] ?? "false";
  if (!/^(true|false)$/.test(rebalance))
    throw new Error(`${AGENT_ENV.rebalance}=${rebalance} must be true or false`);
  return {
    etcd: {
      endpoints,
      caFile: env[AGENT_ENV.caFile],
      certFile: env[AGENT_ENV.certFile],
      keyFile: env[AGENT_ENV.keyFile],
    },
    machineID,
    publicIP: env[AGENT_ENV.publicIP] ?? "127.0.0.1",
    metadata: parseMetadata(env[AGENT_ENV.metadata] ?? ""),
    ...t,
    ...watchdog,
    unitDir: env[AGENT_ENV.unitDir] ?? DEFAULT_UNIT_DIR,
    socket: env[AGENT_ENV.socket] ?? DEFAULT_SOCKET,
    apiListen: env[AGENT_ENV.apiListen],
    apiTLS: apiCert
      ? {
          certFile: apiCert,
          keyFile: env[AGENT_ENV.apiKey] ?? "",
          caFile: env[AGENT_ENV.apiCA] ?? "",
        }
      : undefined,
    systemd: env[AGENT_ENV.systemd] === "recording" ? "recording" : "dbus",
    recordLog: env[AGENT_ENV.recordLog],
    bindsTo: env[AGENT_ENV.bindsTo] || undefined,
    heartbeatFile,
    rebalance: rebalance === "true",
  };
}

/** What a node's Ignition sets in the agent's environment, as typed values. */
export interface AgentEnvValues {
  endpoints: string[];
  publicIP: string;
  /** fleet metadata, written k=v joined by commas in this order */
  metadata: Record<string, string>;
  /** the node's TLS directory (CA, node cert and key); the node contract's by default */
  tlsDir?: string;
  /** the unit the agent binds its units to (so they stop when the agent dies) */
  bindsTo?: string;
  /** where the agent writes its deadline for the host-side watcher (watchdog.ts) */
  heartbeatFile?: string;
  /** lease timings other than the agent's defaults */
  timing?: Pick<typeof DEFAULT_TIMING, "leaseTTL" | "renewMs" | "fenceMarginMs" | "reconcileMs">;
  /** host:port of the TCP API, served with the node's cert to clients of the lab CA */
  apiListen?: string;
  /** the engine rebalances (written only when true, so other labs' Ignition stays the same) */
  rebalance?: boolean;
}

/**
 * The agent's environment on a node, in the order Ignition writes it; the one place
 * that turns typed values into the names configFromEnv reads back.
 */
export function agentEnv(v: AgentEnvValues): Record<string, string> {
  const tls = v.tlsDir ?? TLS_DIR;
  const [ca, cert, key] = [CA_FILE, NODE_CERT_FILE, NODE_KEY_FILE].map((f) => `${tls}/${f}`);
  const env: Record<string, string> = {
    [AGENT_ENV.endpoints]: v.endpoints.join(","),
    [AGENT_ENV.caFile]: ca,
    [AGENT_ENV.certFile]: cert,
    [AGENT_ENV.keyFile]: key,
    [AGENT_ENV.publicIP]: v.publicIP,
    [AGENT_ENV.metadata]: Object.entries(v.metadata)
      .map(([k, val]) => `${k}=${val}`)
      .join(","),
  };
  if (v.bindsTo) env[AGENT_ENV.bindsTo] = v.bindsTo;
  if (v.heartbeatFile) env[AGENT_ENV.heartbeatFile] = v.heartbeatFile;
  if (v.timing) {
    env[AGENT_ENV.leaseTTL] = String(v.timing.leaseTTL);
    env[AGENT_ENV.renewMs] = String(v.timing.renewMs);
    env[AGENT_ENV.fenceMarginMs] = String(v.timing.fenceMarginMs);
    env[AGENT_ENV.reconcileMs] = String(v.timing.reconcileMs);
  }
  if (v.rebalance) env[AGENT_ENV.rebalance] = "true";
  if (v.apiListen) {
    env[AGENT_ENV.apiListen] = v.apiListen;
    env[AGENT_ENV.apiCert] = cert;
    env[AGENT_ENV.apiKey] = key;
    env[AGENT_ENV.apiCA] = ca;
  }
  return env;
}
