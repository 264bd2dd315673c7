// The sidekick as shipped: its image (Debian's node + the compiled TypeScript)
// against etcd over TLS with client certificates, configured exactly as the
// sidekick units do it (the node's TLS directory mounted read-only, the etcd
// settings from an env file in the node's etcd.env format), feeding a real nginx
// container and reloading it through the shared PID namespace. It uses the host's
// network only to reach the test etcd on 127.0.0.1.
import { ChildProcess, spawn, spawnSync } from "child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { Etcd3 } from "etcd3";
import { loadDataSet } from "../../labdata/load";
import { writeDataSet } from "../../labdata/writer";
import { CA_FILE, NODE_CERT_FILE, NODE_KEY_FILE, TLS_DIR } from "../../node/paths";
import { AGENT_ENV } from "../../node/env";
import { createCa, createCert } from "../../infra/pki/certs";
import { freePorts } from "../support/ports";
import { waitFor } from "../support/wait";
import {
  buildImages,
  docker,
  DOCKER,
  IMAGE,
  inNet,
  ldapSearch,
  ROOT,
  Service,
  ServiceEnv,
} from "./harness";
import { joinLan } from "./lan";

jest.setTimeout(300_000);
const env = new ServiceEnv();
const tmp = mkdtempSync(join(tmpdir(), "flt-sktls-"));
const tls = join(tmp, "tls");
const sidekicks: string[] = [];
let envFile: string;
let etcd: ChildProcess | undefined;
let client: Etcd3;
let url: string;
let www: Service;

beforeAll(async () => {
  buildImages("dhcp", "www", "ldap", "sidekick");
  const ca = createCa("services test CA", 2);
  const node = createCert(ca, {
    commonName: "node",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    usage: "server",
    validityDays: 2,
  });
  mkdirSync(tls);
  writeFileSync(join(tls, CA_FILE), ca.certPem);
  writeFileSync(join(tls, NODE_CERT_FILE), node.certPem);
  writeFileSync(join(tls, NODE_KEY_FILE), node.keyPem, { mode: 0o600 });
  const [cp, pp] = await freePorts(2);
  url = `https://127.0.0.1:${cp}`;
  const f = (n: string) => join(tls, n);
  etcd = spawn(
    "/usr/bin/etcd",
    [
      `--data-dir=${join(tmp, "etcd")}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=http://127.0.0.1:${pp}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${pp}`,
      `--initial-cluster=default=http://127.0.0.1:${pp}`,
      `--cert-file=${f(NODE_CERT_FILE)}`,
      `--key-file=${f(NODE_KEY_FILE)}`,
      `--trusted-ca-file=${f(CA_FILE)}`,
      "--client-cert-auth",
      "--log-level=error",
    ],
    { stdio: "ignore" },
  );
  client = new Etcd3({
    hosts: url,
    credentials: {
      rootCertificate: Buffer.from(ca.certPem),
      certChain: Buffer.from(node.certPem),
      privateKey: Buffer.from(node.keyPem),
    },
  });
  await waitFor(
    "etcd over TLS",
    () =>
      client
        .put("/health")
        .value("ok")
        .then(() => true),
    20_000,
    200,
  );

  envFile = join(tmp, "etcd.env");
  writeFileSync(
    envFile,
    [
      `${AGENT_ENV.endpoints}=${url}`,
      `${AGENT_ENV.caFile}=${TLS_DIR}/${CA_FILE}`,
      `${AGENT_ENV.certFile}=${TLS_DIR}/${NODE_CERT_FILE}`,
      `${AGENT_ENV.keyFile}=${TLS_DIR}/${NODE_KEY_FILE}`,
    ].join("\n") + "\n",
  );
  www = env.runService("www", [], "img");
  runSidekick("www", www, [`--pid=container:${www.name}`]);
});

