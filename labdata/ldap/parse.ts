// LDAP lab data (data/ldap/directory.yaml plus optional data/ldap/*.ldif) ->
// validated directory -> LDIF entries. Pure.
import { isMapping, Problems } from "../problems";
import { findDuplicates, int, knownKeys, str, yamlMapping } from "../errors";
import { checkExtraLdif } from "./extra";
import { Entry } from "./ldif";
import { HASH_FIX, passwordHashProblem } from "./password";

export interface LdapUser {
  uid: string;
  cn: string;
  sn: string;
  uidNumber: number;
  gidNumber: number;
  home: string;
  shell: string;
  mail?: string;
  passwordHash: string;
}

export interface LdapGroup {
  cn: string;
  gidNumber: number;
  members: string[];
}

export interface LdapData {
  suffix: string;
  organization: string;
  users: LdapUser[];
  groups: LdapGroup[];
  /** Extra entries from data/ldap/*.ldif, all below the suffix. */
  extra: Entry[];
}

const SUFFIX = /^dc=[a-z0-9-]+(,dc=[a-z0-9-]+)*$/i;
const NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const ABS_PATH = /^\/[A-Za-z0-9._/+-]*$/;
const MAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const TOP_KEYS = ["suffix", "organization", "users", "groups"] as const;
const USER_KEYS = [
  "uid",
  "cn",
  "sn",
  "uidNumber",
  "gidNumber",
  "home",
  "shell",
  "mail",
  "passwordHash",
] as const;
const GROUP_KEYS = ["cn", "gidNumber", "members"] as const;
/** Keys that would carry a cleartext password: refused with their own fix, never shown. */
const CLEARTEXT = Object.fromEntries(
  ["password", "userPassword", "passwd", "pass"].map((k) => [
    k,
    {
      problem: "is a cleartext password key: fleetlab stores only hashes, and never this value",
      fix: `remove it and set passwordHash instead (${HASH_FIX})`,
      hide: true,
    },
  ]),
);

/** An optional string field matching `re`, or the fallback; records why it cannot be. */
function optional(
  p: Problems,
  obj: Record<string, unknown>,
  key: string,
  path: string,
  re: RegExp,
  fallback: string | undefined,
  problem: string,
  fix: string,
): string | undefined {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v === "string" && re.test(v)) return v;
  p.add(path, v, problem, fix);
  return fallback;
}
/** Parses and validates the directory; throws a DataError listing every problem. */
export function parseLdapData(
  yamlText: string,
  ldifFiles: { file: string; text: string }[] = [],
  file = "data/ldap/directory.yaml",
): LdapData {
  const p = new Problems(file);
  const d = yamlMapping(p, yamlText, "ldap", "suffix: dc=lab,dc=example");
  knownKeys(p, d, TOP_KEYS, "");
  const suffix = str(p, d, "suffix", "suffix", "e.g. suffix: dc=lab,dc=example") ?? "";
  if (suffix && !SUFFIX.test(suffix))
    p.add("suffix", suffix, "must be a dc=...,dc=... DN", "e.g. dc=lab,dc=example");
  const organization =
    str(
      p,
      d,
      "organization",
      "organization",
      "name the organisation, e.g. organization: Faculty Lab",
    ) ?? "";

  const users = readUsers(p, listOf(p, d, "users"));
  const groups = readGroups(p, listOf(p, d, "groups"), new Set(users.map((u) => u.uid)));
  users.forEach((u, i) => {
    if (u.gidNumber && !groups.some((g) => g.gidNumber === u.gidNumber)) {
      p.add(
        `users[${i}].gidNumber`,
        u.gidNumber,
        "matches no group's gidNumber",
        "add the group under groups: or fix the number",
      );
    }
  });
  p.check("ldap");

  // Extra LDIF files: every entry well-formed, below the suffix, with its parent, once.
  const extra = checkExtraLdif(
    ldifFiles,
    suffix,
    directoryEntries({ suffix, organization, users, groups, extra: [] }),
  );
  return { suffix, organization, users, groups, extra };
}

/** A list of mappings under `key` (none when absent); anything else is a problem. */
function listOf(p: Problems, d: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const v = d[key] ?? [];
  if (!Array.isArray(v)) {
    p.add(key, v, "must be a list", `write ${key}: [] or a list of mappings`);
    return [];
  }
  return v.filter(
    (x, i) =>
      isMapping(x) ||
      (p.add(`${key}[${i}]`, x, "must be a mapping", "see the examples in the file"), false),
  );
}

/** users: each one checked, no uid or uidNumber twice. */
function readUsers(p: Problems, list: Record<string, unknown>[]): LdapUser[] {
  const users = list.map((u, i) => readUser(p, u, i));
  findDuplicates(
    p,
    users,
    (u) => u.uid || undefined,
    (i) => `users[${i}].uid`,
    "uid",
  );
  findDuplicates(
    p,
    users,
    (u) => (u.uidNumber ? String(u.uidNumber) : undefined),
    (i) => `users[${i}].uidNumber`,
    "uidNumber",
  );
  return users;
}

