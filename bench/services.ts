// npm run bench:services — the lab's services on this machine, real containers:
//  1. image builds: cold (no layer cache, packages from Debian's mirror; base image
//     present) and warm (build.sh finds the image up to date), per image;
//  2. data change -> served: from writing a new data set into etcd (what LabData
//     does during `pulumi up`) to a real client seeing it (udhcpc gets the new
//     reservation, curl the new page, ldapsearch the new entry), 5 rounds each;
//     then the same through `pulumi up` of the services program, 3 rounds;
//  3. failover re-seed: from starting a replacement container on an empty disk to
//     it serving the same data from etcd (LDAP, WWW, DHCP), 3 rounds each;
//  4. failover from hot standby's warm copy: the same replacement, its run directory
//     filled from a warm render first, no sidekick (LDAP, WWW), beside the floor: a
//     bare `docker run` of the same image, 3 rounds each.
// Writes bench/results/services.json. Not part of npm test.
import { execFileSync, spawnSync } from "child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { cpus, tmpdir } from "os";
import { join } from "path";
import { DataSetName } from "../labdata/keys";
import { parseDhcpData } from "../labdata/dhcp/parse";
import { loadDataSet } from "../labdata/load";
import { applyDhcp, applyLdap, Applier, applyWww } from "../containers/sidekick/appliers";
import { writeDataSet } from "../labdata/writer";
import { waitFor } from "../tests/support/wait";
import { Sidekick } from "../containers/sidekick/watch";
import {
  buildImages,
  contextFor,
  copyWarm,
  DOCKER,
  inNet,
  ldapSearch,
  IMAGE,
  ROOT,
  Service,
  ServiceEnv,
} from "../tests/services/harness";
import { joinLan } from "../tests/services/lan";
import { tempProject } from "../tests/pulumi/harness";
import { serveApi } from "../fleet/api/server";
import { FleetService } from "../fleet/api/service";
import { Registry } from "../fleet/registry/registry";

const IMAGES = ["dhcp", "www", "ldap", "sidekick"];
const ROUNDS = 5;
const FAILOVERS = 3;
const PULUMI_ROUNDS = 3;

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { samples, medianMs: s[Math.floor(s.length / 2)], maxMs: s[s.length - 1] };
}

function timeBuild(svc: string, env: Record<string, string>): number {
  const t0 = Date.now();
  execFileSync("bash", [join(ROOT, "containers/build.sh"), svc], {
    stdio: "inherit",
    env: { ...process.env, ...env },
  });
  return (Date.now() - t0) / 1000;
}

function builds() {
  const out: Record<string, { coldSeconds: number; warmSeconds: number }> = {};
  for (const svc of IMAGES) {
    // A separate tag, so the images other tests use are never removed.
    const tag = { FLEETLAB_IMAGE_VERSION: "bench" };
    spawnSync(DOCKER, ["rmi", "-f", `ghcr.io/fleetlab/${svc}:bench`]);
    const coldSeconds = timeBuild(svc, { ...tag, FLEETLAB_BUILD_NO_CACHE: "1" });
    const warmSeconds = timeBuild(svc, tag);
    spawnSync(DOCKER, ["rmi", "-f", `ghcr.io/fleetlab/${svc}:bench`]);
    out[svc] = { coldSeconds, warmSeconds };
  }
  return out;
}

/** One service: its data directory, how to change it in round i, how to see the change. */
interface Probe {
  set: DataSetName;
  apply: Applier;
  change(dataDir: string, i: number): void;
  served(s: Service, i: number): boolean;
}

const appendTo = (file: string, text: string) =>
  writeFileSync(file, readFileSync(file, "utf8") + text);
const page = (s: Service, path: string) =>
  inNet(s.pid, ["curl", "-sS", `http://127.0.0.1:8080${path}`]).stdout;

/** The replacement serves the repository's data (the failover checks, both kinds). */
const SERVES_SAME_DATA: Record<"ldap" | "www", (s: Service) => boolean> = {
  ldap: (s) => ldapSearch(s, "(uid=carol)").includes("uid=carol,"),
  www: (s) => page(s, "/").includes("Faculty Lab"),
};

