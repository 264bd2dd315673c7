// LDAP lab data (data/ldap/directory.yaml plus optional data/ldap/*.ldif) ->
// validated directory -> LDIF entries and slapd.conf. Pure.
import { DataProblems, findDuplicates, int, isMapping, str, yamlMapping } from "../dataset/errors";
import { Entry, normDn, parseLdif, underSuffix } from "./ldif";

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

/** Schemes slapd verifies out of the box; anything else would never let the user bind. */
const HASH = /^\{(SSHA|SHA|SSHA256|SSHA512|CRYPT)\}\S+$/;
const SUFFIX = /^dc=[a-z0-9-]+(,dc=[a-z0-9-]+)*$/i;
const NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Parses and validates the directory; throws a DataError listing every problem. */
export function parseLdapData(
  yamlText: string,
  ldifFiles: { file: string; text: string }[] = [],
  file = "data/ldap/directory.yaml",
): LdapData {
  const p = new DataProblems(file);
  const d = yamlMapping(p, yamlText, "ldap", "suffix: dc=lab,dc=example");
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

  const list = (key: string): Record<string, unknown>[] => {
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
  };

  const users: LdapUser[] = list("users").map((u, i) => {
    const k = (f: string) => `users[${i}].${f}`;
    const uid = str(p, u, "uid", k("uid"), "give the login name") ?? "";
    if (uid && !NAME.test(uid))
      p.add(
        k("uid"),
        uid,
        "is not a valid login name",
        "use lower-case letters, digits, '_' and '-'",
      );
    const passwordHash = typeof u.passwordHash === "string" ? u.passwordHash : "";
    if (!HASH.test(passwordHash)) {
      p.add(
        k("passwordHash"),
        u.passwordHash === undefined ? undefined : "(hidden)",
        "missing or not a {SSHA}/{SHA}/{SSHA256}/{SSHA512}/{CRYPT} hash (plain passwords are never stored)",
        "generate one with `slappasswd -h {SSHA}` and paste it",
      );
    }
    return {
      uid,
      cn: str(p, u, "cn", k("cn"), "give the full name") ?? "",
      sn: str(p, u, "sn", k("sn"), "give the surname") ?? "",
      uidNumber:
        int(
          p,
          u,
          "uidNumber",
          k("uidNumber"),
          [1000, 2 ** 31 - 1],
          "pick a free uid from 1000 up",
        ) ?? 0,
      gidNumber:
        int(
          p,
          u,
          "gidNumber",
          k("gidNumber"),
          [1000, 2 ** 31 - 1],
          "use the gidNumber of the user's primary group",
        ) ?? 0,
      home: typeof u.home === "string" ? u.home : `/home/${uid}`,
      shell: typeof u.shell === "string" ? u.shell : "/bin/bash",
      mail: typeof u.mail === "string" ? u.mail : undefined,
      passwordHash,
    };
  });
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

  const uids = new Set(users.map((u) => u.uid));
  const groups: LdapGroup[] = list("groups").map((g, i) => {
    const k = (f: string) => `groups[${i}].${f}`;
    const members = Array.isArray(g.members) ? g.members.map(String) : [];
    members.forEach((m, j) => {
      if (!uids.has(m))
        p.add(
          `${k("members")}[${j}]`,
          m,
          "is not a uid of any user",
          "add the user under users: or remove the member",
        );
    });
    const cn = str(p, g, "cn", k("cn"), "name the group") ?? "";
    if (cn && !NAME.test(cn))
      p.add(
        k("cn"),
        cn,
        "is not a valid group name",
        "use lower-case letters, digits, '_' and '-'",
      );
    return {
      cn,
      gidNumber:
        int(
          p,
          g,
          "gidNumber",
          k("gidNumber"),
          [1000, 2 ** 31 - 1],
          "pick a free gid from 1000 up",
        ) ?? 0,
      members,
    };
  });
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

  // Extra LDIF files: every entry below the suffix, and no DN twice.
  const extra: Entry[] = [];
  const generated = new Set(
    directoryEntries({ suffix, organization, users, groups, extra: [] }).map((e) => normDn(e.dn)),
  );
  const lp = new DataProblems("data/ldap/*.ldif");
  for (const f of ldifFiles) {
    const fp = new DataProblems(f.file);
    let entries: Entry[] = [];
    try {
      entries = parseLdif(f.text, f.file);
    } catch (e) {
      fp.add("(document)", undefined, (e as Error).message, "fix the LDIF syntax");
    }
    entries.forEach((e, i) => {
      if (!underSuffix(e.dn, suffix))
        fp.add(
          `entry ${i + 1} dn`,
          e.dn,
          `is outside the suffix ${suffix}`,
          `end the DN with ,${suffix}`,
        );
      else if (generated.has(normDn(e.dn)))
        fp.add(
          `entry ${i + 1} dn`,
          e.dn,
          "is already generated from directory.yaml or another LDIF file",
          "define each entry once",
        );
      else if (!Object.keys(e.attrs).some((a) => a.toLowerCase() === "objectclass"))
        fp.add(`entry ${i + 1} objectClass`, undefined, "missing", "add objectClass lines");
      else if (
        Object.keys(e.attrs).some(
          (a) => a.toLowerCase() === "userpassword" && !e.attrs[a].every((v) => HASH.test(v)),
        )
      ) {
        fp.add(
          `entry ${i + 1} userPassword`,
          "(hidden)",
          "is not a hash",
          "generate one with `slappasswd -h {SSHA}`",
        );
      } else {
        generated.add(normDn(e.dn));
        extra.push(e);
      }
    });
    lp.list.push(...fp.list);
  }
  lp.check("ldap");
  return { suffix, organization, users, groups, extra };
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

export interface SlapdOptions {
  /** Directory shared with the sidekick: pid/args files and the ldapi socket. */
  runDir: string;
  /** Database directory (disposable: the sidekick re-seeds it from etcd). */
  dbDir: string;
}

/** The identity of root on the ldapi socket (SASL EXTERNAL): the sidekick. */
export const LDAPI_ROOT_DN = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth";

/** Renders slapd.conf for the directory's suffix. */
export function renderSlapdConf(d: LdapData, o: SlapdOptions): string {
  return `# Rendered by the fleetlab ldap sidekick from the lab data in etcd; do not edit.
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile ${o.runDir}/slapd.pid
argsfile ${o.runDir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
# Anonymous clients may read (not passwords) and never write: see the ACLs below.

database mdb
maxsize 268435456
suffix "${d.suffix}"
# Only root on the local ldapi socket (the sidekick) manages the directory.
rootdn "${LDAPI_ROOT_DN}"
directory ${o.dbDir}
index objectClass eq
index uid,cn,memberUid eq
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by * read
`;
}
