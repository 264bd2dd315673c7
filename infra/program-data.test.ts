// infra/index.ts with services on and one bad data set (a web site with a symlink to
// /etc/passwd, an LDAP folder without directory.yaml): the program stops with the
// keys, values and fixes, and no Pulumi resource is registered at all.
import * as fs from "fs";
import { tmpdir } from "os";
import { join } from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadStackFile } from "./config";
import { MockedResource, pkiMocks } from "./pki/mocks";

// A driver test double: local's domainType is auto, and the real driver would ask virsh.
jest.mock("./hypervisors", () => ({
  driverFor: (kind: string) => ({
    kind,
    emulates: () => false,
    createNetwork: () => [],
    createLab: () => {
      throw new Error("the program planned VMs: it must stop at the bad data first");
    },
  }),
}));

test("bad lab data stops the program before any resource", async () => {
  const dir = fs.mkdtempSync(join(tmpdir(), "flt-program-"));
  try {
    fs.mkdirSync(join(dir, "www"));
    fs.writeFileSync(join(dir, "www", "index.html"), "<h1>x</h1>\n");
    fs.symlinkSync("/etc/passwd", join(dir, "www", "passwd"));
    fs.mkdirSync(join(dir, "ldap"));
    const raw = {
      ...loadStackFile("local"),
      services: true,
      data: { dhcp: "data/dhcp.local.yaml", ldap: join(dir, "ldap"), www: join(dir, "www") },
    };
    pulumi.runtime.setAllConfig(
      Object.fromEntries(
        Object.entries(raw).map(([k, v]) => [
          `fleetlab:${k}`,
          typeof v === "string" ? v : JSON.stringify(v),
        ]),
      ),
    );
    const created: MockedResource[] = [];
    await pulumi.runtime.setMocks(pkiMocks(created), "fleetlab", "local");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(() => require("./index")).toThrow(
      /fleetlab:data\.ldap = .*directory\.yaml.*does not exist[\s\S]*fix: create [\s\S]*fleetlab:data\.www = .*passwd = "-> \/etc\/passwd"[\s\S]*fix: replace the link/,
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(created).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
