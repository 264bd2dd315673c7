// The etcd member flags and the PKI, for real: three etcd processes (Debian's etcd
// 3.4, the oldest version the flags must work with) started with the exact flags
// from each node's rendered unit and the exact files from its Ignition, on loopback
// addresses 127.0.0.11-13 (the lab network is 127.0.0.0/24 for this test). Then
// etcdctl checks health, membership, the worker's client config, and that clients
// without a lab certificate are refused.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseLabSpec } from "../../infra/config";
import { DEMO_SSH_KEY } from "../../infra/config/fixtures";
import {
  CA_PATH,
  decodeDataUrl,
  ETCD_DATA_DIR,
  ETCD_ENV_PATH,
  ETCD_UNIT,
  TLS_DIR,
} from "../../infra/ignition";
import { createCa, createCert, adminCertRequest } from "../../infra/pki";
import { RunResult, renderLab, requireTool, run, tempDir } from "./lab";

jest.setTimeout(90_000);
const etcdBin = requireTool("etcd", "etcd-server");
const etcdctl = requireTool("etcdctl", "etcd-client");

// Ports away from etcd's defaults, which other test layers may be using.
const clientPort = 20000 + Math.floor(Math.random() * 20000);
const spec = parseLabSpec("etcdtls", {
  environment: "local",
  hypervisor: { kind: "libvirt", uri: "qemu:///system" },
  network: { cidr: "127.0.0.0/24", gateway: "127.0.0.1" },
  nodes: [
    { name: "core-01" },
    { name: "core-02" },
    { name: "core-03" },
    { name: "worker-01", role: "worker" },
  ],
  sshKeys: [DEMO_SSH_KEY],
  etcdClientPort: clientPort,
  etcdPeerPort: clientPort + 1,
});
const lab = renderLab(spec);
const root = tempDir("etcdtls");
const procs: { name: string; child: ChildProcess; log: string[] }[] = [];

/** Each node's Ignition files and directories, written under root/<node>. */
function materialize(name: string): string {
  const nodeRoot = path.join(root, name);
  const { ignition } = lab.nodes.find((n) => n.node.name === name)!;
  for (const d of ignition.storage.directories)
    fs.mkdirSync(nodeRoot + d.path, { recursive: true, mode: d.mode });
  for (const f of ignition.storage.files) {
    fs.mkdirSync(path.dirname(nodeRoot + f.path), { recursive: true });
    fs.writeFileSync(nodeRoot + f.path, decodeDataUrl(f.contents.source), { mode: f.mode });
  }
  return nodeRoot;
}

