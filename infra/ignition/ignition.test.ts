import { ENVIRONMENTS, labSpecFromFile, LabSpec, NodeSpec } from "../config";
import {
  CA_PATH,
  decodeDataUrl,
  ETCD_UNIT,
  FLEET_AGENT_UNIT,
  IgnitionConfig,
  NODE_KEY_PATH,
  renderIgnition,
  serializeIgnition,
} from ".";

/** Stable stand-ins for the PEM material, so snapshots do not change per run. */
function placeholderTls(node: NodeSpec) {
  return {
    caCert: "<CA CERTIFICATE>\n",
    cert: `<CERTIFICATE ${node.name}>\n`,
    key: `<PRIVATE KEY ${node.name}>\n`,
  };
}

/** The config with file contents decoded: what a reviewer wants to read. */
function readable(ign: IgnitionConfig) {
  return {
    ...ign,
    storage: {
      ...ign.storage,
      files: ign.storage.files.map((f) => ({ ...f, contents: decodeDataUrl(f.contents.source) })),
    },
  };
}

const unit = (ign: IgnitionConfig, name: string) => ign.systemd.units.find((u) => u.name === name);

describe.each(ENVIRONMENTS)("Ignition of stack %s", (stack) => {
  const spec: LabSpec = labSpecFromFile(stack);

  it.each(spec.nodes.map((n) => [n.name, n] as const))("%s matches its snapshot", (_name, node) => {
    expect(readable(renderIgnition(spec, node, placeholderTls(node)))).toMatchSnapshot();
  });

  it("is byte-identical when rendered twice", () => {
    const node = spec.nodes[0];
    const a = serializeIgnition(renderIgnition(spec, node, placeholderTls(node)));
    expect(serializeIgnition(renderIgnition(spec, node, placeholderTls(node)))).toBe(a);
    expect(JSON.parse(a).ignition.version).toBe("3.3.0");
  });
});

