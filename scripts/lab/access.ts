// How `lab status` and `lab dashboard` reach a running lab: from the stack's outputs
// (the nodes' fleet API and etcd URLs, the lab CA and the admin certificate, its key a
// secret in the state), the same access the program itself builds for the services
// (infra/cluster/services.ts), so they see what `pulumi up` saw.
import type { OutputMap } from "@pulumi/pulumi/automation";
import type { SshHop } from "../../infra/reach";
import type { EtcdAccess, FleetApiTcpAccess } from "../../infra/services/providers";

export interface LabAccess {
  fleetApi: FleetApiTcpAccess;
  etcd: Required<Omit<EtcdAccess, "via">> & Pick<EtcdAccess, "via">;
}

/** The access of stack `stack`, or an error that says what to run first. */
export function labAccess(stack: string, outputs: OutputMap): LabAccess {
  const value = (k: string) => outputs[k]?.value as unknown;
  const strings = (k: string) => {
    const v = value(k);
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : [];
  };
  const text = (k: string) => (typeof value(k) === "string" ? (value(k) as string) : "");
  if (Object.keys(outputs).length === 0 || value("machinesCreated") !== true)
    throw new Error(
      `stack ${stack} has no running lab (no machines in its state): bring it up with \`npm run lab -- up ${stack}\``,
    );
  const urls = strings("fleetApiEndpoints");
  if (urls.length === 0)
    throw new Error(
      `stack ${stack}: its agents serve no fleet API over TCP (fleetlab:services is false), so nothing here can reach fleet; set fleetlab:services to true and run \`npm run lab -- up ${stack}\``,
    );
  const creds = { caPem: text("caCert"), certPem: text("adminCert"), keyPem: text("adminKey") };
  const missing = Object.entries(creds).filter(([, v]) => !v.includes("-----BEGIN"));
  if (missing.length > 0)
    throw new Error(
      `stack ${stack}: the outputs caCert, adminCert and adminKey must hold PEM texts (${missing.map(([k]) => k).join(", ")} do not); run \`npm run lab -- up ${stack}\` again`,
    );
  // A lab behind a remote hypervisor host is reached through its SSH, as `up` reached it.
  const via = hopOutput(value("hypervisorSsh"));
  return {
    fleetApi: { urls, ...creds, ...(via && { via }) },
    etcd: { endpoints: strings("etcdEndpoints"), ...creds, ...(via && { via }) },
  };
}

/** The stack's `hypervisorSsh` output: the hop, or undefined for a lab on this host. */
function hopOutput(v: unknown): SshHop | undefined {
  if (v === undefined || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
  const host = str("host");
  if (!host || host.startsWith("-"))
    throw new Error(
      `the stack's output hypervisorSsh = ${JSON.stringify(v)} names no SSH host; run \`npm run lab -- up\` again`,
    );
  const port = str("port");
  const identity = str("identity");
  return { host, ...(port && { port }), ...(identity && { identity }) };
}