/** The sidekick container for `svc` beside service container `s`, as its unit runs it. */
function runSidekick(svc: string, s: Service, extra: string[] = []): string {
  const name = `${s.name}-sidekick`;
  sidekicks.push(name);
  const run = ["run", "-d", "--name", name, "--net=host", "-v", `${s.dir}:/run/fleetlab/${svc}`];
  const tlsArgs = ["-v", `${tls}:${TLS_DIR}:ro`, "--env-file", envFile];
  docker(
    ...run,
    ...tlsArgs,
    "-e",
    `FLEETLAB_RUN=/run/fleetlab/${svc}`,
    ...extra,
    IMAGE("sidekick"),
    svc,
  );
  return name;
}

afterAll(async () => {
  for (const c of sidekicks) spawnSync(DOCKER, ["rm", "-f", c], { timeout: 30_000 });
  client?.close();
  if (etcd && etcd.exitCode === null) {
    const exited = new Promise((r) => etcd!.once("exit", r));
    etcd.kill("SIGKILL");
    await exited;
  }
  await env.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

test("the sidekick renders the site from etcd over TLS, nginx serves it, then the next version", async () => {
  const dataDir = join(tmp, "data");
  cpSync(join(ROOT, "data"), dataDir, { recursive: true });
  const page = () => inNet(www.pid, ["curl", "-sS", "http://127.0.0.1:8080/"]).stdout;
  await writeDataSet(client, loadDataSet("www", dataDir));
  await waitFor("the first site", () => page().includes("<h1>Faculty Lab</h1>"), 30_000, 200);
  writeFileSync(join(dataDir, "www/index.html"), "<h1>version two</h1>\n");
  await writeDataSet(client, loadDataSet("www", dataDir));
  await waitFor("the second site", () => page() === "<h1>version two</h1>\n", 30_000, 200);
  expect(docker("logs", `${www.name}-sidekick`)).toMatch(/www [0-9a-f]{20}: site unpacked/);
  expect(docker("inspect", "-f", "{{.State.Running}}", `${www.name}-sidekick`)).toBe("true");
});

test("the LDAP sidekick container seeds slapd over the shared ldapi socket", async () => {
  const ldap = env.runService("ldap", [], "img");
  runSidekick("ldap", ldap);
  await writeDataSet(client, loadDataSet("ldap", join(ROOT, "data")));
  await waitFor(
    "alice in the directory",
    () => ldapSearch(ldap, "(uid=alice)").includes("uid=alice,"),
    60_000,
    200,
  );
});

test("the DHCP sidekick container configures Kea through its control socket", async () => {
  const kea = env.runService("dhcp", [], "img");
  const lan = joinLan(env, kea);
  runSidekick("dhcp", kea, ["-e", `FLEETLAB_DHCP_INTERFACES=${lan.serverIf}`]);
  await writeDataSet(client, loadDataSet("dhcp", join(ROOT, "data")));
  await waitFor(
    "Kea configured",
    () => docker("logs", `${kea.name}-sidekick`).includes("Kea reloaded"),
    30_000,
    200,
  );
  expect(lan.lease("52:54:00:aa:00:12")).toBe("192.168.56.22");
});

test("etcd refuses a client without a certificate and accepts one with it", () => {
  const etcdctl = (...certArgs: string[]) =>
    spawnSync(
      "etcdctl",
      ["--endpoints", url, "--cacert", join(tls, CA_FILE), ...certArgs, "get", "/health"],
      {
        encoding: "utf8",
        timeout: 20_000,
        env: {
          ...process.env,
          ETCDCTL_API: "3",
          ETCDCTL_DIAL_TIMEOUT: "3s",
          ETCDCTL_COMMAND_TIMEOUT: "5s",
        },
      },
    );
  expect(etcdctl().status).not.toBe(0);
  const ok = etcdctl("--cert", join(tls, NODE_CERT_FILE), "--key", join(tls, NODE_KEY_FILE));
  expect(ok.stdout).toBe("/health\nok\n");
});