/** The etcd arguments of the node's etcd-member.service ExecStart, host paths re-rooted. */
function memberFlags(name: string, nodeRoot: string): string[] {
  const { ignition } = lab.nodes.find((n) => n.node.name === name)!;
  const unit = ignition.systemd.units.find((u) => u.name === ETCD_UNIT)!.contents!;
  const exec = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(unit)![1].replace(/\\\n/g, " ");
  const argv = exec.trim().split(/\s+/);
  expect(argv.some((a) => /["']/.test(a))).toBe(false);
  const flags = argv.slice(argv.indexOf(spec.etcd.image) + 2);
  return flags.map((f) =>
    f
      .replaceAll(TLS_DIR, nodeRoot + TLS_DIR)
      .replaceAll(ETCD_DATA_DIR, nodeRoot + ETCD_DATA_DIR)
      // On a machine each member owns 127.0.0.1; here three members share one host.
      .replace(`,https://127.0.0.1:${clientPort}`, ""),
  );
}

function adminArgs(): string[] {
  const dir = path.join(root, "admin");
  fs.mkdirSync(dir, { recursive: true });
  const files = { ca: lab.tls.ca.certPem, cert: lab.tls.admin.certPem, key: lab.tls.admin.keyPem };
  for (const [k, v] of Object.entries(files))
    fs.writeFileSync(path.join(dir, `${k}.pem`), v, { mode: 0o600 });
  const endpoints = spec.nodes
    .filter((n) => n.role === "etcd")
    .map((n) => `https://${n.ip}:${clientPort}`);
  return [
    `--endpoints=${endpoints.join(",")}`,
    `--cacert=${dir}/ca.pem`,
    `--cert=${dir}/cert.pem`,
    `--key=${dir}/key.pem`,
  ];
}

const ctl = (args: string[], env: NodeJS.ProcessEnv = { ...process.env, ETCDCTL_API: "3" }) =>
  run(etcdctl, ["--dial-timeout=2s", "--command-timeout=4s", ...args], { env, timeoutMs: 10_000 });

beforeAll(async () => {
  for (const n of spec.nodes.filter((x) => x.role === "etcd")) {
    const flags = memberFlags(n.name, materialize(n.name));
    const child = spawn(etcdBin, flags, { stdio: ["ignore", "pipe", "pipe"] });
    const log: string[] = [];
    child.stdout!.on("data", (d) => log.push(String(d)));
    child.stderr!.on("data", (d) => log.push(String(d)));
    procs.push({ name: n.name, child, log });
  }
  materialize("worker-01");
  // Bounded wait for a healthy cluster: 60 tries, ~30 s at most.
  for (let i = 0; i < 60; i++) {
    if (ctl([...adminArgs(), "endpoint", "health"]).code === 0) return;
    if (procs.some((p) => p.child.exitCode !== null)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `etcd cluster did not become healthy:\n${procs.map((p) => `--- ${p.name}\n${p.log.join("").slice(-3000)}`).join("\n")}`,
  );
});

afterAll(async () => {
  await Promise.all(
    procs.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
          child.once("exit", () => (clearTimeout(kill), resolve()));
          child.kill("SIGTERM");
        }),
    ),
  );
  fs.rmSync(root, { recursive: true, force: true });
});

test("the three members form one cluster from the static initial-cluster", () => {
  const r = ctl([...adminArgs(), "member", "list"]);
  expect(r.code).toBe(0);
  for (const n of spec.nodes.filter((x) => x.role === "etcd")) {
    expect(r.output).toContain(
      `${n.name}, https://${n.ip}:${clientPort + 1}, https://${n.ip}:${clientPort}`,
    );
  }
  expect(r.output.trim().split("\n")).toHaveLength(3);
});

test("the worker's etcd.env is a working client config", () => {
  const workerRoot = path.join(root, "worker-01");
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  for (const line of fs
    .readFileSync(workerRoot + ETCD_ENV_PATH, "utf8")
    .trim()
    .split("\n")) {
    const [k, v] = line.split(/=(.*)/s);
    env[k] = v.replaceAll(TLS_DIR, workerRoot + TLS_DIR);
  }
  expect(ctl(["put", "/fleetlab/probe", "from-worker"], env).code).toBe(0);
  const got = ctl(["get", "/fleetlab/probe", "--print-value-only"], env);
  expect(got).toEqual({ code: 0, output: "from-worker\n" });
});

/** GET /version on core-01's client URL with curl, with the given TLS client options. */
// With TLS 1.3 the server checks the client certificate after the client thinks the
// handshake is done, so curl reports the refusal as an SSL alert (35/56) or as the
// connection dropping under it (55, "getpeername"), depending on timing. Any of these,
// and no etcd answer, is a refusal; a success or another error is not.
const TLS_REFUSED = [35, 55, 56];
function expectRefused(r: RunResult) {
  expect(TLS_REFUSED).toContain(r.code);
  expect(r.output).not.toMatch(/etcdserver/);
}

function version(tlsArgs: string[]) {
  const ca = path.join(root, "admin", "ca.pem");
  const url = `https://${spec.nodes[0].ip}:${clientPort}/version`;
  return run("curl", ["-sS", "--max-time", "5", "--cacert", ca, ...tlsArgs, url], {
    timeoutMs: 10_000,
  });
}

test("clients need a certificate from the lab CA", () => {
  const admin = path.join(root, "admin");
  // The same request succeeds with the admin certificate...
  const ok = version(["--cert", `${admin}/cert.pem`, "--key", `${admin}/key.pem`]);
  expect(ok.code).toBe(0);
  expect(ok.output).toMatch(/"etcdserver":"3\./);
  // ...and fails in the TLS handshake without one,
  expectRefused(version([]));
  // and with one from another CA.
  const other = createCert(createCa("intruder", 1), adminCertRequest());
  const dir = path.join(root, "intruder");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(`${dir}/cert.pem`, other.certPem);
  fs.writeFileSync(`${dir}/key.pem`, other.keyPem, { mode: 0o600 });
  expectRefused(version(["--cert", `${dir}/cert.pem`, "--key", `${dir}/key.pem`]));
  // etcdctl without a client certificate gets nowhere either.
  const noCert = adminArgs().filter((a) => !a.startsWith("--cert=") && !a.startsWith("--key="));
  expect(ctl([...noCert, "get", "/fleetlab/probe"]).code).not.toBe(0);
});

test("the data directory is private, as etcd wants it", () => {
  const mode = fs.statSync(path.join(root, "core-01") + ETCD_DATA_DIR).mode & 0o777;
  expect(mode).toBe(0o700);
  expect(fs.statSync(path.join(root, "core-01") + CA_PATH).mode & 0o777).toBe(0o644);
});
