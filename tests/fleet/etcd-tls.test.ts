// The production path to etcd: client TLS with node certificates, configured through
// the agent's env contract (FLEET_ETCD_* as Ignition sets them). etcd requires client
// certificates; a client without one gets nowhere.
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { Agent } from "../../fleet/agent/agent";
import { agentEnv, configFromEnv } from "../../fleet/agent/config";
import { AGENT_ENV } from "../../node/env";
import { RecordingSystemd } from "../../fleet/agent/systemd";
import { FleetService } from "../../fleet/api/service";
import { connect, Registry } from "../../fleet/registry/registry";
import { clientTlsCluster, EtcdCluster } from "./etcd";
import { waitFor } from "../support/wait";
import { machineID } from "./harness";

jest.setTimeout(90_000);

const dir = mkdtempSync(join(tmpdir(), "fleet-etcd-tls-"));
let etcd: EtcdCluster;
let agent: Agent | undefined;
let reg: Registry | undefined;

beforeAll(async () => {
  // The client certificate is named as Ignition names the node's (node.pem, node-key.pem).
  etcd = clientTlsCluster(dir, "node").etcd;
  await etcd.start();
});

afterAll(async () => {
  await agent?.stop({ stopUnits: true, revoke: true });
  reg?.client.close();
  await etcd.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("an agent configured from the env contract runs units over client-TLS etcd", async () => {
  // Ignition's files are /etc/fleetlab/tls/{ca,node,node-key}.pem; here the same names in a temp dir.
  const env = {
    ...agentEnv({
      endpoints: etcd.endpoints,
      publicIP: "127.0.0.9",
      metadata: { role: "etcd" },
      tlsDir: dir,
    }),
    [AGENT_ENV.machineIDFile]: join(dir, "machine-id"),
  };
  writeFileSync(join(dir, "machine-id"), machineID(9) + "\n");
  const cfg = configFromEnv(env);
  expect(cfg.etcd.caFile).toBe(join(dir, "ca.pem"));
  reg = new Registry(connect(cfg.etcd));
  const systemd = new RecordingSystemd(cfg.machineID);
  agent = new Agent(reg, systemd, cfg);
  await agent.start();
  await new FleetService(reg).putUnit("tls.service", {
    desiredState: "launched",
    options: [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }],
  });
  await waitFor("tls.service running", () => systemd.running().includes("tls.service"), 20_000);
  expect((await reg.listMachines())[0]).toEqual({
    id: machineID(9),
    primaryIP: "127.0.0.9",
    metadata: { role: "etcd" },
  });
});

test("a client without a certificate is refused by etcd", async () => {
  const anon = connect({ endpoints: etcd.endpoints, caFile: join(dir, "ca.pem") });
  try {
    const err = await anon
      .get("/fleetlab/fleet/units/tls.service")
      .string()
      .catch((e: Error) => e);
    // the TLS handshake fails: etcd demands a client certificate
    expect(String(err)).toMatch(/alert bad certificate/);
  } finally {
    anon.close();
  }
});
