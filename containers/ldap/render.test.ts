import { DataError } from "../../labdata/problems";
import { readFileSync } from "fs";
import { join } from "path";
import { diffEntries, parseLdif, writeLdif } from "../../labdata/ldap/ldif";
import { directoryEntries, parseLdapData } from "../../labdata/ldap/parse";
import { renderSlapdConf } from "./render";

const dir = join(__dirname, "../../data/ldap");
const yaml = readFileSync(join(dir, "directory.yaml"), "utf8");
const hosts = { file: "data/ldap/hosts.ldif", text: readFileSync(join(dir, "hosts.ldif"), "utf8") };
const user = (extra = "") => `suffix: dc=t,dc=example
organization: T
users:
  - { uid: u1, cn: U One, sn: One, uidNumber: 2001, gidNumber: 3000, passwordHash: "{SSHA}yzsHN603+3+ZQT2sjv9IuMYgPcpwb7+/"${extra} }
groups:
  - { cn: g, gidNumber: 3000, members: [u1] }
`;

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error("expected a DataError");
}

describe("parseLdapData", () => {
  it("accepts the repository's directory with its extra LDIF", () => {
    const d = parseLdapData(yaml, [hosts]);
    expect(d.users.map((u) => u.uid)).toEqual(["alice", "bob", "carol"]);
    expect(d.extra.map((e) => e.dn)).toEqual(["ou=hosts,dc=lab,dc=example"]);
  });

  it("rejects a user without a password hash, hiding the value", () => {
    const m = message(() =>
      parseLdapData(user().replace(', passwordHash: "{SSHA}yzsHN603+3+ZQT2sjv9IuMYgPcpwb7+/"', "")),
    );
    expect(m).toContain("directory.yaml: users[0].passwordHash = (not set)");
    expect(m).toContain("slappasswd");
    const plain = message(() =>
      parseLdapData(user().replace("{SSHA}yzsHN603+3+ZQT2sjv9IuMYgPcpwb7+/", "secret")),
    );
    expect(plain).not.toContain("secret");
  });

  it("rejects an LDIF entry outside the suffix, naming the file and DN", () => {
    const bad = {
      file: "data/ldap/x.ldif",
      text: "dn: ou=x,dc=other,dc=org\nobjectClass: organizationalUnit\nou: x\n",
    };
    const m = message(() => parseLdapData(user(), [bad]));
    expect(m).toContain(
      'data/ldap/x.ldif: entry 1 dn = "ou=x,dc=other,dc=org": is outside the suffix dc=t,dc=example',
    );
  });

  it("rejects unknown group members, duplicate uids and a primary group that does not exist", () => {
    const m = message(() =>
      parseLdapData(
        user().replace("members: [u1]", "members: [u1, ghost]") +
          "  - { cn: h, gidNumber: 3001, members: [] }\nx: 1\n",
      ),
    );
    expect(m).toContain("groups[0].members[1]");
    const dup = user().replace(
      "groups:",
      '  - { uid: u1, cn: X, sn: X, uidNumber: 2002, gidNumber: 4000, passwordHash: "{CRYPT}x" }\ngroups:',
    );
    const m2 = message(() => parseLdapData(dup));
    expect(m2).toContain("duplicate uid");
    expect(m2).toContain("users[1].gidNumber = 4000: matches no group");
  });
});

describe("LDIF", () => {
  it("writes and parses back entries, base64 for unsafe values and folded lines", () => {
    const entries = directoryEntries(parseLdapData(yaml, [hosts]));
    entries[3].attrs.description = [" leading space", "zażółć"];
    const text = writeLdif(entries);
    expect(text).toContain("description:: ");
    expect(parseLdif(text)).toEqual(entries);
    expect(parseLdif("dn: cn=a,\n dc=x\ncn: a\n")[0].dn).toBe("cn=a,dc=x");
  });

  it("diffs current into desired: add parents first, delete children first, replace changed attributes", () => {
    const cur = parseLdif(
      "dn: dc=x\ndc: x\n\ndn: ou=a,dc=x\nou: a\n\ndn: cn=old,ou=a,dc=x\ncn: old\n\ndn: cn=m,dc=x\ncn: m\nsn: 1\nmail: z\n",
    );
    const want = parseLdif(
      "dn: dc=x\ndc: x\n\ndn: cn=m,dc=x\ncn: m\nsn: 2\n\ndn: cn=n,ou=b,dc=x\ncn: n\n\ndn: ou=b,dc=x\nou: b\n",
    );
    const d = diffEntries(cur, want);
    expect(d.indexOf("dn: ou=b,dc=x\nchangetype: add")).toBeLessThan(
      d.indexOf("dn: cn=n,ou=b,dc=x\nchangetype: add"),
    );
    expect(d.indexOf("dn: cn=old,ou=a,dc=x\nchangetype: delete")).toBeLessThan(
      d.indexOf("dn: ou=a,dc=x\nchangetype: delete"),
    );
    expect(d).toContain(
      "dn: cn=m,dc=x\nchangetype: modify\nreplace: sn\nsn: 2\n-\ndelete: mail\n-",
    );
    expect(d).not.toContain("dn: dc=x\n");
    expect(diffEntries(want, want)).toBe("");
  });
});

describe("renderSlapdConf", () => {
  it("uses the data set's suffix and lets only the ldapi root manage it", () => {
    const c = renderSlapdConf(parseLdapData(yaml), { dbDir: "/var/lib/ldap" });
    expect(c).toContain('suffix "dc=lab,dc=example"');
    expect(c).toContain('rootdn "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"');
    expect(c).toMatch(
      /access to attrs=userPassword\n {2}by self write\n {2}by anonymous auth\n {2}by \* none/,
    );
  });
});
