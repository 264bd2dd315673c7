// data/ldap (directory.yaml and *.ldif) as a new user mistypes it and an attacker
// bends it: every case is refused naming the file, the key, the value and a fix.
import * as fs from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { expectProblem } from "../expect-problem";
import { loadDataSet } from "../load";
import { passwordHashProblem } from "./password";
import { parseLdapData } from "./parse";

const HASH = "{SSHA}yzsHN603+3+ZQT2sjv9IuMYgPcpwb7+/";
const base = `suffix: dc=t,dc=example
organization: T
users:
  - { uid: u1, cn: U One, sn: One, uidNumber: 2001, gidNumber: 3000, passwordHash: "${HASH}" }
groups:
  - { cn: g, gidNumber: 3000, members: [u1] }
`;
const YAML = "data/ldap/directory.yaml";
const user = (s: string) => base.replace(/ {2}- \{ uid: u1.*\n/, `  - ${s}\n`);
const hash = (h: string) => base.replace(HASH, h);
const ldif = (text: string) => [{ file: "data/ldap/x.ldif", text }];

// [name, directory.yaml, ldif files, file, key, shown value, fix]
type Case = [string, string, { file: string; text: string }[], string, string, string, RegExp];
const HASH_FIX = /slappasswd -h \{SSHA\}/;
const cases: Case[] = [
  [
    "cleartext password: key",
    user(
      `{ uid: u1, cn: U, sn: O, uidNumber: 2001, gidNumber: 3000, password: hunter2, passwordHash: "${HASH}" }`,
    ),
    [],
    YAML,
    "users[0].password",
    "(hidden)",
    /passwordHash instead/,
  ],
  [
    "cleartext userPassword: key",
    user(
      `{ uid: u1, cn: U, sn: O, uidNumber: 2001, gidNumber: 3000, userPassword: hunter2, passwordHash: "${HASH}" }`,
    ),
    [],
    YAML,
    "users[0].userPassword",
    "(hidden)",
    /passwordHash instead/,
  ],
  [
    "only a cleartext password",
    user("{ uid: u1, cn: U, sn: O, uidNumber: 2001, gidNumber: 3000, password: hunter2 }"),
    [],
    YAML,
    "users[0].passwordHash",
    "(not set)",
    HASH_FIX,
  ],
  [
    "cleartext after {SSHA}",
    hash("{SSHA}hunter2"),
    [],
    YAML,
    "users[0].passwordHash",
    "(hidden)",
    HASH_FIX,
  ],
  [
    "cleartext after {SHA}",
    hash("{SHA}secretpassword12"),
    [],
    YAML,
    "users[0].passwordHash",
    "(hidden)",
    HASH_FIX,
  ],
  [
    "{SHA} of the wrong length",
    hash("{SHA}yzsHN603+3+ZQT2sjv9IuMYgPcpwb7+/"),
    [],
    YAML,
    "users[0].passwordHash",
    "(hidden)",
    HASH_FIX,
  ],
  [
    "{SSHA} digest without salt",
    hash("{SSHA}qUqP5cyxm6YcTAhz05Hph5gvu9M="),
    [],
    YAML,
    "users[0].passwordHash",
    "(hidden)",
    HASH_FIX,
  ],
  [
    "{SSHA512} too short",
    hash(`{SSHA512}${Buffer.alloc(40, 1).toString("base64")}`),
    [],
    YAML,
    "users[0].passwordHash",
    "(hidden)",
    HASH_FIX,
  ],
  [
    "cleartext after {CRYPT}",
    hash("{CRYPT}hunter2"),
    [],
    YAML,
    "users[0].passwordHash",
    "(hidden)",
    HASH_FIX,
  ],
  [
    "{CLEARTEXT} scheme",
    hash("{CLEARTEXT}hunter2"),
    [],
    YAML,
    "users[0].passwordHash",
    "(hidden)",
    HASH_FIX,
  ],
  [
    "{MD5} scheme",
    hash("{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ=="),
    [],
    YAML,
    "users[0].passwordHash",
    "(hidden)",
    HASH_FIX,
  ],
  ["no scheme", hash("hunter2"), [], YAML, "users[0].passwordHash", "(hidden)", HASH_FIX],
  [
    "members: alice (a string)",
    base.replace("members: [u1]", "members: u1"),
    [],
    YAML,
    "groups[0].members",
    "u1",
    /members: \[u1\]/,
  ],
  [
    "members with a number",
    base.replace("members: [u1]", "members: [u1, 42]"),
    [],
    YAML,
    "groups[0].members[1]",
    "42",
    /uid/,
  ],
  [
    "member typo",
    base.replace("members: [u1]", "member: [u1]"),
    [],
    YAML,
    "groups[0].member",
    "u1",
    /did you mean members\?/,
  ],
  [
    "user key typo",
    user(`{ uid: u1, cn: U, sn: O, uidNumber: 2001, gidNumber: 3000, passwordhash: "${HASH}" }`),
    [],
    YAML,
    "users[0].passwordhash",
    "u1".slice(0, 0),
    /did you mean passwordHash\?/,
  ],
  [
    "top-level typo",
    base.replace("groups:", "group:"),
    [],
    YAML,
    "group",
    "gidNumber",
    /did you mean groups\?/,
  ],
  [
    "unknown top-level key",
    base + "admins: [u1]\n",
    [],
    YAML,
    "admins",
    "u1",
    /use one of: suffix, organization, users, groups/,
  ],
  [
    "home not absolute",
    user(
      `{ uid: u1, cn: U, sn: O, uidNumber: 2001, gidNumber: 3000, home: home/u1, passwordHash: "${HASH}" }`,
    ),
    [],
    YAML,
    "users[0].home",
    "home/u1",
    /\/home\/alice/,
  ],
  [
    "home with a newline",
    user(
      `{ uid: u1, cn: U, sn: O, uidNumber: 2001, gidNumber: 3000, home: "/home/u1\\nuid: root", passwordHash: "${HASH}" }`,
    ),
    [],
    YAML,
    "users[0].home",
    "\\n",
    /\/home\/alice/,
  ],
  [
    "shell as a list",
    user(
      `{ uid: u1, cn: U, sn: O, uidNumber: 2001, gidNumber: 3000, shell: [/bin/sh], passwordHash: "${HASH}" }`,
    ),
    [],
    YAML,
    "users[0].shell",
    "/bin/sh",
    /\/bin\/bash/,
  ],
  [
    "mail without a domain",
    user(
      `{ uid: u1, cn: U, sn: O, uidNumber: 2001, gidNumber: 3000, mail: u1, passwordHash: "${HASH}" }`,
    ),
    [],
    YAML,
    "users[0].mail",
    "u1",
    /alice@lab\.example/,
  ],
  [
    "uid with upper case",
    user(`{ uid: Root, cn: U, sn: O, uidNumber: 2001, gidNumber: 3000, passwordHash: "${HASH}" }`),
    [],
    YAML,
    "users[0].uid",
    "Root",
    /lower-case/,
  ],
  [
    "uidNumber 0 (root)",
    user(`{ uid: u1, cn: U, sn: O, uidNumber: 0, gidNumber: 3000, passwordHash: "${HASH}" }`),
    [],
    YAML,
    "users[0].uidNumber",
    "0",
    /from 1000/,
  ],
  [
    "suffix not dc=",
    base.replace("suffix: dc=t,dc=example", "suffix: o=t"),
    [],
    YAML,
    "suffix",
    "o=t",
    /dc=lab,dc=example/,
  ],
  [
    "LDIF entry whose parent is missing",
    base,
    ldif("dn: cn=pc1,ou=hosts,dc=t,dc=example\nobjectClass: device\ncn: pc1\n"),
    "data/ldap/x.ldif",
    "entry 1 dn",
    "cn=pc1,ou=hosts",
    /add the entry ou=hosts,dc=t,dc=example/,
  ],
  [
    "LDIF DN without =",
    base,
    ldif("dn: hosts,dc=t,dc=example\nobjectClass: organizationalUnit\n"),
    "data/ldap/x.ldif",
    "entry 1 dn",
    "hosts,dc=t",
    /attribute=value/,
  ],
  [
    "LDIF DN with an empty RDN",
    base,
    ldif("dn: ou=a,,dc=t,dc=example\nobjectClass: organizationalUnit\n"),
    "data/ldap/x.ldif",
    "entry 1 dn",
    "ou=a,,dc=t",
    /attribute=value/,
  ],
  [
    "LDIF DN with an empty value",
    base,
    ldif("dn: ou=,dc=t,dc=example\nobjectClass: organizationalUnit\n"),
    "data/ldap/x.ldif",
    "entry 1 dn",
    "ou=,dc=t",
    /attribute=value/,
  ],
  [
    "LDIF DN with a bad attribute type",
    base,
    ldif("dn: o u=a,dc=t,dc=example\nobjectClass: organizationalUnit\n"),
    "data/ldap/x.ldif",
    "entry 1 dn",
    "o u=a",
    /attribute=value/,
  ],
  [
    "LDIF DN with a trailing backslash",
    base,
    ldif("dn: ou=a,dc=t,dc=example\\\nobjectClass: organizationalUnit\n"),
    "data/ldap/x.ldif",
    "entry 1 dn",
    "ou=a",
    /attribute=value/,
  ],
  [
    "LDIF DN in base64 with a newline",
    base,
    ldif(
      `dn:: ${Buffer.from("ou=a\nx,dc=t,dc=example").toString("base64")}\nobjectClass: organizationalUnit\n`,
    ),
    "data/ldap/x.ldif",
    "entry 1 dn",
    "ou=a\\nx",
    /attribute=value/,
  ],
  [
    "LDIF entry outside the suffix",
    base,
    ldif("dn: ou=x,dc=other\nobjectClass: organizationalUnit\n"),
    "data/ldap/x.ldif",
    "entry 1 dn",
    "dc=other",
    /end the DN with ,dc=t,dc=example/,
  ],
  [
    "LDIF redefines a generated entry",
    base,
    ldif("dn: ou=people,dc=t,dc=example\nobjectClass: organizationalUnit\n"),
    "data/ldap/x.ldif",
    "entry 1 dn",
    "ou=people",
    /define each entry once/,
  ],
  [
    "LDIF cleartext userPassword",
    base,
    ldif(
      "dn: cn=svc,dc=t,dc=example\nobjectClass: person\ncn: svc\nsn: s\nuserPassword: {SSHA}hunter2\n",
    ),
    "data/ldap/x.ldif",
    "entry 1 userPassword",
    "(hidden)",
    HASH_FIX,
  ],
  [
    "LDIF without objectClass",
    base,
    ldif("dn: ou=x,dc=t,dc=example\nou: x\n"),
    "data/ldap/x.ldif",
    "entry 1 objectClass",
    "(not set)",
    /objectClass/,
  ],
  [
    "LDIF not starting with dn:",
    base,
    ldif("objectClass: top\n"),
    "data/ldap/x.ldif",
    "(document)",
    "(not set)",
    /LDIF syntax/,
  ],
];

describe("data/ldap refuses", () => {
  test.each(cases)("%s", (_name, yaml, files, file, key, value, fix) => {
    expectProblem(() => parseLdapData(yaml, files), { file, key, value, fix });
  });

  test("no cleartext value ever appears in the message", () => {
    for (const text of [
      user(`{ uid: u1, cn: U, sn: O, uidNumber: 2001, gidNumber: 3000, password: hunter2 }`),
      hash("{SSHA}hunter2"),
    ])
      expect(() => parseLdapData(text)).toThrow(/^(?![\s\S]*hunter2)/);
  });

  const dir = fs.mkdtempSync(join(tmpdir(), "flt-ldap-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const at = (d: string) => ({ dhcp: "", ldap: d, www: "" });
  const label = (p: string) => p.replace(dir, "data/ldap-x");
  test("a missing directory.yaml", () => {
    fs.mkdirSync(join(dir, "empty"));
    expectProblem(() => loadDataSet("ldap", at(join(dir, "empty")), label), {
      file: "data/ldap-x/empty/directory.yaml",
      key: "(file)",
      problem: /does not exist/,
      fix: /create data\/ldap-x\/empty\/directory.yaml/,
    });
  });
  test("a missing directory", () => {
    expectProblem(() => loadDataSet("ldap", at(join(dir, "none")), label), {
      key: "(folder)",
      problem: /does not exist/,
      fix: /fleetlab:data.ldap/,
    });
  });
  test("directory.yaml that is a directory", () => {
    fs.mkdirSync(join(dir, "d", "directory.yaml"), { recursive: true });
    expectProblem(() => loadDataSet("ldap", at(join(dir, "d")), label), {
      key: "(file)",
      problem: /is a directory/,
      fix: /create/,
    });
  });
});

describe("password hashes slapd verifies are accepted", () => {
  test.each([
    HASH,
    "{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=",
    `{SSHA256}${Buffer.alloc(36, 2).toString("base64")}`,
    `{SSHA512}${Buffer.alloc(72, 3).toString("base64")}`,
    "{CRYPT}$6$rounds=5000$saltsalt$" + "a".repeat(86),
    "{CRYPT}$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7",
    "{crypt}abcdefghijklm",
  ])("%s", (h) => expect(passwordHashProblem(h)).toBeUndefined());
});
