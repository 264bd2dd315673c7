// Entry point of the sidekick container: `sidekick <dhcp|www|ldap>` feeds a running
// service; `sidekick warm <dhcp|www|ldap>` keeps hot standby's rendered copy of the
// data set up to date and touches no daemon. etcd connection from the node's etcd.env
// (FLEET_ETCD_* variables, see node/env.ts); the rest from FLEETLAB_* variables set
// by the unit.
import { Etcd3 } from "etcd3";
import { readFileSync } from "fs";
import { AGENT_ENV } from "../../node/env";
import { APPLIERS, ApplyContext, WARM_RENDERERS } from "./appliers";
import { runSidekick } from "./watch";

function env(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === "") {
    console.error(
      `sidekick: environment variable ${name} is not set; set it in the unit (see units/)`,
    );
    process.exit(2);
  }
  return v;
}

/** nginx writes its master's PID here; the sidekick shares the service's PID namespace. */
function pidFromFile(pidFile: string): () => number {
  return () => Number(readFileSync(pidFile, "utf8").trim());
}

async function main(): Promise<void> {
  const warm = process.argv[2] === "warm";
  const set = process.argv[warm ? 3 : 2];
  const apply = (warm ? WARM_RENDERERS : APPLIERS)[set];
  if (!apply) {
    const sets = Object.keys(APPLIERS).join("|");
    console.error(`usage: sidekick <${sets}>, or sidekick warm <${sets}>`);
    process.exit(2);
  }
  const dir = env("FLEETLAB_RUN", `/run/fleetlab/${set}`);
  const tls = process.env[AGENT_ENV.caFile];
  const client = new Etcd3({
    hosts: env(AGENT_ENV.endpoints).split(","),
    credentials: tls
      ? {
          rootCertificate: readFileSync(tls),
          certChain: readFileSync(env(AGENT_ENV.certFile)),
          privateKey: readFileSync(env(AGENT_ENV.keyFile)),
        }
      : undefined,
  });
  const ctx: ApplyContext = {
    hostDir: dir,
    // A warm copy is rendered in a directory of its own, for the paths the service's
    // container will see once the copy is in its run directory.
    containerDir: warm ? env("FLEETLAB_SERVICE_RUN") : dir,
    // Comma-separated names, `auto` (the interfaces with an address in the DHCP data's
    // subnet, resolved at each render: containers/dhcp/interfaces.ts) or Kea's `*`.
    // The dhcp unit sets it (auto by default); `*` only when run by hand without it.
    interfaces: env("FLEETLAB_DHCP_INTERFACES", "*").split(","),
    port: Number(env("FLEETLAB_WWW_PORT", "8080")),
    nginxMaster: pidFromFile(`${dir}/nginx.pid`),
    log: (m) => console.log(m),
  };
  const sk = await runSidekick(client, set, apply, ctx);
  const stop = async () => {
    await sk.stop();
    client.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e) => {
  console.error(`sidekick: ${(e as Error).message}`);
  process.exit(1);
});
