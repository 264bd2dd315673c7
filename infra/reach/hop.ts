// The hop between the management host and the lab: the hypervisor host's SSH login
// when libvirt is remote (qemu+ssh://), nothing when the lab runs on this machine.
// The same login libvirt's own ssh transport uses: user, host, port and keyfile= come
// from the URI, everything else (agent, known_hosts, ~/.ssh/config) from the user's
// ssh. Pure.
import type { LabSpec } from "../config/types";

export interface SshHop {
  /** user@host or host, as the URI gives it */
  host: string;
  port?: string;
  /** the URI's keyfile= (libvirt passes it to ssh as -i); the agent and ssh's defaults otherwise */
  identity?: string;
}

const SSH_URI = /^qemu\+ssh:\/\/([^/:?]+)(?::(\d+))?\/[^?]*(?:\?(.*))?$/;

/**
 * The hop of a qemu+ssh URI; undefined for a local one. A target that ssh could read
 * as an option throws (the config check refuses such URIs first).
 */
export function hopOfUri(uri: string): SshHop | undefined {
  const m = SSH_URI.exec(uri);
  if (!m) return undefined;
  const [, host, port, query] = m;
  if (host.startsWith("-") || host.includes("@-"))
    throw new Error(`fleetlab:hypervisor.uri = ${uri}: the ssh target starts with '-'`);
  const keyfile = new URLSearchParams(query ?? "").get("keyfile") ?? undefined;
  if (keyfile !== undefined && (keyfile === "" || keyfile.startsWith("-")))
    throw new Error(`fleetlab:hypervisor.uri = ${uri}: keyfile= must name a file`);
  return { host, ...(port && { port }), ...(keyfile && { identity: keyfile }) };
}

/** The lab's hop: the libvirt host's when it is remote; undefined for a lab on this host. */
export function labHop(spec: LabSpec): SshHop | undefined {
  return spec.hypervisor.kind === "libvirt" ? hopOfUri(spec.hypervisor.uri) : undefined;
}

/** The host part without the user: what known_hosts and error messages name. */
export const hopHostName = (h: SshHop): string => h.host.replace(/^[^@]*@/, "");

/** `[user@]host[:port]`, for ssh's -J. */
export const jumpSpec = (h: SshHop): string => (h.port ? `${h.host}:${h.port}` : h.host);

/** ssh options every call through the hop takes: no prompt ever, port and key as the URI says. */
export function hopOptions(h: SshHop): string[] {
  return [
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    ...(h.port ? ["-p", h.port] : []),
    ...(h.identity ? ["-i", h.identity, "-o", "IdentitiesOnly=yes"] : []),
  ];
}
