// npm run bench:services — the lab's services on this machine, real containers:
//  1. image builds: cold (no layer cache, packages from Debian's mirror; base image
//     present) and warm (build.sh finds the image up to date), per image;
//  2. data change -> served: from writing a new data set into etcd (what LabData
//     does during `pulumi up`) to a real client seeing it (udhcpc gets the new
//     reservation, curl the new page, ldapsearch the new entry), 5 rounds each;
//  3. failover re-seed: from starting a replacement container on an empty disk to
//     it serving the same data from etcd (LDAP, WWW), 3 rounds each.
// Writes bench/results/services.json. Not part of npm test.
import { execFileSync, spawnSync } from "child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { cpus, tmpdir } from "os";
import { join } from "path";
import { DataSetName } from "../containers/dataset/keys";
import { loadDataSet } from "../containers/dataset/load";
import { applyDhcp, applyLdap, Applier, applyWww } from "../containers/sidekick/appliers";
import { writeDataSet } from "../containers/sidekick/writer";
import { waitFor } from "../tests/fleet/etcd";
import {
  buildImages,
  contextFor,
  DOCKER,
  inNet,
  ldapSearch,
  ROOT,
  Service,
  ServiceEnv,
} from "../tests/services/harness";
import { joinLan } from "../tests/services/lan";

const IMAGES = ["dhcp", "www", "ldap", "sidekick"];
const ROUNDS = 5;
const FAILOVERS = 3;

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

async function dataChanges(env: ServiceEnv) {
  const out: Record<string, ReturnType<typeof stats>> = {};
  let lan: ReturnType<typeof joinLan> | undefined;
  for (const p of probes(() => lan!.lease)) {
    const dataDir = mkdtempSync(join(tmpdir(), `flt-bench-${p.set}-`));
    cpSync(join(ROOT, "data"), dataDir, { recursive: true });
    const s = env.runService(p.set, [], "bench");
    const log: string[] = [];
    if (p.set === "dhcp") lan = joinLan(env, s);
    const sk = await env.sidekick(
      p.set,
      p.apply,
      contextFor(s, p.set, log, p.set === "dhcp" ? { interfaces: [lan!.serverIf] } : {}),
    );
    await env.publish(sk, loadDataSet(p.set, dataDir), 90_000);
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
    spawnSync(DOCKER, ["rm", "-f", s.name]);
    rmSync(dataDir, { recursive: true, force: true });
    console.log(`    ${p.set}: data change -> served, median ${out[p.set].medianMs} ms`);
  }
  return out;
}

async function failovers(env: ServiceEnv) {
  const out: Record<string, ReturnType<typeof stats>> = {};
  const checks: Record<string, (s: Service) => boolean> = {
    ldap: (s) => ldapSearch(s, "(uid=carol)").includes("uid=carol,"),
    www: (s) => page(s, "/").includes("Faculty Lab"),
  };
  for (const set of ["ldap", "www"] as const) {
    await writeDataSet(env.client, loadDataSet(set, join(ROOT, "data")));
    const samples: number[] = [];
    for (let i = 0; i < FAILOVERS; i++) {
      const t0 = Date.now();
      const s = env.runService(set, [], `fo${i}`);
      await env.sidekick(set, set === "ldap" ? applyLdap : applyWww, contextFor(s, set, []));
      await waitFor(`${set} replacement ${i}`, () => checks[set](s), 90_000, 20);
      samples.push(Date.now() - t0);
      spawnSync(DOCKER, ["rm", "-f", s.name]);
    }
    out[set] = stats(samples);
    console.log(`    ${set}: replacement serving after median ${out[set].medianMs} ms`);
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
    console.log("==> bench: data change -> served");
    const dataChangeToServed = await dataChanges(env);
    console.log("==> bench: failover re-seed");
    const failoverReseed = await failovers(env);
    const result = {
      when: new Date().toISOString(),
      machine: { cores: cpus().length },
      command: "npm run bench:services",
      imageBuilds,
      dataChangeToServed,
      failoverReseed,
      notes: [
        "cold build: docker build --no-cache with debian:bookworm-slim present; apt-get reaches Debian's mirror, so network speed counts",
        "warm build: build.sh with the image up to date (context hash label matches)",
        "data change -> served: from the etcd write of the new data set (what LabData does in pulumi up, excluding pulumi's own overhead) until a real client sees the change; includes the client's poll interval (20 ms) and, for DHCP, one udhcpc exchange",
        "failover re-seed: from docker run of a replacement container on an empty disk until it serves the same data from etcd (the engine's own failover time is measured in bench/results/fleet.json)",
      ],
    };
    mkdirSync(join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(
      join(ROOT, "bench/results/services.json"),
      JSON.stringify(result, null, 2) + "\n",
    );
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await env.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
