// The lab's services (issue 6) wired to the lab: lab data into the lab's etcd and the
// service units into its fleet engine, both reached from the management host with
// the PKI's admin client cert. Only with fleetlab:services (and machines) set.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, PROJECT_DIR } from "../config";
import type { LabDataSpec, LabSpec } from "../config/types";
import { clientEndpoints } from "../ignition";
import { fleetApiEndpoints } from "../ignition/fleet";
import type { LabMachines } from "../hypervisors";
import type { LabPki } from "../pki";
import { EtcdAccess, FleetApiTcpAccess, LabServices } from "../services";
import { FleetReady } from "./ready";

const DATA_KEY = "fleetlab:data";

/**
 * The one data directory the services read (dhcp.yaml, ldap/, www/ below it, the
 * layout of containers/dataset/load.ts), from fleetlab:data's three entries, which
 * must name that layout: <dir>/dhcp.yaml, <dir>/ldap and <dir>/www. Pure.
 */
export function servicesDataDir(
  stack: string,
  data: LabDataSpec,
  projectDir = PROJECT_DIR,
): string {
  const abs = (p: string) => path.resolve(projectDir, p);
  const root = path.dirname(abs(data.ldap));
  const expected: Record<keyof LabDataSpec, string[]> = {
    dhcp: [path.join(root, "dhcp.yaml")],
    ldap: [path.join(root, "ldap")],
    www: [path.join(root, "www")],
  };
  const problems = (Object.keys(expected) as (keyof LabDataSpec)[])
    .filter((k) => !expected[k].includes(abs(data[k])))
    .map((k) => ({
      key: `${DATA_KEY}.${k}`,
      value: data[k],
      problem: `the services read one data directory (${path.relative(projectDir, root) || "."}, from ${DATA_KEY}.ldap) holding dhcp.yaml, ldap/ and www/`,
      fix: `set ${DATA_KEY}.${k} to ${path.relative(projectDir, expected[k][0])}, or move the data into that layout`,
    }));
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return root;
}

/** The PKI's admin client cert with the CA, as one secret (it holds the key). */
function adminCredentials(
  pki: LabPki,
): pulumi.Output<{ caPem: string; certPem: string; keyPem: string }> {
  return pulumi.secret(
    pulumi
      .all([pki.ca.certPem, pki.admin.certPem, pki.admin.keyPem])
      .apply(([caPem, certPem, keyPem]) => ({ caPem, certPem, keyPem })),
  );
}

/** etcd as the management host reaches it: every member, admin cert (secret). */
export function etcdAccess(spec: LabSpec, pki: LabPki): pulumi.Output<EtcdAccess> {
  return adminCredentials(pki).apply((c) => ({ endpoints: clientEndpoints(spec), ...c }));
}

/**
 * The fleet API the units are submitted to: every node's URL, in node order. Any
 * agent serves the whole cluster's registry, so the client tries the next node when
 * one does not answer, and `pulumi up`/`destroy` survive a dead node.
 */
export function fleetApiAccess(
  spec: LabSpec,
  pki: LabPki,
): pulumi.Output<Extract<FleetApiTcpAccess, { urls: string[] }>> {
  const urls = fleetApiEndpoints(spec);
  return adminCredentials(pki).apply((c) => ({ urls, ...c }));
}

/**
 * LabServices after the machines and once their fleet engine answers (FleetReady):
 * the data needs etcd, the units an agent's API. The children depend on the
 * machines too, so `pulumi destroy` removes units and data before the VMs.
 */
export function createLabServices(
  name: string,
  spec: LabSpec,
  pki: LabPki,
  lab: LabMachines,
  opts: pulumi.ComponentResourceOptions,
): LabServices {
  const machines = [...lab.machines.map((m) => m.resource), ...lab.shared];
  const fleetApi = fleetApiAccess(spec, pki);
  const ready = new FleetReady(
    `${name}-fleet-ready`,
    {
      api: fleetApi,
      nodeIps: spec.nodes.map((n) => n.ip),
      machineIds: lab.machines.map((m) => m.machineId),
    },
    { ...opts, dependsOn: machines },
  );
  return new LabServices(
    `${name}-services`,
    { dataDir: servicesDataDir(spec.stack, spec.data), etcd: etcdAccess(spec, pki), fleetApi },
    { ...opts, dependsOn: [ready, ...machines] },
  );
}
