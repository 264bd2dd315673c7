// The data sets from explicit paths (fleetlab:data): a stack's own DHCP file beside
// the shared LDAP directory and web site, or one directory laid out as data/.
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { dataDirPaths, loadDataSet } from "./load";

const DATA = join(__dirname, "../data");

test("a DHCP file of any name, with the shared ldap and www: the same sets as the directory", () => {
  const paths = { ...dataDirPaths(DATA), dhcp: join(DATA, "dhcp.local.yaml") };
  for (const set of ["ldap", "www"] as const)
    expect(loadDataSet(set, paths).manifest.hash).toBe(loadDataSet(set, DATA).manifest.hash);
  const local = JSON.parse(loadDataSet("dhcp", paths).chunks.join("")) as { subnet: string };
  expect(local.subnet).toBe("10.88.0.0/24");
  expect(loadDataSet("dhcp", DATA).manifest.hash).not.toBe(
    loadDataSet("dhcp", paths).manifest.hash,
  );
});

test("every DHCP file in data/ is valid lab data", () => {
  for (const f of ["dhcp.yaml", "dhcp.local.yaml", "dhcp.faculty.yaml"])
    expect(() => loadDataSet("dhcp", { ...dataDirPaths(DATA), dhcp: join(DATA, f) })).not.toThrow();
});

test("errors name the DHCP file that was given", () => {
  const dir = mkdtempSync(join(tmpdir(), "flt-load-"));
  try {
    const file = join(dir, "dhcp.lab.yaml");
    writeFileSync(file, "subnet: 10.1.0.0/24\npool: { start: 10.1.0.100, end: 10.2.0.1 }\n");
    expect(() => loadDataSet("dhcp", { ...dataDirPaths(DATA), dhcp: file })).toThrow(
      `${file}: pool.end = "10.2.0.1": is outside the usable addresses of subnet 10.1.0.0/24`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
