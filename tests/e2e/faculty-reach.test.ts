// The faculty topology without VMs: a KVM server namespace (its own libvirtd and an
// sshd on its veth address, the lab's NATed network only there, a "node" namespace
// plugged into that network's bridge with a real etcd over TLS and an sshd) and a
// management namespace whose only route is the server's SSH address. From the
// management side, the program's own code: the remote host checks (each bad input a
// clear error), the lab network created and deleted over qemu+ssh, and infra/reach's
// tunnel carrying SSH readiness and etcd to the node. The ssh on PATH there is the real
// OpenSSH client with a config of the test's (known_hosts of its own), nothing else.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { makeCA, makeCert } from "../fleet/tls";
import { waitFor } from "../support/wait";
import { curlStatusArgs } from "../support/curl";
import type { ReachCase, ReachInput } from "./faculty-reach-main";
import { createNetns, Daemon, deleteNetns, Netns, startDaemon, stopDaemon } from "./netns";
import { createFacultyNet, sh, type FacultyNet } from "./faculty-net";

jest.setTimeout(5 * 60_000);

const SFX = String(process.pid % 100000);
const SERVER = "10.251.0.1";
const LAB = { name: `fl-reach-${SFX}`, gateway: "10.41.0.1", netmask: "255.255.255.0" };
const NODE_IP = "10.41.0.11";
const POOL = `fl-reach-${SFX}`;
const REPO = path.join(__dirname, "..", "..");

let tmp: string;
let srv: Netns;
let mgmt: Netns;
let node: Netns;
let net: FacultyNet;
const nodeDaemons: Daemon[] = [];
let bridge = "";

/** One step of the management side, inside the management namespace. */
function mgmtStep(input: ReachInput): Record<string, unknown> {
  const r = spawnSync(
    "ip",
    [
      "netns",
      "exec",
      mgmt.name,
      process.execPath,
      "-r",
      "ts-node/register/transpile-only",
      path.join(__dirname, "faculty-reach-main.ts"),
      JSON.stringify(input),
    ],
    {
      cwd: REPO,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, PATH: `${input.sshBin}:${process.env.PATH}` },
    },
  );
  const last = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  let out: Record<string, unknown>;
  try {
    out = JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`management step ${input.step} printed no result (${r.status}): ${r.stderr}`);
  }
  if (out.error) throw new Error(`management step ${input.step}: ${String(out.error)}`);
  return out;
}

let input: ReachInput;

