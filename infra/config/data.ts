// The lab data the services push (fleetlab:data), checked when the program starts:
// the paths exist with the right kind, and the DHCP data serves the lab's own
// network. Runs only with fleetlab:services (labSpecFromPulumi, createLabServices).
import { ConfigError, DataError, Problem, show, where } from "../../labdata/problems";
import * as fs from "fs";
import * as path from "path";
import type { DataPaths } from "../../labdata/load";
import { loadDataSet } from "../../labdata/load";
import { DATA_SETS, DataSetName, decodeChunks, EncodedDataSet } from "../../labdata/keys";
import type { DhcpData } from "../../labdata/dhcp/parse";
import { PROJECT_DIR } from "./load";
import { parseCidr, parseIPv4 } from "../../node/net";
import type { LabDataSpec, LabSpec } from "./types";

const DATA_KEY = "fleetlab:data";

/**
 * The data the services read, from fleetlab:data (relative to the project): the DHCP
 * data may be any YAML file, so each stack can serve its own network's subnet
 * (data/dhcp.<stack>.yaml), while the LDAP directory and the web site are shared
 * directories. Every problem names the key and the fix; the DHCP file is validated
 * when it is loaded (labdata/load.ts). Reads only file types.
 */
export function servicesDataPaths(
  stack: string,
  data: LabDataSpec,
  projectDir = PROJECT_DIR,
): DataPaths {
  const paths: DataPaths = {
    dhcp: path.resolve(projectDir, data.dhcp),
    ldap: path.resolve(projectDir, data.ldap),
    www: path.resolve(projectDir, data.www),
  };
  const kind = (p: string) => {
    try {
      const st = fs.statSync(p);
      return st.isFile() ? "file" : st.isDirectory() ? "directory" : "other";
    } catch {
      return "missing";
    }
  };
  const problems: Problem[] = [];
  const need = (k: keyof LabDataSpec, want: "file" | "directory", fix: string) => {
    const found = kind(paths[k]);
    if (found !== want)
      problems.push({
        key: `${DATA_KEY}.${k}`,
        value: data[k],
        problem: `${paths[k]} ${found === "missing" ? "does not exist" : `is not a ${want}`}`,
        fix,
      });
  };
  if (!/\.ya?ml$/.test(paths.dhcp)) {
    problems.push({
      key: `${DATA_KEY}.dhcp`,
      value: data.dhcp,
      problem: "is not a YAML file (.yaml or .yml)",
      fix: `name the stack's DHCP data file, e.g. data/dhcp.${stack}.yaml (the structure of data/dhcp.yaml)`,
    });
  } else {
    need(
      "dhcp",
      "file",
      `create it from data/dhcp.yaml with the lab network's subnet, or point ${DATA_KEY}.dhcp at an existing file`,
    );
  }
  need(
    "ldap",
    "directory",
    `point ${DATA_KEY}.ldap at a directory holding directory.yaml (e.g. data/ldap)`,
  );
  need("www", "directory", `point ${DATA_KEY}.www at the web site's directory (e.g. data/www)`);
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return paths;
}

/**
 * The DHCP data must serve the lab's own network: Kea answers only clients on the
 * subnet of the interface it listens on, so a subnet other than
 * fleetlab:network.cidr would start fine and silently serve nobody. Inside that
 * subnet (the data validator already keeps router, pool and reservations inside
 * it), no address Kea hands out may be a node's, and no reservation may use a
 * node's MAC. Pure: the parsed data and the spec in, a ConfigError out.
 */