const probes = (lease: () => (mac: string) => string): Probe[] => [
  {
    set: "dhcp",
    apply: applyDhcp,
    change: (d, i) =>
      appendTo(
        join(d, "dhcp.yaml"),
        `  - { name: bench-${i}, mac: "52:54:00:ee:00:${String(i).padStart(2, "0")}", ip: 192.168.56.${60 + i} }\n`,
      ),
    served: (_s, i) =>
      lease()(`52:54:00:ee:00:${String(i).padStart(2, "0")}`) === `192.168.56.${60 + i}`,
  },
  {
    set: "www",
    apply: applyWww,
    change: (d, i) => writeFileSync(join(d, "www", `bench-${i}.html`), `round ${i}\n`),
    served: (s, i) => page(s, `/bench-${i}.html`) === `round ${i}\n`,
  },
  {
    set: "ldap",
    apply: applyLdap,
    change: (d, i) => {
      const f = join(d, "ldap/directory.yaml");
      const hash = /passwordHash: "([^"]+)"/.exec(readFileSync(f, "utf8"))?.[1];
      const user = `  - { uid: bench${i}, cn: Bench ${i}, sn: B, uidNumber: ${20000 + i}, gidNumber: 10000, passwordHash: "${hash}" }\n`;
      writeFileSync(f, readFileSync(f, "utf8").replace("groups:\n", `${user}groups:\n`));
    },
    served: (s, i) => ldapSearch(s, `(uid=bench${i})`).includes(`uid=bench${i},`),
  },
];

interface Running {
  p: Probe;
  s: Service;
  sk: Sidekick;
}

/** All three services with their sidekicks, one shared data directory. */
async function startAll(env: ServiceEnv, dataDir: string): Promise<Running[]> {
  let lan: ReturnType<typeof joinLan> | undefined;
  const running: Running[] = [];
  for (const p of probes(() => lan!.lease)) {
    const s = env.runService(p.set, [], "bench");
    if (p.set === "dhcp") lan = joinLan(env, s);
    const extra = p.set === "dhcp" ? { interfaces: [lan!.serverIf] } : {};
    const sk = await env.sidekick(p.set, p.apply, contextFor(s, p.set, [], extra));
    await env.publish(sk, loadDataSet(p.set, dataDir), 90_000);
    running.push({ p, s, sk });
  }
  return running;
}

/** From the etcd write of a changed data set to a real client seeing it. */
async function dataChanges(env: ServiceEnv, dataDir: string, running: Running[]) {
  const out: Record<string, ReturnType<typeof stats>> = {};
  for (const { p, s } of running) {
    const samples: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      p.change(dataDir, i);
      const ds = loadDataSet(p.set, dataDir);
      const t0 = Date.now();
      await writeDataSet(env.client, ds);
      await waitFor(`${p.set} round ${i}`, () => p.served(s, i), 60_000, 20);
      samples.push(Date.now() - t0);
    }
    out[p.set] = stats(samples);
    console.log(`    ${p.set}: etcd write -> served, median ${out[p.set].medianMs} ms`);
  }
  return out;
}

/**
 * `pulumi up` of the services program (tests/services/fixtures/lab-services, the real
 * engine and fleet API) after editing all three data sets: from up returning to
 * each change being served, and how long up itself took.
 */
async function pulumiUps(env: ServiceEnv, dataDir: string, running: Running[]) {
  const apiDir = mkdtempSync(join(tmpdir(), "flt-bench-api-"));
  const socket = join(apiDir, "fleet.sock");
  const api = await serveApi(new FleetService(new Registry(env.client)), { socket });
  const project = tempProject(join(ROOT, "tests/services/fixtures/lab-services"));
  const stack = await project.open("bench");
  const served: Record<string, number[]> = {};
  const upSeconds: number[] = [];
  try {
    await stack.setConfig("dataDir", { value: dataDir });
    await stack.setConfig("etcdEndpoints", { value: env.etcd.endpoints.join(",") });
    await stack.setConfig("fleetSocket", { value: socket });
    await stack.up();
    for (let i = ROUNDS + 1; i <= ROUNDS + PULUMI_ROUNDS; i++) {
      for (const { p } of running) p.change(dataDir, i);
      const t0 = Date.now();
      await stack.up();
      upSeconds.push((Date.now() - t0) / 1000);
      // Poll every service in turn and note when each first serves its change, so
      // one slow client check does not count against the others.
      const t1 = Date.now();
      const pending = new Set(running);
      for (let polls = 0; pending.size > 0; polls++) {
        if (Date.now() - t1 > 60_000 || polls > 10_000)
          throw new Error(`not served 60 s after up ${i}`);
        for (const r of [...pending]) {
          if (!r.p.served(r.s, i)) continue;
          (served[r.p.set] ??= []).push(Date.now() - t1);
          pending.delete(r);
        }
      }
    }
    await stack.destroy();
  } finally {
    await stack.workspace.removeStack("bench", { force: true }).catch(() => undefined);
    project.cleanup();
    await api.close();
    rmSync(apiDir, { recursive: true, force: true });
  }
  const out = Object.fromEntries(Object.entries(served).map(([k, v]) => [k, stats(v)]));
  console.log(
    `    pulumi up -> served: ${JSON.stringify(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.medianMs])))} ms`,
  );
  return { upSeconds, servedAfterUpReturned: out };
}