function readUser(p: Problems, u: Record<string, unknown>, i: number): LdapUser {
  const k = (f: string) => `users[${i}].${f}`;
  knownKeys(p, u, USER_KEYS, `users[${i}]`, CLEARTEXT);
  const uid = str(p, u, "uid", k("uid"), "give the login name") ?? "";
  if (uid && !NAME.test(uid))
    p.add(
      k("uid"),
      uid,
      "is not a valid login name",
      "use lower-case letters, digits, '_' and '-'",
    );
  const passwordHash = typeof u.passwordHash === "string" ? u.passwordHash : "";
  const hashProblem = passwordHashProblem(u.passwordHash);
  if (hashProblem)
    p.add(
      k("passwordHash"),
      u.passwordHash === undefined ? undefined : "(hidden)",
      `${hashProblem} (plain passwords are never stored)`,
      HASH_FIX,
    );
  return {
    uid,
    cn: str(p, u, "cn", k("cn"), "give the full name") ?? "",
    sn: str(p, u, "sn", k("sn"), "give the surname") ?? "",
    uidNumber:
      int(p, u, "uidNumber", k("uidNumber"), [1000, 2 ** 31 - 1], "pick a free uid from 1000 up") ??
      0,
    gidNumber:
      int(
        p,
        u,
        "gidNumber",
        k("gidNumber"),
        [1000, 2 ** 31 - 1],
        "use the gidNumber of the user's primary group",
      ) ?? 0,
    home: optional(
      p,
      u,
      "home",
      k("home"),
      ABS_PATH,
      `/home/${uid}`,
      "is not an absolute path",
      "e.g. home: /home/alice (letters, digits, . _ + - and /)",
    )!,
    shell: optional(
      p,
      u,
      "shell",
      k("shell"),
      ABS_PATH,
      "/bin/bash",
      "is not an absolute path",
      "e.g. shell: /bin/bash",
    )!,
    mail: optional(
      p,
      u,
      "mail",
      k("mail"),
      MAIL,
      undefined,
      "is not a mail address",
      "e.g. mail: alice@lab.example",
    ),
    passwordHash,
  };
}

/** groups: each one checked (members must be users), no name or gidNumber twice. */
function readGroups(p: Problems, list: Record<string, unknown>[], uids: Set<string>): LdapGroup[] {
  const groups = list.map((g, i) => readGroup(p, g, i, uids));
  findDuplicates(
    p,
    groups,
    (g) => g.cn || undefined,
    (i) => `groups[${i}].cn`,
    "group name",
  );
  findDuplicates(
    p,
    groups,
    (g) => (g.gidNumber ? String(g.gidNumber) : undefined),
    (i) => `groups[${i}].gidNumber`,
    "gidNumber",
  );
  return groups;
}

function readGroup(
  p: Problems,
  g: Record<string, unknown>,
  i: number,
  uids: Set<string>,
): LdapGroup {
  const k = (f: string) => `groups[${i}].${f}`;
  knownKeys(p, g, GROUP_KEYS, `groups[${i}]`);
  const rawMembers = g.members ?? [];
  if (!Array.isArray(rawMembers))
    p.add(
      k("members"),
      rawMembers,
      "must be a list of uids",
      `write members: [${typeof rawMembers === "string" ? rawMembers : "alice, bob"}]`,
    );
  const memberList: unknown[] = Array.isArray(rawMembers) ? rawMembers : [];
  const members = memberList.map(String);
  members.forEach((m, j) => {
    if (typeof memberList[j] !== "string")
      p.add(
        `${k("members")}[${j}]`,
        memberList[j],
        "must be a uid (a string)",
        "write the user's uid",
      );
    else if (!uids.has(m))
      p.add(
        `${k("members")}[${j}]`,
        m,
        "is not a uid of any user",
        "add the user under users: or remove the member",
      );
  });
  const cn = str(p, g, "cn", k("cn"), "name the group") ?? "";
  if (cn && !NAME.test(cn))
    p.add(k("cn"), cn, "is not a valid group name", "use lower-case letters, digits, '_' and '-'");
  return {
    cn,
    gidNumber:
      int(p, g, "gidNumber", k("gidNumber"), [1000, 2 ** 31 - 1], "pick a free gid from 1000 up") ??
      0,
    members,
  };
}

/** The full directory as entries, parents first. */
export function directoryEntries(d: LdapData): Entry[] {
  const dc = /^dc=([^,]+)/i.exec(d.suffix)?.[1] ?? "";
  return [
    {
      dn: d.suffix,
      attrs: { objectClass: ["top", "dcObject", "organization"], dc: [dc], o: [d.organization] },
    },
    { dn: `ou=people,${d.suffix}`, attrs: { objectClass: ["organizationalUnit"], ou: ["people"] } },
    { dn: `ou=groups,${d.suffix}`, attrs: { objectClass: ["organizationalUnit"], ou: ["groups"] } },
    ...d.users.map((u) => ({
      dn: `uid=${u.uid},ou=people,${d.suffix}`,
      attrs: {
        objectClass: ["inetOrgPerson", "posixAccount"],
        uid: [u.uid],
        cn: [u.cn],
        sn: [u.sn],
        uidNumber: [String(u.uidNumber)],
        gidNumber: [String(u.gidNumber)],
        homeDirectory: [u.home],
        loginShell: [u.shell],
        ...(u.mail ? { mail: [u.mail] } : {}),
        userPassword: [u.passwordHash],
      },
    })),
    ...d.groups.map((g) => ({
      dn: `cn=${g.cn},ou=groups,${d.suffix}`,
      attrs: {
        objectClass: ["posixGroup"],
        cn: [g.cn],
        gidNumber: [String(g.gidNumber)],
        ...(g.members.length > 0 ? { memberUid: g.members } : {}),
      },
    })),
    ...d.extra,
  ];
}