export function checkDhcpServesLab(spec: LabSpec, dhcp: DhcpData, file: string): void {
  const key = `${DATA_KEY}.dhcp`;
  const value = spec.data.dhcp;
  const problems: Problem[] = [];
  const net = parseCidr(spec.network.cidr);
  const sub = parseCidr(dhcp.subnet);
  const cidr = spec.network.cidr;
  if (!net || !sub || net.address !== sub.address || net.prefixLength !== sub.prefixLength) {
    problems.push({
      key,
      value,
      problem: `${file} has subnet ${dhcp.subnet}, but the lab network (fleetlab:network.cidr) is ${cidr}: Kea answers only clients on its interface's subnet, so the lab would get no DHCP`,
      fix: `point ${key} at a file whose subnet is ${cidr}, with pool, router and reservations inside it (e.g. copy data/dhcp.yaml to data/dhcp.${spec.stack}.yaml and change its addresses), or set fleetlab:services to false`,
    });
    throw new ConfigError(spec.stack, problems);
  }
  const start = parseIPv4(dhcp.pool.start) ?? 0;
  const end = parseIPv4(dhcp.pool.end) ?? -1;
  for (const n of spec.nodes) {
    const ip = parseIPv4(n.ip) ?? -1;
    if (ip >= start && ip <= end)
      problems.push({
        key,
        value,
        problem: `${file}: pool ${dhcp.pool.start}-${dhcp.pool.end} holds node ${n.name}'s address ${n.ip}, which Kea could hand to another host`,
        fix: `move the pool off the node addresses, e.g. to fleetlab:network.dhcpPool`,
      });
    dhcp.reservations.forEach((r, i) => {
      if (r.ip === n.ip || r.mac === n.mac)
        problems.push({
          key,
          value,
          problem: `${file}: reservations[${i}] (${r.name}, ${r.mac}, ${r.ip}) uses node ${n.name}'s ${r.ip === n.ip ? `address ${n.ip}` : `MAC ${n.mac}`}`,
          fix: `reserve another address and a MAC outside the nodes' (${n.mac.slice(0, 8)}:..., derived from the node IPs)`,
        });
    });
  }
  if (problems.length > 0) throw new ConfigError(spec.stack, problems);
}

/** A lab-data problem as a problem of its fleetlab:data key (printed without a stack trace). */
function asConfigProblems(spec: LabSpec, set: keyof LabDataSpec, e: DataError): Problem[] {
  return e.problems.map((p) => ({
    key: `${DATA_KEY}.${set}`,
    value: spec.data[set],
    problem: `${where(p)} = ${show(p.value)}: ${p.problem}`,
    fix: p.fix,
  }));
}

/** The lab data, checked: where each set is read from and its content hash. */
export interface CheckedLabData {
  paths: DataPaths;
  hashes: Record<DataSetName, string>;
}

const checked = new WeakMap<LabSpec, CheckedLabData>();

/**
 * The services' data, every set validated (DHCP also against the lab network), so a
 * bad edit to any of them stops the program before any resource is registered. Every
 * problem, the data files' own included, is a ConfigError of its fleetlab:data key;
 * all sets' problems are reported together. Each set is read and validated once per
 * program run: the stack's spec check and the services' resources share the result.
 */
export function servicesData(spec: LabSpec, projectDir = PROJECT_DIR): CheckedLabData {
  const known = projectDir === PROJECT_DIR ? checked.get(spec) : undefined;
  if (known) return known;
  const paths = servicesDataPaths(spec.stack, spec.data, projectDir);
  const rel = (p: string) => {
    const r = path.relative(projectDir, p);
    return r && !r.startsWith("..") && !path.isAbsolute(r) ? r : p;
  };
  const problems: Problem[] = [];
  const sets: Partial<Record<DataSetName, EncodedDataSet>> = {};
  // In the order of the fleetlab:data keys, as the problems are reported.
  for (const set of ["dhcp", "ldap", "www"] as const) {
    try {
      sets[set] = loadDataSet(set, paths, rel);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      problems.push(...asConfigProblems(spec, set, e));
    }
  }
  if (problems.length > 0) throw new ConfigError(spec.stack, problems);
  const dhcp = sets.dhcp as EncodedDataSet;
  checkDhcpServesLab(spec, JSON.parse(decodeChunks(dhcp.manifest, dhcp.chunks)), rel(paths.dhcp));
  const result = {
    paths,
    hashes: Object.fromEntries(DATA_SETS.map((s) => [s, sets[s]?.manifest.hash ?? ""])) as Record<
      DataSetName,
      string
    >,
  };
  if (projectDir === PROJECT_DIR) checked.set(spec, result);
  return result;
}
