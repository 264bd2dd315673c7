// Entrypoint: `agent` runs a node's agent (+ engine candidate + local API) from
// the environment (see agent/config.ts); anything else is a fleetctl command.
import { Agent } from "./agent/agent";
import { configFromEnv } from "./agent/config";
import { DbusSystemd } from "./agent/dbus";
import { RecordingSystemd, SystemdAdapter } from "./agent/systemd";
import { serveApi } from "./api/server";
import { FleetService } from "./api/service";
import { runCli } from "./cli/fleetctl";
import { connect, Registry } from "./registry/registry";

export async function runAgent(env: NodeJS.ProcessEnv): Promise<void> {
  const cfg = configFromEnv(env);
  const log = (m: string) => console.log(`${new Date().toISOString()} ${m}`);
  let tcp;
  if (cfg.apiListen) {
    if (!cfg.apiTLS?.keyFile || !cfg.apiTLS.caFile)
      throw new Error(
        "FLEET_API_LISTEN needs FLEET_API_CERTFILE, FLEET_API_KEYFILE and FLEET_API_CAFILE",
      );
    const [host, port] = cfg.apiListen.split(/:(?=\d+$)/);
    tcp = { host, port: Number(port), ...cfg.apiTLS };
  }
  const reg = new Registry(connect(cfg.etcd));
  const systemd: SystemdAdapter =
    cfg.systemd === "recording"
      ? new RecordingSystemd(cfg.machineID, cfg.recordLog)
      : new DbusSystemd(cfg.unitDir);
  const agent = new Agent(reg, systemd, { ...cfg, log });
  // The API first: it reads the registry, so it answers (other machines, units) while
  // this agent is still registering, and a waiting client sees etcd's state, not a
  // refused connection. Then the handlers: node as a container's PID 1 ignores a
  // SIGTERM it does not handle, and registering may take a while.
  const api = await serveApi(new FleetService(reg), { socket: cfg.socket, tcp });
  const shutdown = async () => {
    // A clean shutdown stops the units and revokes the lease, so the engine moves
    // them at once instead of after a TTL.
    await agent.stop({ stopUnits: true, revoke: true });
    await api.close();
    await systemd.close?.();
    reg.client.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
  await agent.start();
  log(
    `agent ${cfg.machineID} up; API on ${cfg.socket}${tcp ? ` and https://${cfg.apiListen}` : ""}`,
  );
}

if (require.main === module) {
  const [cmd, ...rest] = process.argv.slice(2);
  const run =
    cmd === "agent" ? runAgent(process.env) : runCli([cmd, ...rest].filter(Boolean), process.env);
  run.catch((e: Error) => {
    console.error(`fleet: ${e.message}`);
    process.exit(1);
  });
}