/**
 * A replacement instance on an empty disk (what the engine starts on another node after
 * a failover) until it serves the same data from etcd; for DHCP, until a client on a
 * fresh LAN gets the data set's first reservation (one discover per try, 1 s apart).
 */
async function failovers(env: ServiceEnv) {
  const out: Record<string, ReturnType<typeof stats>> = {};
  const dhcpFile = join(ROOT, "data/dhcp.yaml");
  const reserved = parseDhcpData(readFileSync(dhcpFile, "utf8"), dhcpFile).reservations[0];
  // Each returns the replacement's sidekick and the check that it serves.
  const replacements: Record<
    DataSetName,
    (s: Service) => Promise<{ sk: Sidekick; serves: () => boolean }>
  > = {
    ldap: async (s) => ({
      sk: await env.sidekick("ldap", applyLdap, contextFor(s, "ldap", [])),
      serves: () => SERVES_SAME_DATA.ldap(s),
    }),
    www: async (s) => ({
      sk: await env.sidekick("www", applyWww, contextFor(s, "www", [])),
      serves: () => SERVES_SAME_DATA.www(s),
    }),
    dhcp: async (s) => {
      const lan = joinLan(env, s);
      const ctx = contextFor(s, "dhcp", [], { interfaces: [lan.serverIf] });
      return {
        sk: await env.sidekick("dhcp", applyDhcp, ctx),
        serves: () => lan.lease(reserved.mac, 1) === reserved.ip,
      };
    },
  };
  for (const set of ["ldap", "www", "dhcp"] as const) {
    const ds = loadDataSet(set, join(ROOT, "data"));
    await writeDataSet(env.client, ds);
    const samples: number[] = [];
    for (let i = 0; i < FAILOVERS; i++) {
      const t0 = Date.now();
      const s = env.runService(set, [], `fo${i}`);
      const { sk, serves } = await replacements[set](s);
      await waitFor(`${set} replacement ${i}`, serves, 90_000, 20);
      samples.push(Date.now() - t0);
      // slapd started on the seed may answer before its sidekick's apply is done: let
      // that finish before the container goes, or it waits minutes for a socket that
      // is gone, spawning ldapsearch beside the next rounds (it slowed DHCP's 3-8x).
      await sk.waitFor(ds.manifest.hash, 90_000);
      spawnSync(DOCKER, ["rm", "-f", s.name]);
    }
    out[set] = stats(samples);
    console.log(`    ${set}: replacement serving after median ${out[set].medianMs} ms`);
  }
  return out;
}

/**
 * A replacement that starts on hot standby's warm copy (the service unit's copy step,
 * then `docker run`), no sidekick at all, until it serves the same data; beside it the
 * floor, a bare `docker run --rm --entrypoint /bin/true` of the same image. DHCP is not
 * here: Kea binds the LAN interface named in its copy at start, and this bench's LAN
 * veth exists only once the container does.
 */
async function warmStarts(env: ServiceEnv) {
  const out: Record<
    string,
    { fromWarmCopy: ReturnType<typeof stats>; floor: ReturnType<typeof stats> }
  > = {};
  for (const set of ["ldap", "www"] as const) {
    const ds = loadDataSet(set, join(ROOT, "data"));
    await writeDataSet(env.client, ds);
    const warm = await env.warm(set, []);
    await warm.sk.waitFor(ds.manifest.hash, 60_000);
    const samples: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < FAILOVERS; i++) {
      const t0 = Date.now();
      const s = env.runService(set, [], `warm${i}`, copyWarm(warm.dir));
      await waitFor(`${set} on the warm copy ${i}`, () => SERVES_SAME_DATA[set](s), 90_000, 20);
      samples.push(Date.now() - t0);
      spawnSync(DOCKER, ["rm", "-f", s.name]);
      const t1 = Date.now();
      execFileSync(DOCKER, [
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "/bin/true",
        IMAGE(set),
      ]);
      floor.push(Date.now() - t1);
    }
    out[set] = { fromWarmCopy: stats(samples), floor: stats(floor) };
    console.log(
      `    ${set}: serving on the warm copy after median ${out[set].fromWarmCopy.medianMs} ms (bare docker run ${out[set].floor.medianMs} ms)`,
    );
  }
  return out;
}

