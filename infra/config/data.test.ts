// fleetlab:data as the program reads it: a partial object (only dhcp) takes the
// defaults for the rest, and with fleetlab:services a DHCP file for another network
// stops labSpecFromPulumi, before any resource exists.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, labSpecFromPulumi, loadStackFile, parseLabSpec } from ".";
import { DATA_DEFAULTS } from "./keys";

function engineConfig(stack: string, over: Record<string, unknown> = {}): Record<string, string> {
  const raw = { ...loadStackFile(stack), ...over };
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [
      `fleetlab:${k}`,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  );
}

beforeAll(() =>
  pulumi.runtime.setMocks(
    { newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs },
    "fleetlab",
    "local",
  ),
);

test("a partial fleetlab:data sets the DHCP file and keeps the shared ldap and www", () => {
  const spec = parseLabSpec("local", { ...loadStackFile("local"), data: { dhcp: "x/d.yaml" } });
  expect(spec.data).toEqual({ dhcp: "x/d.yaml", ldap: DATA_DEFAULTS.ldap, www: DATA_DEFAULTS.www });
  // The committed local and faculty stacks name only their own DHCP file.
  expect(loadStackFile("local").data).toEqual({ dhcp: "data/dhcp.local.yaml" });
  expect(loadStackFile("faculty").data).toEqual({ dhcp: "data/dhcp.faculty.yaml" });
  expect(() => parseLabSpec("local", { ...loadStackFile("local"), data: { dns: "x" } })).toThrow(
    /fleetlab:data/,
  );
});

test("with services, the committed local stack passes and another network's subnet stops the program", () => {
  pulumi.runtime.setAllConfig(engineConfig("local", { services: true }));
  expect(labSpecFromPulumi().data.dhcp).toBe("data/dhcp.local.yaml");

  pulumi.runtime.setAllConfig(
    engineConfig("local", { services: true, data: { dhcp: "data/dhcp.yaml" } }),
  );
  expect(() => labSpecFromPulumi()).toThrow(ConfigError);
  expect(() => labSpecFromPulumi()).toThrow(
    /fleetlab:data\.dhcp = "data\/dhcp\.yaml": data\/dhcp\.yaml has subnet 192\.168\.56\.0\/24, but the lab network \(fleetlab:network\.cidr\) is 10\.88\.0\.0\/24/,
  );
  // Without services the data is not read at all.
  pulumi.runtime.setAllConfig(
    engineConfig("local", { services: false, data: { dhcp: "data/nope.yaml" } }),
  );
  expect(labSpecFromPulumi().services).toBe(false);
});

test("a missing or invalid DHCP file is a config error of fleetlab:data.dhcp", () => {
  pulumi.runtime.setAllConfig(
    engineConfig("local", { services: true, data: { dhcp: "data/nope.yaml" } }),
  );
  expect(() => labSpecFromPulumi()).toThrow(
    /fleetlab:data\.dhcp = "data\/nope\.yaml": .*does not exist/,
  );
  // An invalid file (here: not a mapping) is reported with the file's own key and fix.
  pulumi.runtime.setAllConfig(
    engineConfig("local", { services: true, data: { dhcp: "Pulumi.yaml" } }),
  );
  expect(() => labSpecFromPulumi()).toThrow(ConfigError);
  expect(() => labSpecFromPulumi()).toThrow(
    /fleetlab:data\.dhcp = "Pulumi\.yaml": Pulumi\.yaml: subnet/,
  );
});

test("with services, bad LDAP or web data stops the program before any resource, all sets together", () => {
  const dir = mkdtempSync(join(tmpdir(), "flt-data-"));
  try {
    mkdirSync(join(dir, "www"));
    writeFileSync(join(dir, "www", "index.html"), "<h1>x</h1>\n");
    symlinkSync("/etc/passwd", join(dir, "www", "passwd.txt"));
    mkdirSync(join(dir, "ldap"));
    const data = { dhcp: "data/dhcp.local.yaml", ldap: join(dir, "ldap"), www: join(dir, "www") };
    pulumi.runtime.setAllConfig(engineConfig("local", { services: true, data }));
    let err: unknown;
    try {
      labSpecFromPulumi();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const keys = (err as ConfigError).problems.map((p) => p.key);
    expect(keys).toEqual(["fleetlab:data.ldap", "fleetlab:data.www"]);
    expect((err as Error).message).toMatch(
      /directory\.yaml: \(file\) = .*: does not exist\n {4}fix: create /,
    );
    expect((err as Error).message).toMatch(
      /passwd\.txt = "-> \/etc\/passwd": is a symbolic link pointing outside the folder\n {4}fix: replace the link/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
