// Reads the lab data from the repository's data/ directory (the management host's
// source of truth), validates it and encodes each set for etcd. Validation throws
// before anything is written, listing every problem with file, key, value and fix.
import { readdirSync, readFileSync, statSync } from "fs";
import { isAbsolute, join, relative } from "path";
import { parseDhcpData } from "../dhcp/render";
import { parseLdapData } from "../ldap/render";
import { packSite, SiteFile, validateSite } from "../www/site";
import { DataSetName, EncodedDataSet, encodeDataSet } from "./keys";

/** A path as the user would write it: relative when below the working directory. */
function relativeToCwd(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") && !isAbsolute(r) ? r : p;
}

function siteFiles(dir: string): SiteFile[] {
  const out: SiteFile[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile())
        out.push({ path: relative(dir, full).split("\\").join("/"), data: readFileSync(full) });
    }
  };
  walk(dir);
  return out;
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
 * (as data/...), or as given when the paths are explicit.
 */
export function loadDataSet(set: DataSetName, source: string | DataPaths): EncodedDataSet {
  const paths = typeof source === "string" ? dataDirPaths(source) : source;
  const rel = (p: string) =>
    typeof source === "string" ? join("data", relative(source, p)) : relativeToCwd(p);
  switch (set) {
    case "dhcp": {
      const file = paths.dhcp;
      return encodeDataSet(
        "dhcp",
        "json",
        JSON.stringify(parseDhcpData(readFileSync(file, "utf8"), rel(file))),
      );
    }
    case "ldap": {
      const dir = paths.ldap;
      const ldif = readdirSync(dir)
        .filter((f) => f.endsWith(".ldif"))
        .sort()
        .map((f) => ({ file: rel(join(dir, f)), text: readFileSync(join(dir, f), "utf8") }));
      const yamlFile = join(dir, "directory.yaml");
      const data = parseLdapData(readFileSync(yamlFile, "utf8"), ldif, rel(yamlFile));
      return encodeDataSet("ldap", "json", JSON.stringify(data));
    }
    case "www": {
      const dir = paths.www;
      const files = siteFiles(dir);
      validateSite(files, rel(dir));
      return encodeDataSet("www", "tar.gz+base64", packSite(files).toString("base64"));
    }
  }
}
