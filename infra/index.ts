// The Pulumi program: stack config -> LabSpec -> Lab (PKI, per-node Ignition, VMs
// unless fleetlab:machines is false). Bad config stops here, before any resource.
import * as pulumi from "@pulumi/pulumi";
import { Lab } from "./cluster";
import { ConfigError, labSpecFromPulumi, LabSpec } from "./config";
import { TIMING_DEFAULTS } from "./config/defaults";
import { clientEndpoints, initialCluster as computeInitialCluster } from "./ignition";
import { fleetApiEndpoints as computeFleetApiEndpoints } from "./ignition/fleet";
import { driverFor } from "./hypervisors";
import { buildLabImages, mirrorSource } from "./registry";
import { labHop } from "./reach";

/**
 * The stack's LabSpec. Timing keys the stack leaves unset default by how the VMs will
 * run, so a lab on a host without KVM gets emulation-safe etcd and fleet timings
 * without the user knowing the keys; `up` and `preview` say when that happened.
 */
function loadSpec(): LabSpec {
  try {
    const spec = labSpecFromPulumi((first) => ({
      emulated:
        first.machines &&
        first.timing.defaulted.length > 0 &&
        driverFor(first.hypervisor.kind).emulates(first),
    }));
    if (spec.timing.profile === "emulated") {
      const chosen = spec.timing.defaulted.map(
        (k) =>
          `fleetlab:${k}=${TIMING_DEFAULTS.emulated[k as keyof typeof TIMING_DEFAULTS.emulated]}`,
      );
      pulumi.log.info(
        `fleetlab: the VMs run under QEMU software emulation (no usable KVM), so the unset timings take emulation-safe values: ${chosen.join(", ")}. Set them in Pulumi.${spec.stack}.yaml to choose others.`,
      );
    }
    // A remote hypervisor host that cannot be used stops the run here, with nothing made;
    // its message names the key and the fix, so it is shown alone, as a config error is.
    if (spec.machines) {
      try {
        driverFor(spec.hypervisor.kind).checkHost(spec);
      } catch (err) {
        throw new pulumi.RunError((err as Error).message);
      }
    }
    return spec;
  } catch (err) {
    // RunError: Pulumi prints the message alone, without a JavaScript stack trace.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const spec = loadSpec();
const lab = new Lab(spec.stack, spec, {
  images: (names) => {
    pulumi.log.info(
      `fleetlab: building the lab images ${names.join(", ")} (containers/, fleet/; only what changed)`,
    );
    return buildLabImages(names);
  },
  mirror: (name, ref) => mirrorSource(name, ref, (m) => pulumi.log.info(`fleetlab: ${m}`)),
});

export const environment = spec.environment;
export const hypervisor = spec.hypervisor.kind;
export const nodes = spec.nodes.map((n) => n.name);
export const nodeIps = Object.fromEntries(spec.nodes.map((n) => [n.name, n.ip]));
export const nodeRoles = Object.fromEntries(spec.nodes.map((n) => [n.name, n.role]));
export const etcdEndpoints = clientEndpoints(spec);
export const initialCluster = computeInitialCluster(spec);
export const caCert = lab.pki.ca.certPem;
export const adminCert = lab.pki.admin.certPem;
export const adminKey = pulumi.secret(lab.pki.admin.keyPem);
export const machinesCreated = lab.machines !== undefined;
/** The hypervisor host's SSH the lab is reached through (faculty); absent for a lab on this host. */
export const hypervisorSsh = labHop(spec);
/** https://<node ip>:49153 per node when the agents serve the API on TCP (fleetlab:services). */
export const fleetApiEndpoints = computeFleetApiEndpoints(spec);
export const servicesCreated = lab.services !== undefined;
/** host:port of the lab registry the nodes pull from, when the lab has one. */
export const registry = lab.registry?.hostPort;
/** The lab images the nodes run, by digest in the lab registry. */
export const images = lab.registry?.refs();
