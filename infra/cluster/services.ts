// The lab's services (issue 6) wired to the lab: lab data into the lab's etcd and the
// service units into its fleet engine, both reached from the management host with
// the PKI's admin client cert. Only with fleetlab:services (and machines) set.
import * as pulumi from "@pulumi/pulumi";
import { servicesData } from "../config/data";
import { labUnitFiles } from "../config/units";
import type { LabSpec } from "../config/types";
import { clientEndpoints, clientUrl, etcdMembers } from "../ignition";
import { fleetApiEndpoints } from "../ignition/fleet";
import type { LabMachines } from "../hypervisors";
import type { LabPki } from "../pki";
import { EtcdAccess, FleetApiTcpAccess, LabServices } from "../services";
import type { ServiceImage } from "../../units/services";
import { FleetReady } from "./ready";
import { labHop } from "../reach/hop";

// The data the services read and its check against the lab network live with the
// config (infra/config/data.ts), which runs them before any resource exists.
export { checkDhcpServesLab, servicesData, servicesDataPaths } from "../config/data";

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
  const via = labHop(spec);
  return adminCredentials(pki).apply((c) => ({
    endpoints: clientEndpoints(spec),
    ...c,
    ...(via && { via }),
  }));
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
  const via = labHop(spec);
  return adminCredentials(pki).apply((c) => ({ urls, ...c, ...(via && { via }) }));
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
  /** The images by digest in the lab registry; without, the units name the tags. */
  images?: Partial<Record<ServiceImage, pulumi.Output<string>>>,
  /**
   * The lab registry the nodes pull from (host:port) and the lab CA: a wait that gives
   * up then names the nodes that cannot pull from it, and says if it answers here.
   */
  registry?: { hostPort: string; caPem?: pulumi.Input<string> },
): LabServices {
  // Data problems stop the program here, before any resource is registered.
  const data = servicesData(spec);
  const machines = [...lab.machines.map((m) => m.resource), ...lab.shared];
  const fleetApi = fleetApiAccess(spec, pki);
  const ready = new FleetReady(
    `${name}-fleet-ready`,
    {
      api: fleetApi,
      nodeIps: spec.nodes.map((n) => n.ip),
      machineIds: lab.machines.map((m) => m.machineId),
      etcdUrls: Object.fromEntries(etcdMembers(spec).map((n) => [n.ip, clientUrl(spec, n)])),
      registry: registry && pulumi.output(registry),
    },
    { ...opts, dependsOn: machines },
  );
  return new LabServices(
    `${name}-services`,
    {
      data: data.paths,
      hashes: data.hashes,
      etcd: etcdAccess(spec, pki),
      fleetApi,
      images,
      extraUnits: labUnitFiles(spec),
    },
    { ...opts, dependsOn: [ready, ...machines] },
  );
}
