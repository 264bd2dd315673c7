// `docker pull` through the lab registry with real parts, the way a Flatcar node's Docker
// pulls: Debian's docker-registry (distribution 2.8) serving its pull side over TLS with
// a certificate from a lab CA, and a real engine (Debian's dockerd) that trusts that CA
// only through /etc/docker/certs.d/<host:port>/ca.crt. It proves: with the CA there a
// pull by digest gives the image that was pushed; without it the pull fails
// (certificate signed by unknown authority); the engine reads certs.d at every pull, so
// no restart is needed either way.
//
// Why a private engine in namespaces of its own: dockerd treats 127.0.0.0/8 as an
// insecure registry and skips the CA check there (so registry.test.ts uses skopeo), and
// certs.d is a fixed path under /etc. So this test makes a network namespace whose
// loopback also carries 10.213.0.1 (an address that exists only in that namespace),
// runs the registry's pull side there, and runs a dockerd there too, in a mount
// namespace of its own where /etc/docker is a tmpfs and certs.d is a bind mount of a
// directory of the test. The machine's /etc, networks and docker engine are never
// touched. That engine also makes the test images (docker import) and hands them to our
// client's push (docker save, through the push side's unix socket); the push runs in a
// child process (registry-docker-push.ts) because only there can DOCKER_HOST name it.
// Every process started here is stopped by PID in afterAll; then the namespace and the
// temp dir go.
//
// The engine's exact stderr lines for the failures an error parser must tell apart are
// kept in fixtures/docker-pull-errors.txt (`<case>\t<line>`, one per line) and checked
// here against this engine. Every part of them is fixed (address, port, repository,
// digest), so they are the same on every run. FLEETLAB_UPDATE_FIXTURES=1 rewrites the
// file from the run. Today's lines (Debian's dockerd 20.10.24):
//   unknown-authority   Error response from daemon: Get "https://10.213.0.1:5000/v2/": x509: certificate signed by unknown authority
//   connection-refused  Error response from daemon: Get "https://10.213.0.1:5001/v2/": dial tcp 10.213.0.1:5001: connect: connection refused
//   manifest-unknown    Error response from daemon: manifest for 10.213.0.1:5000/fleetlab/tiny@sha256:0000...0000 not found: manifest unknown: manifest unknown
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createCa, createCert } from "../../infra/pki";
import { registryGet } from "../../infra/registry/client";
import { renderRegistryConfig, type RegistryRole } from "../../infra/registry/config";
import { REGISTRY_BIN, registryPaths } from "../../infra/registry/server";
import { DOCKER, ROOT } from "./harness";
import { curlStatusArgs } from "../support/curl";

const tag = `flt-${process.pid}`;
const NETNS = `${tag}-regd`;
/** The registry's address: only on the loopback of NETNS, so fixed on every run. */
const HOST = "10.213.0.1";
const PORT = 5000;
const REGISTRY = `${HOST}:${PORT}`;
/** Nothing listens here (in NETNS). */
const REFUSED_PORT = 5001;
/** A digest the registry does not have. */
const ABSENT = `sha256:${"0".repeat(64)}`;
const FIXTURE = path.join(__dirname, "fixtures", "docker-pull-errors.txt");
const UPDATE_FIXTURE = process.env.FLEETLAB_UPDATE_FIXTURES === "1";
const PUSHER = path.join(__dirname, "registry-docker-push.ts");

/**
 * Run by `sh -c` in the engine's own mount namespace (unshare --mount, private
 * propagation: nothing mounted here reaches the machine). $1: the test's certs.d
 * directory; the rest: dockerd's arguments. /etc/docker becomes a tmpfs (dockerd 20.10
 * also writes its key.json there), certs.d in it the test's directory. /run/containerd
 * is hidden too: with a containerd socket there, dockerd would use the machine's
 * containerd instead of starting its own under its exec root.
 */
const ENGINE_SCRIPT = [
  "set -e",
  "mount -t tmpfs -o mode=0755 fleetlab-etc-docker /etc/docker",
  "mkdir /etc/docker/certs.d",
  'mount --bind "$1" /etc/docker/certs.d',
  "if [ -d /run/containerd ]; then mount -t tmpfs -o mode=0711 fleetlab-containerd /run/containerd; fi",
  "shift",
  'exec /usr/sbin/dockerd "$@"',
].join("\n");

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
}

