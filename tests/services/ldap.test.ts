// LDAP: the real slapd image, seeded from etcd by the sidekick over the ldapi socket;
// real ldapsearch/ldapwhoami/ldapadd clients over the container's own loopback.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { loadDataSet } from "../../labdata/load";
import { applyLdap } from "../../containers/sidekick/appliers";
import { Sidekick } from "../../containers/sidekick/watch";
import { buildImages, inNet, contextFor, ROOT, Service, ServiceEnv } from "./harness";

jest.setTimeout(300_000);
const env = new ServiceEnv();
const log: string[] = [];
let ldap: Service;
let sk: Sidekick;
const dataDir = mkdtempSync(join(tmpdir(), "flt-ldap-data-"));
const BASE = "dc=lab,dc=example";
const URL = "ldap://127.0.0.1:1389/";

const search = (filter: string, ...attrs: string[]) =>
  inNet(ldap.pid, ["ldapsearch", "-x", "-LLL", "-H", URL, "-b", BASE, filter, ...attrs]);
const whoami = (uid: string, password: string) =>
  inNet(ldap.pid, [
    "ldapwhoami",
    "-x",
    "-H",
    URL,
    "-D",
    `uid=${uid},ou=people,${BASE}`,
    "-w",
    password,
  ]);

beforeAll(async () => {
  buildImages("ldap");
  cpSync(join(ROOT, "data"), dataDir, { recursive: true });
  await env.startEtcd();
  ldap = env.runService("ldap");
  sk = await env.sidekick("ldap", applyLdap, contextFor(ldap, "ldap", log));
  await env.publish(sk, loadDataSet("ldap", dataDir), 90_000);
});

afterAll(async () => {
  await env.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test("ldapsearch finds the data set's users, groups and extra LDIF entries", () => {
  const r = search("(|(uid=alice)(cn=students)(ou=hosts))", "dn", "memberUid");
  expect(r.status).toBe(0);
  expect(r.stdout).toContain(`dn: uid=alice,ou=people,${BASE}`);
  expect(r.stdout).toContain(`dn: cn=students,ou=groups,${BASE}`);
  expect(r.stdout).toContain("memberUid: bob");
  expect(r.stdout).toContain(`dn: ou=hosts,${BASE}`);
});

test("a data-set user binds with her password; a wrong password is refused; hashes stay hidden", () => {
  const ok = whoami("alice", "alice-lab-pass");
  expect(ok.stderr).toBe("");
  expect(ok.stdout.trim()).toBe(`dn:uid=alice,ou=people,${BASE}`);
  expect(whoami("alice", "wrong").status).toBe(49); // invalidCredentials
  expect(search("(uid=alice)", "userPassword").stdout).not.toContain("userPassword");
});

test("anonymous writes are refused, and so are a plain user's writes outside her entry", () => {
  const entry = `dn: uid=mallory,ou=people,${BASE}\\nobjectClass: account\\nuid: mallory\\n`;
  const anon = inNet(ldap.pid, ["sh", "-c", `printf '${entry}' | ldapadd -x -H ${URL}`]);
  expect(anon.status).toBe(8); // strongerAuthRequired: slapd refuses anonymous updates
  expect(anon.stderr).toContain("modifications require authentication");
  const user = inNet(ldap.pid, [
    "sh",
    "-c",
    `printf '${entry}' | ldapadd -x -H ${URL} -D uid=alice,ou=people,${BASE} -w alice-lab-pass`,
  ]);
  expect(user.status).toBe(50); // insufficientAccess
  expect(search("(uid=mallory)").stdout).toBe("");
});

test("a changed data set (user added, user removed, group changed) is applied without restarting slapd", async () => {
  const before = ldap.startedAt();
  const file = join(dataDir, "ldap/directory.yaml");
  const text = readFileSync(file, "utf8")
    .replace(/ {2}- uid: bob\n( {4}.*\n)+?(?= {2}- uid:)/, "")
    .replace("members: [alice, bob]", "members: [alice, dave]")
    .replace(
      "groups:",
      `  - { uid: dave, cn: Dave New, sn: New, uidNumber: 10004, gidNumber: 10000, passwordHash: "${readFileSync(file, "utf8").match(/passwordHash: "(\{SSHA\}[^"]+)"/)?.[1]}" }\ngroups:`,
    );
  writeFileSync(file, text);
  await env.publish(sk, loadDataSet("ldap", dataDir));
  expect(search("(uid=dave)", "dn").stdout).toContain(`dn: uid=dave,ou=people,${BASE}`);
  expect(search("(uid=bob)", "dn").stdout).toBe("");
  expect(search("(cn=students)", "memberUid").stdout).toMatch(/memberUid: alice\nmemberUid: dave/);
  expect(ldap.startedAt()).toBe(before);
});
