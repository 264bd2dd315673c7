// Reads the lab data from the repository's data/ directory (the management host's
// source of truth), validates it and encodes each set for etcd. Validation throws
// before anything is written, listing every problem with file, key, value and fix.
import { isAbsolute, join, relative } from "path";
import { parseDhcpData } from "./dhcp/parse";
import { parseLdapData } from "./ldap/parse";
import { packSite } from "./www/site";
import { readSite } from "./www/walk";
import { DataSetName, EncodedDataSet, encodeDataSet } from "./keys";
import { listDataDir, readDataText } from "./read";

/** A path as the user would write it: relative when below the working directory. */
function relativeToCwd(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") && !isAbsolute(r) ? r : p;
}

/**
 * Where each data set lives: the DHCP YAML file, the LDAP and web directories
 * (fleetlab:data). Separate paths, so stacks on different networks can each have
 * their own DHCP file (data/dhcp.<stack>.yaml) and share the directory and site.
 */
export interface DataPaths {
  dhcp: string;
  ldap: string;
  www: string;
}

/** The paths of one data directory laid out as data/: dhcp.yaml, ldap/, www/. */
export const dataDirPaths = (dataDir: string): DataPaths => ({
  dhcp: join(dataDir, "dhcp.yaml"),
  ldap: join(dataDir, "ldap"),
  www: join(dataDir, "www"),
});

/**
 * Loads and encodes one data set from a data directory (the layout of the repo's
 * data/) or from explicit paths. Errors name files relative to the data directory
 * (as data/...), or as given when the paths are explicit (or as `label` names them).
 */
export function loadDataSet(
  set: DataSetName,
  source: string | DataPaths,
  label?: (path: string) => string,
): EncodedDataSet {
  const paths = typeof source === "string" ? dataDirPaths(source) : source;
  const rel =
    label ??
    ((p: string) =>
      typeof source === "string" ? join("data", relative(source, p)) : relativeToCwd(p));
  switch (set) {
    case "dhcp": {
      const file = paths.dhcp;
      return encodeDataSet(
        "dhcp",
        "json",
        JSON.stringify(
          parseDhcpData(
            readDataText(
              file,
              rel(file),
              "dhcp",
              "point fleetlab:data.dhcp at the DHCP YAML file (e.g. data/dhcp.yaml)",
            ),
            rel(file),
          ),
        ),
      );
    }
    case "ldap": {
      const dir = paths.ldap;
      const names = listDataDir(
        dir,
        rel(dir),
        "ldap",
        "point fleetlab:data.ldap at a directory holding directory.yaml (e.g. data/ldap)",
      );
      const ldif = names
        .filter((f) => f.endsWith(".ldif"))
        .map((f) => ({
          file: rel(join(dir, f)),
          text: readDataText(
            join(dir, f),
            rel(join(dir, f)),
            "ldap",
            "make it a plain LDIF file, or remove it",
          ),
        }));
      const yamlFile = join(dir, "directory.yaml");
      const yaml = readDataText(
        yamlFile,
        rel(yamlFile),
        "ldap",
        `create ${rel(yamlFile)} with suffix, organization, users and groups (see data/ldap/directory.yaml)`,
      );
      const data = parseLdapData(yaml, ldif, rel(yamlFile));
      return encodeDataSet("ldap", "json", JSON.stringify(data));
    }
    case "www": {
      const dir = paths.www;
      const files = readSite(dir, rel(dir));
      return encodeDataSet("www", "tar.gz+base64", packSite(files).toString("base64"));
    }
  }
}