/** A process that still runs (a zombie no one reaped holds no connection: not alive). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-reach-"));
  fs.chmodSync(tmp, 0o755);
  net = await createFacultyNet(tmp, SFX);
  ({ srv, mgmt } = net);
  node = createNetns(`fl-node-${SFX}`);
  fs.appendFileSync(path.join(tmp, "known_hosts"), `[${SERVER}]:2222 ${net.pub("host_key")}\n`);
  fs.writeFileSync(
    path.join(tmp, "known_hosts.changed"),
    `${SERVER} ${net.pub("other_host_key")}\n`,
  );
  fs.writeFileSync(path.join(tmp, "known_hosts.empty"), "");
  // A second sshd whose sessions find no programs: a server without virsh. It also
  // leaves GatewayPorts at sshd's default (no).
  net.sshd("sshd-nopath", `${SERVER}:2222`, ["SetEnv PATH=/nonexistent"]);
  const poolDir = path.join(tmp, "pool");
  sh("virsh", [
    "-q",
    "-c",
    "qemu:///system",
    "pool-define-as",
    "--name",
    POOL,
    "--type",
    "dir",
    "--target",
    poolDir,
  ]);
  sh("virsh", ["-q", "-c", "qemu:///system", "pool-build", "--", POOL]);
  sh("virsh", ["-q", "-c", "qemu:///system", "pool-start", "--", POOL]);

  makeCA(tmp, "ca");
  makeCert(tmp, "ca", "node", `IP:${NODE_IP},IP:127.0.0.1`);
  const registry = makeCert(tmp, "ca", "registry", `IP:${LAB.gateway},IP:127.0.0.1`);
  const admin = makeCert(tmp, "ca", "admin");
  const good = net.sshBin("good", path.join(tmp, "known_hosts"));
  const cases: ReachCase[] = [
    { label: "good", uri: net.uri(), pool: POOL, sshBin: good },
    { label: "wrong key", uri: net.uri({ port: 22, key: "other_id" }), pool: POOL, sshBin: good },
    {
      label: "wrong user",
      uri: net.uri({ port: 22, key: "id", user: "fl-no-user" }),
      pool: POOL,
      sshBin: good,
    },
    {
      label: "unknown host key",
      uri: net.uri(),
      pool: POOL,
      sshBin: net.sshBin("empty", path.join(tmp, "known_hosts.empty")),
    },
    {
      label: "changed host key",
      uri: net.uri(),
      pool: POOL,
      sshBin: net.sshBin("changed", path.join(tmp, "known_hosts.changed")),
    },
    { label: "no answer", uri: net.uri({ port: 2299 }), pool: POOL, sshBin: good },
    { label: "no virsh", uri: net.uri({ port: 2222 }), pool: POOL, sshBin: good },
    { label: "no pool", uri: net.uri(), pool: "fl-no-such-pool", sshBin: good },
    { label: "no bridge", uri: net.uri(), pool: POOL, bridge: "br-nope", sshBin: good },
  ];
  input = {
    step: "setup",
    uri: net.uri(),
    network: LAB,
    cases,
    sshBin: good,
    node: {
      ip: NODE_IP,
      etcdUrl: `https://${NODE_IP}:2379`,
      ca: path.join(tmp, "ca.pem"),
      cert: admin.cert,
      key: admin.key,
    },
    registry: {
      dir: path.join(tmp, "registry"),
      badDir: path.join(tmp, "registry-bad"),
      cert: registry.cert,
      key: registry.key,
      badUri: net.uri({ port: 2222 }),
    },
  };
});

afterAll(async () => {
  await Promise.all(nodeDaemons.map((d) => stopDaemon(d)));
  spawnSync("virsh", ["-q", "-c", "qemu:///system", "net-destroy", "--", LAB.name]);
  spawnSync("virsh", ["-q", "-c", "qemu:///system", "net-undefine", "--", LAB.name]);
  spawnSync("virsh", ["-q", "-c", "qemu:///system", "pool-destroy", "--", POOL]);
  spawnSync("virsh", ["-q", "-c", "qemu:///system", "pool-undefine", "--", POOL]);
  await net?.close();
  if (node) deleteNetns(node.name);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("the management namespace reaches the server's SSH and has no route to the lab subnet", () => {
  expect(mgmt.exec("ip", ["route", "get", SERVER]).status).toBe(0);
  const lab = mgmt.exec("ip", ["route", "get", NODE_IP]);
  expect(lab.status).not.toBe(0);
  expect(lab.stderr).toMatch(/unreachable/i);
});

describe("through the KVM server", () => {
  let checks: Record<string, string> = {};

  test("the remote host checks pass on a good server, and the lab network is created over qemu+ssh", () => {
    const out = mgmtStep({ ...input, step: "setup" });
    checks = out.checks as Record<string, string>;
    bridge = String(out.bridge);
    expect(checks.good).toBe("ok");
    expect(bridge).toMatch(/^virbr\d+$/);
    // The network exists on the server only.
    expect(srv.exec("ip", ["-o", "addr", "show", "dev", bridge]).stdout).toContain(
      `${LAB.gateway}/24`,
    );
    expect(mgmt.exec("ip", ["-o", "link", "show", "dev", bridge]).status).not.toBe(0);
  });

  test.each([
    ["wrong key", /fleetlab:hypervisor\.uri = .*refused the login.*authorized_keys/],
    [
      "wrong user",
      /fleetlab:hypervisor\.uri = qemu\+ssh:\/\/fl-no-user@.*refused the login.*check the user in the URI/,
    ],
    [
      "unknown host key",
      /host key of 10\.251\.0\.1 is not in known_hosts.*never skips the check.*ssh-keyscan 10\.251\.0\.1/,
    ],
    ["changed host key", /does not match known_hosts.*ssh-keygen -R 10\.251\.0\.1/],
    ["no answer", /10\.251\.0\.1 \(port 2299\) does not answer on SSH.*check the host and port/],
    ["no virsh", /port 2222.*has no virsh: install libvirt there/],
    [
      "no pool",
      /fleetlab:hypervisor\.pool = fl-no-such-pool: no such storage pool on 10\.251\.0\.1 \(it has: .*fl-reach-.*\).*pool-define-as/,
    ],
    [
      "no bridge",
      /fleetlab:hypervisor\.bridge = br-nope: no such interface on 10\.251\.0\.1 \(its bridges: [^)]*\); name one of them/,
    ],
  ])("bad input: %s is a clear error naming the key and the fix", (label, message) => {
    expect(checks[label]).toMatch(message);
  });

  test("SSH readiness and etcd over TLS reach the node through the tunnel, opened again when it drops, and ended with the run", async () => {
    // The node: a namespace on the lab network's bridge, on the server's side only.
    sh("ip", ["link", "add", `flN${SFX}`, "type", "veth", "peer", "name", `flB${SFX}`]);
    sh("ip", ["link", "set", `flN${SFX}`, "netns", node.name]);
    sh("ip", ["link", "set", `flB${SFX}`, "netns", srv.name]);
    sh("ip", ["-n", srv.name, "link", "set", `flB${SFX}`, "master", bridge, "up"]);
    sh("ip", ["-n", node.name, "addr", "add", `${NODE_IP}/24`, "dev", `flN${SFX}`]);
    sh("ip", ["-n", node.name, "link", "set", `flN${SFX}`, "up"]);
    sh("ip", ["-n", node.name, "route", "add", "default", "via", LAB.gateway]);
    nodeDaemons.push(
      net.sshd("node-sshd", `${NODE_IP}:22`, [], node),
      startDaemon(
        node,
        "etcd",
        [
          "--name=node",
          `--data-dir=${tmp}/etcd`,
          `--listen-client-urls=https://${NODE_IP}:2379`,
          `--advertise-client-urls=https://${NODE_IP}:2379`,
          `--cert-file=${tmp}/node.pem`,
          `--key-file=${tmp}/node-key.pem`,
          `--trusted-ca-file=${tmp}/ca.pem`,
          "--client-cert-auth",
          "--listen-peer-urls=http://127.0.0.1:2380",
          "--initial-advertise-peer-urls=http://127.0.0.1:2380",
          "--initial-cluster=node=http://127.0.0.1:2380",
        ],
        tmp,
        "etcd",
      ),
    );
    const out = mgmtStep({ ...input, step: "reach" });
    expect(out.value).toBe("through the KVM server");
    // etcd was asked at 127.0.0.1 (the forward), and reports the node's own URL.
    expect(out.urls).toEqual([expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/)]);
    expect(out.members).toEqual([`https://${NODE_IP}:2379`]);
    // A dropped connection is opened again for the next client.
    expect(out.valueAfterDrop).toBe("through the KVM server");
    expect(out.pid).not.toBe(out.dropped);
    // The tunnel's ssh is gone once the run ended; the server sees no session left.
    const pid = Number(out.pid);
    expect(pid).toBeGreaterThan(1);
    expect(alive(pid)).toBe(false);
    expect(spawnSync("pgrep", ["-f", "fleetlab-ssh-"]).status).not.toBe(0);
    await waitFor(
      "the server's sessions to end",
      () => spawnSync("pgrep", ["-f", "sshd: root"]).status !== 0,
      10_000,
    );
  });

  test("the nodes pull from the lab registry at the gateway, through the server's SSH; a server that keeps forwards on its loopback is a clear error", async () => {
    const out = mgmtStep({ ...input, step: "registry-up" });
    expect(out.refused).toMatch(
      /nodes cannot reach it at 10\.41\.0\.1:5001 on the KVM server.*GatewayPorts clientspecified/,
    );
    expect(out.leftAfterRefusal).toBe(0);
    // The reach side outlives the run that started it (the nodes pull after `up` too).
    const reach = Number(out.reach);
    expect(alive(reach)).toBe(true);
    // A real client on the lab network, checking the registry's certificate by the lab CA.
    const r = node.exec(
      "curl",
      curlStatusArgs(path.join(tmp, "ca.pem"), `https://${LAB.gateway}:5000/v2/`),
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("200");
    // Only on the lab side: the management namespace never listens beyond loopback.
    expect(mgmt.exec("ss", ["-Hltn"]).stdout).not.toMatch(/10\.41\./);
    mgmtStep({ ...input, step: "registry-down" });
    await waitFor("the reach side to end", () => !alive(reach), 10_000);
    expect(
      node.exec("curl", ["-sS", "--max-time", "5", "-k", `https://${LAB.gateway}:5000/v2/`]).status,
    ).not.toBe(0);
  });

  test("the lab network is deleted over qemu+ssh", () => {
    mgmtStep({ ...input, step: "teardown" });
    expect(
      spawnSync("virsh", ["-q", "-c", "qemu:///system", "net-info", "--", LAB.name]).status,
    ).not.toBe(0);
  });
});