let tmp: string;
let netnsMade = false;
const procs: Proc[] = [];
let engine: Proc;
let caPem: string;
/** Per image: the digest the push gave, and the engine's image ID of what it pushed. */
let pushed: Record<"a" | "b", { digest: string; id: string }>;
const captured: Record<string, string> = {};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inNetns = (argv: string[]) => ["nsenter", `--net=/run/netns/${NETNS}`, "--", ...argv];
const certsD = () => path.join(tmp, "certs.d");
const engineHost = () => `unix://${path.join(tmp, "docker.sock")}`;
const exited = (p: Proc) => p.child.exitCode !== null || p.child.signalCode !== null;

function logTail(p: Proc, lines = 12): string {
  try {
    return fs.readFileSync(p.log, "utf8").trim().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Starts argv with stdout and stderr to <tmp>/<name>.log; not detached, so Ctrl-C takes it too. */
function start(name: string, argv: string[]): Proc {
  const log = path.join(tmp, `${name}.log`);
  const fd = fs.openSync(log, "a", 0o600);
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", fd, fd] });
  fs.closeSync(fd);
  child.on("error", (e) => fs.appendFileSync(log, `spawn failed: ${e.message}\n`));
  const p = { name, child, log };
  procs.push(p);
  return p;
}

/** Waits (bounded) until `ready` holds; fails early, with its log, when a process exits. */
async function waitFor(what: string, ready: () => Promise<boolean> | boolean, boundMs = 60_000) {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const dead = procs.find(exited);
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}:\n${logTail(dead)}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${boundMs} ms`);
    await sleep(200);
  }
}

/** Stops `p` by its PID: SIGTERM, then SIGKILL; each wait bounded. */
async function stop(p: Proc, boundMs = 20_000): Promise<void> {
  const gone = (ms: number) =>
    new Promise<void>((resolve) => {
      if (exited(p)) return resolve();
      const t = setTimeout(resolve, ms);
      p.child.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
    });
  const signal = (s: NodeJS.Signals) => {
    try {
      if (!exited(p) && p.child.pid !== undefined) process.kill(p.child.pid, s);
    } catch {
      // exited in between
    }
  };
  signal("SIGTERM");
  await gone(boundMs);
  if (!exited(p)) {
    signal("SIGKILL");
    await gone(5_000);
  }
}

/** A process still alive whose command line names `dir` (a PID file's PID, checked). */
function pidUnder(pidFile: string, dir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return Number.isInteger(pid) && pid > 1 && argv.includes(dir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

const dk = (...args: string[]) =>
  spawnSync(DOCKER, ["-H", engineHost(), ...args], { encoding: "utf8", timeout: 60_000 });

function dkOk(...args: string[]): string {
  const r = dk(...args);
  if (r.status !== 0)
    throw new Error(`docker ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.error ?? ""}`);
  return r.stdout.trim();
}

const imageId = (ref: string) => dk("image", "inspect", "-f", "{{.Id}}", "--", ref);

/** A one-layer image of the private engine made from `files` (docker import). */
function tinyImage(name: string, files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(tmp, "root-"));
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(root, f), text);
  const tar = spawnSync("tar", ["-C", root, "--mtime=@0", "--owner=0", "--group=0", "-c", "."]);
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  const ref = `${tag}-${name}:1`;
  const r = spawnSync(DOCKER, ["-H", engineHost(), "import", "-", ref], {
    input: tar.stdout,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`docker import failed: ${r.stderr}`);
  return ref;
}

/** The CA file as the engine sees it: /etc/docker/certs.d/<host:port>/ca.crt. */
function trustCa(on: boolean): void {
  const dir = path.join(certsD(), REGISTRY);
  if (on) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "ca.crt"), caPem);
  } else fs.rmSync(dir, { recursive: true, force: true });
}

const pull = (ref: string) =>
  spawnSync(DOCKER, ["-H", engineHost(), "pull", "--", ref], {
    encoding: "utf8",
    timeout: 90_000,
  });

/** The daemon's error line of a failed docker command. */
const errorLine = (r: { stderr: string }) =>
  r.stderr
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("Error response from daemon:"))
    .pop() ?? r.stderr.trim();

function readFixture(): Record<string, string> {
  if (!fs.existsSync(FIXTURE)) return {};
  return Object.fromEntries(
    fs
      .readFileSync(FIXTURE, "utf8")
      .split("\n")
      .filter((l) => l.includes("\t"))
      .map((l) => [l.slice(0, l.indexOf("\t")), l.slice(l.indexOf("\t") + 1)]),
  );
}

/** `line` is what fixtures/docker-pull-errors.txt keeps for `kase` (or is recorded for it). */
function expectFixture(kase: string, line: string): void {
  captured[kase] = line;
  if (UPDATE_FIXTURE) return;
  const want = readFixture()[kase];
  if (want !== line)
    throw new Error(
      `${path.relative(ROOT, FIXTURE)} keeps for ${kase}:\n  ${want ?? "(nothing)"}\nthis engine says:\n  ${line}\nfix: if the engine changed, rerun with FLEETLAB_UPDATE_FIXTURES=1 and review the diff`,
    );
}

/** The engine is the same process as at the start: it was never restarted. */
function expectEngineNotRestarted(): void {
  expect(exited(engine)).toBe(false);
  expect(fs.readFileSync(path.join(tmp, "dockerd.pid"), "utf8").trim()).toBe(
    String(engine.child.pid),
  );
}

beforeAll(async () => {
  if (!fs.existsSync("/etc/docker"))
    throw new Error(
      "/etc/docker is missing: the test mounts a tmpfs over it in a mount namespace of its own; fix: apt-get install docker.io",
    );
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${tag}-regd-`));
  fs.mkdirSync(certsD());

  // The network namespace: loopback up, and HOST on it (it exists nowhere else).
  // (This kernel has no dummy interfaces; the loopback carries it just as well: what
  // makes dockerd skip the CA check is the address, 127.0.0.0/8, not the interface.)
  const ip = (...args: string[]) => {
    const r = spawnSync("ip", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
  };
  ip("netns", "add", NETNS);
  netnsMade = true;
  ip("-n", NETNS, "link", "set", "lo", "up");
  ip("-n", NETNS, "addr", "add", `${HOST}/24`, "dev", "lo");

  // The registry, laid out as infra/registry/server.ts lays it out, configs from config.ts.
  const ca = createCa("fleetlab test CA", 30);
  caPem = ca.certPem;
  fs.writeFileSync(path.join(tmp, "ca.pem"), caPem);
  const cert = createCert(ca, {
    commonName: "fleetlab registry",
    dnsNames: [],
    ipAddresses: [HOST],
    usage: "server",
    validityDays: 30,
  });
  const dir = path.join(tmp, "registry");
  const p = registryPaths(dir);
  fs.mkdirSync(path.dirname(p.cert), { recursive: true, mode: 0o700 });
  fs.mkdirSync(p.storage, { recursive: true, mode: 0o700 });
  fs.writeFileSync(p.cert, cert.certPem);
  fs.writeFileSync(p.key, cert.keyPem, { mode: 0o600 });
  for (const role of ["pull", "push"] as RegistryRole[])
    fs.writeFileSync(
      p.config(role),
      renderRegistryConfig({
        role,
        addr: role === "pull" ? REGISTRY : p.socket,
        storageDir: p.storage,
        certPath: p.cert,
        keyPath: p.key,
      }),
    );
  // The pull side in the namespace (HOST is there); the push side on its socket.
  start("pull", inNetns([REGISTRY_BIN, "serve", p.config("pull")]));
  start("push", [REGISTRY_BIN, "serve", p.config("push")]);

  // The engine: in the namespace too, in a mount namespace of its own (ENGINE_SCRIPT).
  // Flags as image/lib.sh's bake engine has them; --bridge none is safe here: the only
  // bridge it could touch would be in this namespace.
  engine = start(
    "dockerd",
    inNetns([
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      ENGINE_SCRIPT,
      "sh",
      certsD(),
      "--data-root",
      path.join(tmp, "data"),
      "--exec-root",
      path.join(tmp, "exec"),
      "--pidfile",
      path.join(tmp, "dockerd.pid"),
      "-H",
      engineHost(),
      "--storage-driver",
      "overlay2",
      "--bridge",
      "none",
      "--iptables=false",
      "--ip6tables=false",
      "--ip-masq=false",
    ]),
  );

  await waitFor("the push side", async () => {
    try {
      return (await registryGet({ socket: p.socket }, "/v2/")).status === 200;
    } catch {
      return false;
    }
  });
  const curl = inNetns([
    "curl",
    ...curlStatusArgs(path.join(tmp, "ca.pem"), `https://${REGISTRY}/v2/`, 5),
  ]);
  await waitFor(
    "the pull side",
    () => spawnSync(curl[0], curl.slice(1), { encoding: "utf8" }).stdout === "200",
  );
  await waitFor("the engine", () => dk("version").status === 0);

  // Two images, pushed through the socket, then removed from the engine: every pull
  // below must fetch from the registry.
  const refs = {
    a: tinyImage("a", { "a.txt": "pulled\n" }),
    b: tinyImage("b", { "b.txt": "b\n" }),
  };
  const job = {
    socket: p.socket,
    cacheFile: path.join(tmp, "layers.json"),
    images: (["a", "b"] as const).map((k) => ({ image: refs[k], name: "tiny", tag: k })),
  };
  const r = spawnSync(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", PUSHER, JSON.stringify(job)],
    {
      cwd: ROOT,
      env: { ...process.env, DOCKER_HOST: engineHost() },
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  if (r.status !== 0) throw new Error(`the push failed (${r.status}): ${r.stderr}${r.error ?? ""}`);
  const [a, b] = (JSON.parse(r.stdout) as { digest: string }[]).map((res, i) => ({
    digest: res.digest,
    id: dkOk("image", "inspect", "-f", "{{.Id}}", "--", [refs.a, refs.b][i]),
  }));
  pushed = { a, b };
  dkOk("rmi", "--", refs.a, refs.b);
}, 120_000);

afterAll(async () => {
  if (UPDATE_FIXTURE && Object.keys(captured).length > 0)
    fs.writeFileSync(
      FIXTURE,
      Object.entries(captured)
        .map(([k, line]) => `${k}\t${line}\n`)
        .join(""),
    );
  // The engine first (it stops its containerd), then the registry's sides.
  for (const p of [...procs].reverse()) await stop(p);
  if (tmp) {
    // A containerd left behind by a killed engine: its PID file, checked to be ours.
    const straggler = pidUnder(path.join(tmp, "exec", "containerd", "containerd.pid"), tmp);
    if (straggler) process.kill(straggler, "SIGKILL");
  }
  if (netnsMade) spawnSync("ip", ["netns", "del", NETNS]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 60_000);

test("without the lab CA in certs.d, the engine refuses the registry's certificate", () => {
  trustCa(false);
  const r = pull(`${REGISTRY}/fleetlab/tiny@${pushed.a.digest}`);
  expect(r.status).not.toBe(0);
  expect(errorLine(r)).toMatch(/certificate signed by unknown authority/);
  expectFixture("unknown-authority", errorLine(r));
  expect(imageId(`${REGISTRY}/fleetlab/tiny@${pushed.a.digest}`).status).not.toBe(0);
}, 60_000);

test("with the lab CA at /etc/docker/certs.d/<host:port>/ca.crt, the same engine pulls the pushed image by digest", () => {
  trustCa(true);
  const ref = `${REGISTRY}/fleetlab/tiny@${pushed.a.digest}`;
  const r = pull(ref);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
  expect(r.stdout).toMatch(/Pull complete/); // fetched, not found locally
  expect(imageId(ref).stdout.trim()).toBe(pushed.a.id);
  expectEngineNotRestarted();
  // The CA was where the engine itself looks (in its mount namespace), and only there.
  const seen = spawnSync(
    "nsenter",
    ["-t", String(engine.child.pid), "-m", "--", "cat", `/etc/docker/certs.d/${REGISTRY}/ca.crt`],
    { encoding: "utf8" },
  );
  expect(seen.stdout).toBe(caPem);
  expect(fs.existsSync(`/etc/docker/certs.d/${REGISTRY}`)).toBe(false);
}, 60_000);

test("taken out of certs.d again, the next pull fails again: the engine reads certs.d at every pull", () => {
  trustCa(false);
  // Even for the image it now has: a pull by digest still asks the registry.
  const had = pull(`${REGISTRY}/fleetlab/tiny@${pushed.a.digest}`);
  expect(had.status).not.toBe(0);
  expect(errorLine(had)).toMatch(/certificate signed by unknown authority/);
  const r = pull(`${REGISTRY}/fleetlab/tiny@${pushed.b.digest}`);
  expect(r.status).not.toBe(0);
  expect(errorLine(r)).toMatch(/certificate signed by unknown authority/);
  expect(imageId(`${REGISTRY}/fleetlab/tiny@${pushed.b.digest}`).status).not.toBe(0);
  // And back in: the same engine pulls it, still without a restart.
  trustCa(true);
  const again = pull(`${REGISTRY}/fleetlab/tiny@${pushed.b.digest}`);
  expect(again.stderr).toBe("");
  expect(imageId(`${REGISTRY}/fleetlab/tiny@${pushed.b.digest}`).stdout.trim()).toBe(pushed.b.id);
  expectEngineNotRestarted();
}, 60_000);

test("a port where nothing listens and a digest the registry lacks: the engine's own lines", () => {
  trustCa(true);
  const refused = pull(`${HOST}:${REFUSED_PORT}/fleetlab/tiny@${pushed.a.digest}`);
  expect(refused.status).not.toBe(0);
  expect(errorLine(refused)).toMatch(/connection refused/);
  expectFixture("connection-refused", errorLine(refused));
  const absent = pull(`${REGISTRY}/fleetlab/tiny@${ABSENT}`);
  expect(absent.status).not.toBe(0);
  expect(errorLine(absent)).toMatch(/manifest unknown/);
  expectFixture("manifest-unknown", errorLine(absent));
}, 60_000);
