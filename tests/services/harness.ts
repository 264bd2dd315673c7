// Test harness for the real service containers: builds the images (cached), runs a
// container with no network of its own (--network none), and reaches it only
// through its own loopback (nsenter -n ... 127.0.0.1) or through a veth from a
// namespace the test creates, so no test traffic touches the host's networks.
// Every container and namespace carries the test's PID in its name and is removed
// by name in cleanup().
import { execFileSync, spawnSync } from "child_process";
import { chmodSync, mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { Etcd3 } from "etcd3";
import { EtcdCluster } from "../fleet/etcd";
import { labImage } from "../../node/images";
import { ApplyContext, Applier, WARM_RENDERERS } from "../../containers/sidekick/appliers";
import { runSidekick, Sidekick } from "../../containers/sidekick/watch";
import { writeDataSet } from "../../labdata/writer";
import { EncodedDataSet } from "../../labdata/keys";

export const ROOT = join(__dirname, "../..");
export const DOCKER = "/usr/bin/docker";
export const IMAGE = (svc: string) => labImage(svc);

export function docker(...args: string[]): string {
  return execFileSync(DOCKER, args, { encoding: "utf8", timeout: 60_000 }).trim();
}

/** Builds the service images (no-op when up to date); starts dockerd if needed. */
export function buildImages(...svcs: string[]): void {
  execFileSync("bash", [join(ROOT, "containers/build.sh"), ...svcs], {
    stdio: "inherit",
    timeout: 900_000,
  });
}

/** Runs a command on the host inside the container's network namespace. */
export function inNet(pid: number, cmd: string[], timeout = 30_000) {
  return spawnSync("nsenter", ["-t", String(pid), "-n", ...cmd], { encoding: "utf8", timeout });
}

export interface Service {
  name: string;
  pid: number;
  dir: string;
  startedAt(): string;
}

/** True when a process with this PID exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes containers and namespaces that an earlier, crashed test run left behind:
 * their names carry the PID of the run (flt-<pid>-...), and that PID is gone.
 */
export function removeLeftovers(): void {
  const stale = (name: string) => {
    const m = /^flt-(\d+)-/.exec(name);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  };
  const names = spawnSync(
    DOCKER,
    ["ps", "-a", "--format", "{{.Names}}", "--filter", "name=^flt-"],
    { encoding: "utf8" },
  );
  for (const c of (names.stdout ?? "").split("\n").filter(stale))
    spawnSync(DOCKER, ["rm", "-f", c]);
  const ns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  for (const n of (ns.stdout ?? "")
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter(stale))
    spawnSync("ip", ["netns", "del", n]);
}

export class ServiceEnv {
  readonly tag = `flt-${process.pid}`;
  private containers: string[] = [];
  private netns: string[] = [];
  private dirs: string[] = [];
  private sidekicks: Sidekick[] = [];
  etcd = new EtcdCluster();
  client!: Etcd3;

  async startEtcd(): Promise<void> {
    removeLeftovers();
    await this.etcd.start(1);
    this.client = new Etcd3({ hosts: this.etcd.endpoints });
  }

  /**
   * Starts `svc`'s image with its run dir bind-mounted from a fresh temp dir;
   * `prefill` fills that dir before the container starts (as a unit's ExecStartPre).
   */
  runService(
    svc: string,
    extra: string[] = [],
    suffix = "",
    prefill?: (dir: string) => void,
  ): Service {
    const name = `${this.tag}-${svc}${suffix ? `-${suffix}` : ""}`;
    const dir = this.tempDir(name);
    prefill?.(dir);
    this.containers.push(name);
    docker(
      "run",
      "-d",
      "--name",
      name,
      "--network",
      "none",
      "-v",
      `${dir}:/run/fleetlab/${svc}`,
      ...extra,
      IMAGE(svc),
    );
    const pid = Number(docker("inspect", "-f", "{{.State.Pid}}", name));
    if (!pid) throw new Error(`${name} did not start: ${docker("logs", name)}`);
    return {
      name,
      pid,
      dir,
      startedAt: () => docker("inspect", "-f", "{{.State.StartedAt}} {{.RestartCount}}", name),
    };
  }

  /** A directory for this test, removed in cleanup(). */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    chmodSync(dir, 0o755);
    this.dirs.push(dir);
    return dir;
  }

  /** A namespace created by this test (cleaned up by name). */
  addNetns(suffix: string): string {
    // Numbered, so a test (or the bench) may ask for the same kind of namespace twice.
    const ns = `${this.tag}-${suffix}${this.netns.length}`;
    execFileSync("ip", ["netns", "add", ns]);
    this.netns.push(ns);
    return ns;
  }

  async sidekick(set: string, apply: Applier, ctx: ApplyContext): Promise<Sidekick> {
    const sk = await runSidekick(this.client, set, apply, ctx);
    this.sidekicks.push(sk);
    return sk;
  }

  /**
   * A warm renderer for `set` (`sidekick warm <set>`) into a fresh directory, as on a
   * machine that does not run the service.
   */
  async warm(
    set: string,
    log: string[],
    extra: Partial<ApplyContext> = {},
  ): Promise<{ dir: string; sk: Sidekick }> {
    const dir = this.tempDir(`${this.tag}-warm-${set}`);
    const sk = await this.sidekick(set, WARM_RENDERERS[set], warmContext(dir, set, log, extra));
    return { dir, sk };
  }

  /** Writes a data set to etcd and waits (bounded) until `sk` applied it; returns ms taken. */
  async publish(sk: Sidekick, ds: EncodedDataSet, timeoutMs = 30_000): Promise<number> {
    const t0 = Date.now();
    await writeDataSet(this.client, ds);
    await sk.waitFor(ds.manifest.hash, timeoutMs);
    return Date.now() - t0;
  }

  async cleanup(): Promise<void> {
    for (const sk of this.sidekicks) await sk.stop().catch(() => undefined);
    this.client?.close();
    await this.etcd.stop();
    for (const c of this.containers) spawnSync(DOCKER, ["rm", "-f", c], { timeout: 30_000 });
    for (const ns of this.netns) spawnSync("ip", ["netns", "del", ns]);
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

export const quietLog = (lines: string[]) => (m: string) => void lines.push(m);

/** The sidekick's view of a test container: its run dir, its main process. */
export function contextFor(
  s: Service,
  svc: string,
  log: string[],
  extra: Partial<ApplyContext> = {},
): ApplyContext {
  return {
    hostDir: s.dir,
    containerDir: `/run/fleetlab/${svc}`,
    interfaces: [],
    port: 8080,
    // The host sees the container's PID 1 (nginx's master: the entrypoint execs it).
    nginxMaster: () => s.pid,
    log: quietLog(log),
    ...extra,
  };
}

/**
 * A warm renderer's view (hot standby, `sidekick warm <set>`): its own directory, the
 * paths of the service's container; it must never signal a daemon.
 */
function warmContext(
  dir: string,
  set: string,
  log: string[],
  extra: Partial<ApplyContext>,
): ApplyContext {
  return {
    hostDir: dir,
    containerDir: `/run/fleetlab/${set}`,
    interfaces: [],
    port: 8080,
    nginxMaster: () => {
      throw new Error("a warm copy must never signal a daemon");
    },
    log: quietLog(log),
    ...extra,
  };
}

/**
 * The service unit's copy step (units/services.ts warmCopy), as a runService prefill:
 * the warm copy into the run directory, never over a file already there.
 */
export const copyWarm = (warmDir: string) => (runDir: string) => {
  const r = spawnSync("cp", ["-a", "-n", "--", `${warmDir}/.`, `${runDir}/`], {
    encoding: "utf8",
  });
  // Any complaint, not only a failure: the copy must be clean.
  if (r.status !== 0 || r.stderr !== "")
    throw new Error(`cp of the warm copy ${warmDir} failed (${r.status}): ${r.stderr}`);
};

export const LDAP_BASE = "dc=lab,dc=example";

/** Anonymous ldapsearch on the container's own loopback; LDIF of the DNs (or `attrs`). */
export function ldapSearch(s: Service, filter: string, ...attrs: string[]): string {
  const args = [
    "ldapsearch",
    "-x",
    "-LLL",
    "-H",
    "ldap://127.0.0.1:1389/",
    "-b",
    LDAP_BASE,
    filter,
  ];
  return inNet(s.pid, [...args, ...(attrs.length > 0 ? attrs : ["dn"])]).stdout;
}
