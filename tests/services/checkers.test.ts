// Every config the renderers produce from the repository's data passes its daemon's
// own checker (Debian's kea-dhcp4 -t, nginx -t, slaptest: the versions the images
// install). A broken config must fail the same checkers, so these tests can fail.
import { spawnSync } from "child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parseDhcpData } from "../../labdata/dhcp/parse";
import { renderKeaConfig } from "../../containers/dhcp/render";
import { parseLdapData, directoryEntries } from "../../labdata/ldap/parse";
import { renderSlapdConf } from "../../containers/ldap/render";
import { writeLdif } from "../../labdata/ldap/ldif";
import { renderNginxConf } from "../../containers/www/render";
import { ROOT } from "./harness";

const tmp = mkdtempSync(join(tmpdir(), "flt-checkers-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const data = (p: string) => readFileSync(join(ROOT, "data", p), "utf8");
const run = (cmd: string, args: string[]) =>
  spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });

function ldapData() {
  const dir = join(ROOT, "data/ldap");
  const ldif = readdirSync(dir)
    .filter((f) => f.endsWith(".ldif"))
    .map((f) => ({ file: f, text: readFileSync(join(dir, f), "utf8") }));
  return parseLdapData(data("ldap/directory.yaml"), ldif);
}

describe("kea-dhcp4 -t", () => {
  const check = (text: string) => {
    const f = join(tmp, "kea.conf");
    writeFileSync(f, text);
    return run("kea-dhcp4", ["-t", f]);
  };
  it("accepts the rendered config of data/dhcp.yaml", () => {
    const r = check(
      renderKeaConfig(parseDhcpData(data("dhcp.yaml")), { runDir: tmp, interfaces: ["*"] }),
    );
    expect(r.stderr + r.stdout).not.toMatch(/ERROR/);
    expect(r.status).toBe(0);
  });
  it("rejects a config with a reservation Kea cannot place", () => {
    const cfg = JSON.parse(
      renderKeaConfig(parseDhcpData(data("dhcp.yaml")), { runDir: tmp, interfaces: ["*"] }),
    );
    cfg.Dhcp4.subnet4[0].reservations[0]["ip-address"] = "10.9.9.9";
    expect(check(JSON.stringify(cfg)).status).not.toBe(0);
  });
});

describe("nginx -t", () => {
  const check = (conf: string) => {
    const prefix = join(tmp, "nginx");
    mkdirSync(join(prefix, "site/current"), { recursive: true });
    writeFileSync(join(prefix, "nginx.conf"), conf);
    // nginx opens /dev/stdout for the access log; Node's pipes are sockets, which
    // cannot be opened by path, so give it a plain file as stdout.
    const out = openSync(join(tmp, "nginx.out"), "w");
    try {
      return spawnSync(
        "nginx",
        ["-t", "-p", prefix, "-e", "stderr", "-c", join(prefix, "nginx.conf")],
        {
          encoding: "utf8",
          timeout: 30_000,
          stdio: ["ignore", out, "pipe"],
        },
      );
    } finally {
      closeSync(out);
    }
  };
  it("accepts the rendered config", () => {
    const prefix = join(tmp, "nginx");
    const r = check(
      renderNginxConf({ runDir: prefix, root: join(prefix, "site/current"), port: 18080 }),
    );
    expect(r.stderr).toContain("syntax is ok");
    expect(r.stderr).toContain("test is successful");
  });
  it("rejects a broken config", () => {
    expect(check("events {}\nhttp { server { listen nonsense; } }\n").status).not.toBe(0);
  });
});

describe("slaptest", () => {
  const check = (conf: string) => {
    const db = join(tmp, "ldapdb");
    rmSync(db, { recursive: true, force: true });
    mkdirSync(db, { recursive: true });
    writeFileSync(join(tmp, "slapd.conf"), conf);
    return run("slaptest", ["-u", "-f", join(tmp, "slapd.conf")]);
  };
  it("accepts the rendered slapd.conf, and slapadd -u accepts the rendered entries under it", () => {
    const d = ldapData();
    const conf = renderSlapdConf(d, { dbDir: join(tmp, "ldapdb") });
    const r = check(conf);
    expect(r.stderr).toContain("config file testing succeeded");
    expect(r.status).toBe(0);
    // slapadd -u (dry run) checks every entry against the schema and the suffix.
    writeFileSync(join(tmp, "entries.ldif"), writeLdif(directoryEntries(d)));
    const add = run("slapadd", [
      "-u",
      "-f",
      join(tmp, "slapd.conf"),
      "-l",
      join(tmp, "entries.ldif"),
    ]);
    expect(add.stderr).not.toMatch(/error|invalid/i);
    expect(add.status).toBe(0);
  });
  it("slapadd loads the seed (hot standby's start on ready data), a child listed before its parent included", () => {
    const child = `dn: cn=pc1,ou=labhosts,dc=lab,dc=example
objectClass: device
cn: pc1
`;
    const parent = `dn: ou=labhosts,dc=lab,dc=example
objectClass: organizationalUnit
ou: labhosts
`;
    const dir = join(ROOT, "data/ldap");
    const d = parseLdapData(data("ldap/directory.yaml"), [
      { file: "extra.ldif", text: `${child}\n${parent}` },
      ...readdirSync(dir)
        .filter((f) => f.endsWith(".ldif"))
        .map((f) => ({ file: f, text: readFileSync(join(dir, f), "utf8") })),
    ]);
    expect(d.extra.map((e) => e.dn)[0]).toBe("cn=pc1,ou=labhosts,dc=lab,dc=example");
    check(renderSlapdConf(d, { dbDir: join(tmp, "ldapdb") }));
    // What the sidekick writes as seed.ldif (containers/sidekick/appliers.ts).
    writeFileSync(join(tmp, "seed.ldif"), writeLdif(directoryEntries(d)));
    const conf = join(tmp, "slapd.conf");
    const add = run("slapadd", ["-q", "-f", conf, "-l", join(tmp, "seed.ldif")]);
    expect(add.stderr).not.toMatch(/error|invalid|not found/i);
    expect(add.status).toBe(0);
    const cat = run("slapcat", ["-f", conf]);
    expect(cat.status).toBe(0);
    const dns = [...cat.stdout.matchAll(/^dn: (.*)$/gm)].map((m) => m[1]).sort();
    expect(dns).toEqual(
      directoryEntries(d)
        .map((e) => e.dn)
        .sort(),
    );
  });
  it("rejects a config naming an unknown schema", () => {
    const conf = renderSlapdConf(ldapData(), { dbDir: join(tmp, "ldapdb") });
    expect(check(conf.replace("nis.schema", "no-such.schema")).status).not.toBe(0);
  });
});
