// Failover keeps the data: when an instance dies, a fresh one (new container, empty
// run directory, as on another node) gets the same data from etcd alone. The dead
// instance's disk is never read.
import { loadDataSet } from "../../labdata/load";
import { applyLdap, applyWww } from "../../containers/sidekick/appliers";
import { Sidekick } from "../../containers/sidekick/watch";
import { waitFor } from "../support/wait";
import {
  buildImages,
  docker,
  inNet,
  contextFor,
  ldapSearch,
  ROOT,
  Service,
  ServiceEnv,
} from "./harness";
import { join } from "path";

jest.setTimeout(300_000);
const env = new ServiceEnv();
const log: string[] = [];
const DATA = join(ROOT, "data");

beforeAll(async () => {
  buildImages("ldap", "www");
  await env.startEtcd();
});
afterAll(() => env.cleanup());

async function instance(
  svc: "ldap" | "www",
  suffix: string,
): Promise<{ s: Service; sk: Sidekick }> {
  const s = env.runService(svc, [], suffix);
  const sk = await env.sidekick(
    svc,
    svc === "ldap" ? applyLdap : applyWww,
    contextFor(s, svc, log),
  );
  return { s, sk };
}

test("LDAP: a replacement instance serves the same entries, re-seeded from etcd", async () => {
  const ds = loadDataSet("ldap", DATA);
  const a = await instance("ldap", "a");
  await env.publish(a.sk, ds, 90_000);
  const entries = (s: Service) => ldapSearch(s, "(objectClass=*)");
  const before = entries(a.s);
  expect(before).toContain("uid=alice");
  docker("rm", "-f", a.s.name); // the node dies with its disk

  const b = await instance("ldap", "b");
  await b.sk.waitFor(ds.manifest.hash, 90_000);
  expect(entries(b.s)).toBe(before);
});

test("WWW: a replacement instance serves the same pages", async () => {
  const ds = loadDataSet("www", DATA);
  const a = await instance("www", "a");
  await env.publish(a.sk, ds);
  const page = (s: Service) => inNet(s.pid, ["curl", "-sS", "http://127.0.0.1:8080/"]).stdout;
  // One read per poll: while nginx reloads, old workers may still answer briefly.
  const served = (s: Service, ok: (p: string) => boolean) => () => {
    const p = page(s);
    return ok(p) && p;
  };
  const before = await waitFor(
    "site on a",
    served(a.s, (p) => p.includes("Faculty Lab")),
  );
  docker("rm", "-f", a.s.name);

  const b = await instance("www", "b");
  await b.sk.waitFor(ds.manifest.hash, 90_000);
  expect(
    await waitFor(
      "site on b",
      served(b.s, (p) => p === before),
    ),
  ).toBe(before);
});
