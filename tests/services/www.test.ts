// WWW: the real nginx image serves the data set's pages; a content change published
// through etcd is served by the same container (no restart).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { loadDataSet } from "../../labdata/load";
import { applyWww } from "../../containers/sidekick/appliers";
import { reloadNginx } from "../../containers/sidekick/nginx";
import { Sidekick } from "../../containers/sidekick/watch";
import { buildImages, docker, inNet, contextFor, ROOT, Service, ServiceEnv } from "./harness";

jest.setTimeout(300_000);
const env = new ServiceEnv();
const log: string[] = [];
let www: Service;
let sk: Sidekick;
const dataDir = mkdtempSync(join(tmpdir(), "flt-www-data-"));

const get = (path: string) => {
  const r = inNet(www.pid, ["curl", "-sS", "-w", "\n%{http_code}", `http://127.0.0.1:8080${path}`]);
  const lines = r.stdout.split("\n");
  return { status: Number(lines.pop()), body: lines.join("\n") };
};

beforeAll(async () => {
  buildImages("www");
  cpSync(join(ROOT, "data"), dataDir, { recursive: true });
  await env.startEtcd();
  www = env.runService("www");
  sk = await env.sidekick("www", applyWww, contextFor(www, "www", log));
  await env.publish(sk, loadDataSet("www", dataDir));
});

afterAll(async () => {
  await env.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test("curl gets the data set's index page and other files", () => {
  const index = get("/");
  expect(index.status).toBe(200);
  expect(index.body).toBe(readFileSync(join(ROOT, "data/www/index.html"), "utf8"));
  expect(get("/style.css").body).toContain("font-family");
  expect(get("/missing.html").status).toBe(404);
});

test("a content change published through etcd is served without restarting the container", async () => {
  const before = www.startedAt();
  writeFileSync(join(dataDir, "www/index.html"), "<h1>changed by the admin</h1>\n");
  writeFileSync(join(dataDir, "www/news.html"), "<p>new page</p>\n");
  await env.publish(sk, loadDataSet("www", dataDir));
  expect(get("/").body).toBe("<h1>changed by the admin</h1>\n");
  expect(get("/news.html").body).toBe("<p>new page</p>\n");
  expect(www.startedAt()).toBe(before);
});

test("nginx runs as www-data and reports healthy", () => {
  const users = docker("top", www.name, "-o", "user,pid").split("\n").slice(1);
  expect(users.length).toBeGreaterThan(0);
  expect(users.every((u) => u.split(/\s+/)[0] === "www-data")).toBe(true);
  expect(get("/healthz").status).toBe(200);
});

test("a config nginx rejects is reported by the reload and the site keeps being served", async () => {
  const conf = join(www.dir, "nginx.conf");
  const good = readFileSync(conf, "utf8");
  writeFileSync(conf, "events {}\nhttp { server { listen nonsense; } }\n");
  try {
    await expect(reloadNginx(www.pid, 3000)).rejects.toThrow(
      /still runs workers from before SIGHUP/,
    );
    expect(get("/").status).toBe(200);
  } finally {
    writeFileSync(conf, good);
    await reloadNginx(www.pid);
  }
});