async function main(): Promise<void> {
  console.log("==> bench: image builds (cold, warm)");
  const imageBuilds = builds();
  buildImages("dhcp", "www", "ldap");
  const env = new ServiceEnv();
  await env.startEtcd();
  try {
    const dataDir = mkdtempSync(join(tmpdir(), "flt-bench-data-"));
    cpSync(join(ROOT, "data"), dataDir, { recursive: true });
    const running = await startAll(env, dataDir);
    console.log("==> bench: data change -> served");
    const dataChangeToServed = await dataChanges(env, dataDir, running);
    console.log("==> bench: pulumi up -> served");
    const pulumiUp = await pulumiUps(env, dataDir, running);
    // Their sidekicks go with them (a unit's BindsTo): left running, the next stage's
    // data would send them waiting for daemons that are gone.
    for (const { s, sk } of running) {
      await sk.stop();
      spawnSync(DOCKER, ["rm", "-f", s.name]);
    }
    rmSync(dataDir, { recursive: true, force: true });
    console.log("==> bench: failover re-seed");
    const failoverReseed = await failovers(env);
    console.log("==> bench: failover from the warm copy");
    const failoverFromWarmCopy = await warmStarts(env);
    const result = {
      when: new Date().toISOString(),
      machine: { cores: cpus().length },
      command: "npm run bench:services",
      imageBuilds,
      dataChangeToServed,
      pulumiUp,
      failoverReseed,
      failoverFromWarmCopy,
      notes: [
        "cold build: docker build --no-cache with debian:bookworm-slim present; apt-get reaches Debian's mirror, so network speed counts",
        "warm build: build.sh with the image up to date (context hash label matches)",
        "pulumiUp: `pulumi up` of tests/services/fixtures/lab-services (LabServices: 3 LabData + the fleet units, real engine, real /fleet/v1 API over a unix socket) after editing all three data sets; servedAfterUpReturned = from up returning to a real client seeing each change; the clients are checked in turn (dhcp, www, ldap), so each figure includes the checks before it (one udhcpc exchange is ~100 ms): the sidekicks have usually applied the data before up returns",
        "data change -> served: from the etcd write of the new data set (what LabData does in pulumi up, excluding pulumi's own overhead) until a real client sees the change; includes the client's poll interval (20 ms) and, for DHCP, one udhcpc exchange",
        "failover re-seed: from docker run of a replacement container on an empty disk until it serves the same data from etcd (the engine's own failover time is measured in bench/results/fleet.json)",
        "failover from the warm copy: from copying hot standby's warm render into an empty run directory (cp -a -n, as the service unit does) and docker run, with no sidekick, until it serves the same data; floor = docker run --rm --entrypoint /bin/true of the same image, same round. DHCP is not measured: Kea binds the interface named in its copy at start, and the bench's LAN veth exists only after the container",
      ],
    };
    mkdirSync(join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(
      join(ROOT, "bench/results/services.json"),
      JSON.stringify(result, null, 2) + "\n",
    );
    const ms = (r?: { medianMs: number }) => (r ? r.medianMs : "-");
    console.table(
      (["dhcp", "www", "ldap"] as const).map((set) => ({
        service: set,
        "cold build s": imageBuilds[set].coldSeconds,
        "etcd write -> served ms": ms(dataChangeToServed[set]),
        "up returned -> served ms": ms(pulumiUp.servedAfterUpReturned[set]),
        "replacement serving ms": ms(failoverReseed[set]),
        "on warm copy ms": set === "dhcp" ? "-" : ms(failoverFromWarmCopy[set].fromWarmCopy),
        "floor docker run ms": set === "dhcp" ? "-" : ms(failoverFromWarmCopy[set].floor),
      })),
    );
    console.log("medians; every sample in bench/results/services.json");
  } finally {
    await env.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
