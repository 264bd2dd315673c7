// The sidekick as shipped: its image (Debian's node + the compiled TypeScript)
// watches etcd and feeds a real nginx container, reloading it through the shared
// PID namespace exactly as the www-sidekick unit runs it. The sidekick shares the
// host's network only to reach the test etcd on 127.0.0.1.
import { spawnSync } from "child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { loadDataSet } from "../../containers/dataset/load";
import { writeDataSet } from "../../containers/sidekick/writer";
import { waitFor } from "../fleet/etcd";
import { buildImages, docker, DOCKER, IMAGE, inNet, ROOT, Service, ServiceEnv } from "./harness";

jest.setTimeout(300_000);
const env = new ServiceEnv();
let www: Service;
const sidekick = `${env.tag}-www-sidekick`;
const dataDir = mkdtempSync(join(tmpdir(), "flt-skimg-data-"));
const page = () => inNet(www.pid, ["curl", "-sS", "http://127.0.0.1:8080/"]).stdout;

beforeAll(async () => {
  buildImages("www", "sidekick");
  cpSync(join(ROOT, "data"), dataDir, { recursive: true });
  await env.startEtcd();
  www = env.runService("www");
  docker(
    "run",
    "-d",
    "--name",
    sidekick,
    "--network",
    "host",
    `--pid=container:${www.name}`,
    "-v",
    `${www.dir}:/run/fleetlab/www`,
    "-e",
    `FLEET_ETCD_ENDPOINTS=${env.etcd.endpoints.join(",")}`,
    "-e",
    "FLEETLAB_RUN=/run/fleetlab/www",
    IMAGE("sidekick"),
    "www",
  );
});

afterAll(async () => {
  spawnSync(DOCKER, ["rm", "-f", sidekick], { timeout: 30_000 });
  await env.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test("the sidekick container renders the site from etcd and nginx serves it, then the next version", async () => {
  await writeDataSet(env.client, loadDataSet("www", dataDir));
  await waitFor("the first site", () => page().includes("<h1>Faculty Lab</h1>"), 30_000, 200);
  writeFileSync(join(dataDir, "www/index.html"), "<h1>version two</h1>\n");
  await writeDataSet(env.client, loadDataSet("www", dataDir));
  await waitFor("the second site", () => page() === "<h1>version two</h1>\n", 30_000, 200);
  const logs = docker("logs", sidekick);
  expect(logs).toMatch(/www [0-9a-f]{20}: site unpacked/);
  expect(docker("inspect", "-f", "{{.State.Running}}", sidekick)).toBe("true");
});