describe("node Ignition content", () => {
  const spec = labSpecFromFile("faculty");
  const member = spec.nodes.find((n) => n.role === "etcd")!;
  const worker = spec.nodes.find((n) => n.role === "worker")!;
  const ign = renderIgnition(spec, member, placeholderTls(member));
  const files = new Map(ign.storage.files.map((f) => [f.path, f]));

  it("writes the private key with mode 0600 and the CA world-readable", () => {
    expect(files.get(NODE_KEY_PATH)?.mode).toBe(0o600);
    expect(files.get(CA_PATH)?.mode).toBe(0o644);
  });

  it("configures networkd for the node's MAC with a static address", () => {
    const network = decodeDataUrl(
      files.get("/etc/systemd/network/00-fleetlab.network")!.contents.source,
    );
    expect(network).toContain(`MACAddress=${member.mac}`);
    expect(network).toContain(`Address=${member.ip}/24`);
    expect(network).toContain(`Gateway=${spec.network.gateway}`);
  });

  it("gives core the SSH keys and enables Docker", () => {
    expect(ign.passwd.users).toEqual([{ name: "core", sshAuthorizedKeys: spec.sshKeys }]);
    expect(unit(ign, "docker.service")).toEqual({ name: "docker.service", enabled: true });
  });

  it("runs an etcd member with TLS for peers and clients and a static cluster", () => {
    const etcd = unit(ign, ETCD_UNIT)!.contents!;
    for (const flag of [
      "--client-cert-auth",
      "--peer-client-cert-auth",
      "--trusted-ca-file=",
      "--peer-trusted-ca-file=",
      "--net=host",
      // The join script picks new/existing before every start.
      "ExecStartPre=/opt/fleetlab/bin/etcd-join",
      "--env-file=/run/fleetlab/etcd-state.env",
    ]) {
      expect(etcd).toContain(flag);
    }
    expect(etcd).not.toContain("--initial-cluster-state");
    const join = ign.storage.files.find((f) => f.path === "/opt/fleetlab/bin/etcd-join")!;
    expect(join.mode).toBe(0o755);
    expect(decodeDataUrl(join.contents.source)).toContain(
      "--endpoints=https://10.40.0.12:2379,https://10.40.0.13:2379 ",
    );
    expect(etcd).toContain(
      `--initial-cluster=core-01=https://10.40.0.11:2380,core-02=https://10.40.0.12:2380,core-03=https://10.40.0.13:2380`,
    );
    expect(etcd).not.toMatch(/discovery/);
    expect(etcd).toContain(spec.etcd.image);
  });

  it("gives a worker an etcd client config and no member", () => {
    const w = renderIgnition(spec, worker, placeholderTls(worker));
    expect(unit(w, ETCD_UNIT)).toBeUndefined();
    const env = decodeDataUrl(
      w.storage.files.find((f) => f.path === "/etc/fleetlab/etcd.env")!.contents.source,
    );
    expect(env).toContain(
      "ETCDCTL_ENDPOINTS=https://10.40.0.11:2379,https://10.40.0.12:2379,https://10.40.0.13:2379",
    );
    // No member of its own: the worker's agent and sidekicks dial every member.
    expect(env).toContain(
      "FLEET_ETCD_ENDPOINTS=https://10.40.0.11:2379,https://10.40.0.12:2379,https://10.40.0.13:2379",
    );
    expect(unit(w, FLEET_AGENT_UNIT)!.contents).not.toContain(ETCD_UNIT);
  });

  it("runs the fleet agent with the contracted mounts and environment", () => {
    const agent = unit(ign, FLEET_AGENT_UNIT)!.contents!;
    expect(agent).toMatch(/Requires=docker\.service etcd-member\.service/);
    expect(agent).toContain("Restart=always");
    for (const part of [
      "-v /run/dbus/system_bus_socket:/run/dbus/system_bus_socket",
      "-v /run/fleet:/run/fleet",
      "-v /etc/fleetlab/tls:/etc/fleetlab/tls:ro",
      "-v /etc/machine-id:/etc/machine-id:ro",
      // A member's agent dials only its own member (see localEndpoints).
      "-e FLEET_ETCD_ENDPOINTS=https://127.0.0.1:2379",
      "-e FLEET_ETCD_CAFILE=/etc/fleetlab/tls/ca.pem",
      "-e FLEET_ETCD_CERTFILE=/etc/fleetlab/tls/node.pem",
      "-e FLEET_ETCD_KEYFILE=/etc/fleetlab/tls/node-key.pem",
      `-e FLEET_PUBLIC_IP=${member.ip}`,
      "-e FLEET_METADATA=role=etcd,lan=true,rack=a",
    ]) {
      expect(agent.replace(/ \\\n\s+/g, " ")).toContain(part);
    }
    expect(agent.replace(/ \\\n\s+/g, " ")).toMatch(/ghcr\.io\/fleetlab\/fleet:0\.1\.0 agent$/m);
    // The default lease TTL is the agent's own: no timing variables.
    expect(agent).not.toContain("FLEET_LEASE_TTL");
  });

  it("passes a longer fleet lease TTL to the agent with proportional renew and fence timings", () => {
    const slow: LabSpec = { ...spec, fleet: { ...spec.fleet, leaseTtlSec: 15 } };
    const agent = unit(
      renderIgnition(slow, member, placeholderTls(member)),
      FLEET_AGENT_UNIT,
    )!.contents!.replace(/ \\\n\s+/g, " ");
    for (const part of [
      "-e FLEET_LEASE_TTL=15",
      "-e FLEET_RENEW_MS=3000",
      "-e FLEET_FENCE_MARGIN_MS=4500",
      "-e FLEET_RECONCILE_MS=3000",
    ])
      expect(agent).toContain(part);
  });

  it("adds extra units and files, and refuses to redefine base ones", () => {
    const extra = renderIgnition(spec, member, placeholderTls(member), {
      units: [{ name: "x.service", contents: "[Service]\nExecStart=/bin/true\n" }],
    });
    expect(unit(extra, "x.service")).toBeDefined();
    expect(() =>
      renderIgnition(spec, member, placeholderTls(member), {
        units: [{ name: "docker.service", mask: true }],
      }),
    ).toThrow(/docker\.service is defined twice/);
  });
});
