// Reads the lab data from the repository's data/ directory (the management host's
// source of truth), validates it and encodes each set for etcd. Validation throws
// before anything is written, listing every problem with file, key, value and fix.
import { readdirSync, readFileSync, statSync } from "fs";
import { join, relative } from "path";
import { parseDhcpData } from "../dhcp/render";
import { parseLdapData } from "../ldap/render";
import { packSite, SiteFile, validateSite } from "../www/site";
import { DataSetName, EncodedDataSet, encodeDataSet } from "./keys";

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

/** Loads and encodes one data set from `dataDir` (default: the repo's data/). */
export function loadDataSet(set: DataSetName, dataDir: string): EncodedDataSet {
  const rel = (p: string) => join("data", relative(dataDir, p));
  switch (set) {
    case "dhcp": {
      const file = join(dataDir, "dhcp.yaml");
      return encodeDataSet(
        "dhcp",
        "json",
        JSON.stringify(parseDhcpData(readFileSync(file, "utf8"), rel(file))),
      );
    }
    case "ldap": {
      const dir = join(dataDir, "ldap");
      const ldif = readdirSync(dir)
        .filter((f) => f.endsWith(".ldif"))
        .sort()
        .map((f) => ({ file: rel(join(dir, f)), text: readFileSync(join(dir, f), "utf8") }));
      const yamlFile = join(dir, "directory.yaml");
      const data = parseLdapData(readFileSync(yamlFile, "utf8"), ldif, rel(yamlFile));
      return encodeDataSet("ldap", "json", JSON.stringify(data));
    }
    case "www": {
      const dir = join(dataDir, "www");
      const files = siteFiles(dir);
      validateSite(files, rel(dir));
      return encodeDataSet("www", "tar.gz+base64", packSite(files).toString("base64"));
    }
  }
}
