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
  ETCD_JOIN_SCRIPT,
  ETCD_STATE_ENV,
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

/**
 * A `docker` for the join script: it runs `docker run ... --entrypoint
 * /usr/local/bin/etcdctl <etcd image> ARGS`; the test image's etcd image carries
 * Debian's etcdctl, so this runs the same binary on the host with the same ARGS.
 */
function dockerForJoinScript(): string {
  const dir = path.join(root, "bin");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "docker"),
    `#!/bin/sh\nwhile [ $# -gt 0 ]; do case $1 in --entrypoint) shift 2; break ;; *) shift ;; esac; done\nshift\nexec ${etcdctl} "$@"\n`,
    { mode: 0o755 },
  );
  return dir;
}

/** A `docker` for the join script whose etcdctl never gets an answer: a cluster too slow. */
function dockerNoAnswer(): string {
  const dir = path.join(root, "bin-no-answer");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "docker"),
    "#!/bin/sh\necho 'Error: context deadline exceeded' >&2\nexit 1\n",
    { mode: 0o755 },
  );
  return dir;
}

/** The node's etcd-join script with its paths re-rooted, run with `docker` from `bin`. */
function joinScript(name: string, bin: string): RunResult {
  const nodeRoot = path.join(root, name);
  const script = fs
    .readFileSync(nodeRoot + ETCD_JOIN_SCRIPT, "utf8")
    .replaceAll(TLS_DIR, nodeRoot + TLS_DIR)
    .replaceAll(ETCD_DATA_DIR, nodeRoot + ETCD_DATA_DIR)
    .replaceAll(ETCD_STATE_ENV, nodeRoot + ETCD_STATE_ENV);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  return run("sh", ["-c", script], { env, timeoutMs: 60_000 });
}

/** Runs the node's etcd-join script (paths re-rooted) and returns the state it chose. */
function runJoinScript(name: string): { state: string; output: string } {
  const nodeRoot = path.join(root, name);
  const r = joinScript(name, dockerForJoinScript());
  if (r.code !== 0) throw new Error(`etcd-join on ${name} failed:\n${r.output}`);
  const state = fs.readFileSync(nodeRoot + ETCD_STATE_ENV, "utf8").trim();
  return { state, output: r.output };
}

/** Starts a member as its unit does: join script first, then etcd with its flags. */
function startMember(name: string): string {
  const nodeRoot = path.join(root, name);
  const { state } = runJoinScript(name);
  const [k, v] = state.split("=");
  const child = spawn(etcdBin, memberFlags(name, nodeRoot), {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, [k]: v },
  });
  const log: string[] = [];
  child.stdout!.on("data", (d) => log.push(String(d)));
  child.stderr!.on("data", (d) => log.push(String(d)));
  procs.push({ name, child, log });
  return state;
}

async function waitHealthy(endpoints: string[], what: string) {
  // Bounded: 120 tries, ~60 s at most.
  for (let i = 0; i < 120; i++) {
    const args = [...adminArgs().slice(1), `--endpoints=${endpoints.join(",")}`];
    if (ctl([...args, "endpoint", "health"]).code === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `${what}:\n${procs.map((p) => `--- ${p.name}\n${p.log.join("").slice(-3000)}`).join("\n")}`,
  );
}

const memberEndpoints = () =>
  spec.nodes.filter((n) => n.role === "etcd").map((n) => `https://${n.ip}:${clientPort}`);

beforeAll(async () => {
  const [first, second, third] = spec.nodes.filter((x) => x.role === "etcd");
  for (const n of [first, second, third]) materialize(n.name);
  materialize("worker-01");
  // Nothing answers when the first two scripts run: a new lab.
  expect(startMember(first.name)).toBe("ETCD_INITIAL_CLUSTER_STATE=new");
  expect(startMember(second.name)).toBe("ETCD_INITIAL_CLUSTER_STATE=new");
  // Two of three are a quorum: the third boots last into a running cluster that lists
  // it as not yet run, and joins it without any membership change.
  await waitHealthy(memberEndpoints().slice(0, 2), "the first two members did not form a quorum");
  expect(startMember(third.name)).toBe("ETCD_INITIAL_CLUSTER_STATE=existing");
  await waitHealthy(memberEndpoints(), "etcd cluster did not become healthy");
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

test("a member whose machine was replaced (data gone) rejoins through its join script", async () => {
  const victim = procs.find((p) => p.name === "core-03")!;
  victim.child.kill("SIGKILL");
  await new Promise((r) => victim.child.once("exit", r));
  procs.splice(procs.indexOf(victim), 1);
  // The replacement machine: same Ignition, empty data dir.
  const nodeRoot = path.join(root, "core-03");
  fs.rmSync(nodeRoot, { recursive: true, force: true });
  materialize("core-03");

  expect(startMember("core-03")).toBe("ETCD_INITIAL_CLUSTER_STATE=existing");
  await waitHealthy(memberEndpoints(), "the replaced member did not rejoin");
  const list = ctl([...adminArgs(), "member", "list"]);
  expect(list.code).toBe(0);
  const rows = list.output.trim().split("\n");
  expect(rows).toHaveLength(3);
  // Every member has run: a name and published client URLs.
  expect(rows.map((r) => r.split(", ")[4] !== "" && r.split(", ")[2] !== "")).toEqual([
    true,
    true,
    true,
  ]);
  // Started again with its data, the member keeps it and changes nothing.
  expect(runJoinScript("core-03").state).toBe("ETCD_INITIAL_CLUSTER_STATE=existing");
  expect(ctl([...adminArgs(), "member", "list"]).output).toBe(list.output);
});

test("a replaced member whose cluster has run never starts as new, however slowly the cluster answers", async () => {
  const victim = procs.find((p) => p.name === "core-03")!;
  victim.child.kill("SIGKILL");
  await new Promise((r) => victim.child.once("exit", r));
  procs.splice(procs.indexOf(victim), 1);
  const nodeRoot = path.join(root, "core-03");
  fs.rmSync(nodeRoot, { recursive: true, force: true });
  materialize("core-03");
  // The peers' peer ports say the cluster has run; its client API does not answer.
  const r = joinScript("core-03", dockerNoAnswer());
  expect(r.code).toBe(1);
  expect(r.output).toMatch(/did not list its members within 3s; asking again/);
  expect(r.output).toMatch(/within 24s; asking again/);
  expect(r.output).toMatch(
    /the cluster has run \(https:\/\/127\.0\.0\.1[12]:\d+\) but did not answer/,
  );
  // No decision written: systemd runs the script again, and a later run can join.
  expect(fs.existsSync(nodeRoot + ETCD_STATE_ENV)).toBe(false);
  expect(startMember("core-03")).toBe("ETCD_INITIAL_CLUSTER_STATE=existing");
  await waitHealthy(memberEndpoints(), "the replaced member did not rejoin after a slow cluster");
});
