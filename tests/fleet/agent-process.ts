// Run an agent as a separate OS process (fleet/main.ts agent) so a test can SIGKILL it.
import { ChildProcess, spawn } from "child_process";
import { writeFileSync } from "fs";
import { join } from "path";
import { AGENT_ENV } from "../../node/env";
import { machineID } from "./harness";

const ROOT = join(__dirname, "..", "..");

export interface AgentProcess {
  id: string;
  proc: ChildProcess;
  socket: string;
  output: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnAgent(
  n: number,
  dir: string,
  endpoints: string[],
  extra: {
    metadata?: string;
    logFile: string;
    timing?: { leaseTTL: number; renewMs: number; fenceMarginMs: number };
    /**
     * The agent's argv after node: default fleet/main.ts through ts-node; the
     * benchmark runs the bundle the nodes run (build/fleet-image/lib/fleet.js).
     */
    entry?: string[];
    /** more of the agent's environment (e.g. FLEET_REBALANCE) */
    env?: Record<string, string>;
  },
): AgentProcess {
  const id = machineID(n);
  const idFile = join(dir, `machine-id-${n}`);
  writeFileSync(idFile, id + "\n");
  const socket = join(dir, `fleet-${n}.sock`);
  const t = extra.timing;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TS_NODE_TRANSPILE_ONLY: "1",
    [AGENT_ENV.endpoints]: endpoints.join(","),
    [AGENT_ENV.machineIDFile]: idFile,
    [AGENT_ENV.publicIP]: `127.0.0.${n + 1}`,
    [AGENT_ENV.metadata]: extra.metadata ?? "",
    [AGENT_ENV.socket]: socket,
    [AGENT_ENV.systemd]: "recording",
    [AGENT_ENV.recordLog]: extra.logFile,
    ...(t
      ? {
          [AGENT_ENV.leaseTTL]: String(t.leaseTTL),
          [AGENT_ENV.renewMs]: String(t.renewMs),
          [AGENT_ENV.fenceMarginMs]: String(t.fenceMarginMs),
        }
      : {}),
    ...extra.env,
  };
  const proc = spawn(
    process.execPath,
    [...(extra.entry ?? ["-r", "ts-node/register", join(ROOT, "fleet", "main.ts")]), "agent"],
    { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  const output: string[] = [];
  proc.stdout!.on("data", (d: Buffer) => output.push(d.toString()));
  proc.stderr!.on("data", (d: Buffer) => output.push(d.toString()));
  return {
    id,
    proc,
    socket,
    output,
    kill: async (signal = "SIGKILL") => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill(signal);
      await exited;
    },
  };
}
