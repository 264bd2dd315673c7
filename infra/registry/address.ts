// The one place that decides where the nodes reach the lab registry.
import type { LabSpec } from "../config/types";
import { labHop, type SshHop } from "../reach/hop";

/** The registry's port unless the stack sets fleetlab:registryPort. */
export const REGISTRY_PORT = 5000;

export interface RegistryAddress {
  /** The address the nodes reach; the pull side binds only there (or see `through`). */
  host: string;
  port: number;
  /**
   * The hypervisor host's SSH, when the address is on that host (a remote KVM server's
   * lab network): the pull side then listens on 127.0.0.1 here, and a reverse forward
   * over that SSH puts it at host:port on the server (server.ts, the "reach" side).
   */
  through?: SshHop;
}

/**
 * local: libvirt's lab network has the host as its gateway, on the host's bridge;
 * dev: the lab network is VirtualBox's host-only network, and the host's address on it
 * is the network's gateway (the VirtualBox driver checks that the interface has it).
 * faculty: the VMs run on a remote KVM server, and the management host is not on the
 * lab network: the nodes reach the registry at the gateway, on the server, where the
 * SSH forward through the server puts it. A faculty lab with a local URI (Pulumi run
 * on the KVM server itself) is as local.
 */
export function registryAddress(spec: LabSpec, port = spec.registry.port): RegistryAddress {
  switch (spec.environment) {
    case "local":
    case "dev":
      return { host: spec.network.gateway, port };
    case "faculty": {
      const through = labHop(spec);
      return { host: spec.network.gateway, port, ...(through && { through }) };
    }
  }
}

export const hostPort = (a: RegistryAddress): string => `${a.host}:${a.port}`;

/** Where the pull side listens on the management host. */
export const pullListen = (a: RegistryAddress): RegistryAddress =>
  a.through ? { host: "127.0.0.1", port: a.port } : { host: a.host, port: a.port };
