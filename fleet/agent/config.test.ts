import { readFileSync } from "fs";
import { join } from "path";
import {
  AGENT_NODE_FLAGS,
  agentEnv,
  configFromEnv,
  DEFAULT_TIMING,
  parseMetadata,
  timingForTtl,
} from "./config";
import { AGENT_ENV } from "../../node/env";
import { withBinding } from "./agent";
import { serializeUnit } from "../unit";

const id = "0123456789abcdef0123456789abcdef";
const read = () => id + "\n";

test("config from the Ignition env contract, with lab timing defaults", () => {
  const env = agentEnv({
    endpoints: ["https://10.1.0.2:2379", "https://10.1.0.3:2379"],
    publicIP: "10.1.0.2",
    metadata: { role: "etcd", lan: "true" },
  });
  expect(env).toMatchObject({
    FLEET_ETCD_ENDPOINTS: "https://10.1.0.2:2379,https://10.1.0.3:2379",
    FLEET_METADATA: "role=etcd,lan=true",
    FLEET_ETCD_CAFILE: "/etc/fleetlab/tls/ca.pem",
  });
  const cfg = configFromEnv(env, read);
  expect(cfg).toMatchObject({
    machineID: id,
    publicIP: "10.1.0.2",
    metadata: { role: "etcd", lan: "true" },
    ...DEFAULT_TIMING,
    systemd: "dbus",
    socket: "/run/fleet/fleet.sock",
  });
  expect(cfg.etcd).toEqual({
    endpoints: ["https://10.1.0.2:2379", "https://10.1.0.3:2379"],
    caFile: "/etc/fleetlab/tls/ca.pem",
    certFile: "/etc/fleetlab/tls/node.pem",
    keyFile: "/etc/fleetlab/tls/node-key.pem",
  });
});

test("config errors name the variable and the fix", () => {
  expect(() => configFromEnv({}, read)).toThrow(/FLEET_ETCD_ENDPOINTS is empty/);
  const base = { [AGENT_ENV.endpoints]: "http://127.0.0.1:2379" };
  expect(() => configFromEnv(base, () => "uninitialized")).toThrow(/not 32 hex digits/);
  expect(() => configFromEnv({ ...base, FLEET_LEASE_TTL: "abc" }, read)).toThrow(
    /FLEET_LEASE_TTL=abc must be a positive number/,
  );
  expect(() => configFromEnv({ ...base, FLEET_LEASE_TTL: "2" }, read)).toThrow(
    /fencing can act before expiry/,
  );
  const hb = { ...base, [AGENT_ENV.heartbeatFile]: "/run/fleet/heartbeat" };
  // Within the agent's own rule (2 x 150 + 4600 < 5000), but the watcher's deadline
  // would leave a healthy agent no renewal interval: 5000 - 4600 - 250 = 150.
  const tight = { [AGENT_ENV.fenceMarginMs]: "4600", [AGENT_ENV.renewMs]: "150" };
  expect(configFromEnv({ ...base, ...tight }, read)).toMatchObject({ fenceMarginMs: 4600 });
  expect(() => configFromEnv({ ...hb, ...tight }, read)).toThrow(
    /timings \(FLEET_LEASE_TTL\): TTL - margin - the watcher's poll = 150 ms must exceed the renewal interval of 150 ms/,
  );
  expect(configFromEnv(hb, read)).toMatchObject({
    watchdogPollMs: 250,
    heartbeatFile: hb[AGENT_ENV.heartbeatFile],
  });
  expect(() => parseMetadata("role")).toThrow(/FLEET_METADATA: "role" is not key=value/);
});

test("rebalancing is off unless the lab turns it on, and the variable is written only then", () => {
  const base = { endpoints: ["https://10.1.0.2:2379"], publicIP: "10.1.0.2", metadata: {} };
  expect(agentEnv(base)).not.toHaveProperty(AGENT_ENV.rebalance);
  expect(configFromEnv(agentEnv(base), read).rebalance).toBe(false);
  const on = agentEnv({ ...base, rebalance: true });
  expect(on[AGENT_ENV.rebalance]).toBe("true");
  expect(configFromEnv(on, read).rebalance).toBe(true);
  expect(() => configFromEnv({ ...on, [AGENT_ENV.rebalance]: "yes" }, read)).toThrow(
    /FLEET_REBALANCE=yes must be true or false/,
  );
});

test("units written for systemd can be bound to the agent's own unit", () => {
  const opts = [{ section: "Service", name: "ExecStart", value: "/bin/true" }];
  expect(withBinding(opts)).toBe(opts);
  expect(serializeUnit(withBinding(opts, "fleet-agent.service"))).toBe(
    "[Unit]\nBindsTo=fleet-agent.service\nAfter=fleet-agent.service\n\n[Service]\nExecStart=/bin/true\n",
  );
});

describe("timingForTtl", () => {
  it("keeps the default's proportions: 5 renewals per TTL, fencing at 70% of it", () => {
    expect(timingForTtl(DEFAULT_TIMING.leaseTTL)).toEqual(DEFAULT_TIMING);
    expect(timingForTtl(15)).toEqual({
      leaseTTL: 15,
      renewMs: 3000,
      fenceMarginMs: 4500,
      reconcileMs: 3000,
      watchdogPollMs: 750,
    });
    const t = timingForTtl(2);
    expect(t.leaseTTL * 1000 - t.fenceMarginMs).toBeGreaterThan(t.renewMs);
  });
});

test("the agent image runs Node.js with AGENT_NODE_FLAGS, the flags the failover benchmark measures", () => {
  const dockerfile = readFileSync(join(__dirname, "..", "Dockerfile"), "utf8");
  const entry = /^ENTRYPOINT (.*)$/m.exec(dockerfile);
  expect(entry).not.toBeNull();
  expect(JSON.parse(entry![1])).toEqual([
    "node",
    ...AGENT_NODE_FLAGS,
    "/usr/lib/fleet/lib/fleet.js",
  ]);
});
