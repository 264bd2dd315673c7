// The one place that decides where the nodes reach the lab registry.
import type { LabSpec } from "../config/types";

/** The registry's port unless the stack sets fleetlab:registryPort. */
export const REGISTRY_PORT = 5000;

export interface RegistryAddress {
  /** The management host's address the nodes reach; the pull side binds only there. */
  host: string;
  port: number;
}

/**
 * local: libvirt's lab network has the host as its gateway, on the host's bridge;
 * dev: the lab network is VirtualBox's host-only network, and the host's address on it
 * is the network's gateway (the VirtualBox driver checks that the interface has it).
 * faculty: the VMs run on a remote KVM server, so the management host is not on the
 * lab network at all: undefined (no lab registry there yet; issue 18 plugs in here).
 */
export function registryAddress(
  spec: LabSpec,
  port = spec.registry.port,
): RegistryAddress | undefined {
  switch (spec.environment) {
    case "local":
    case "dev":
      return { host: spec.network.gateway, port };
    case "faculty":
      return undefined;
  }
}

export const hostPort = (a: RegistryAddress): string => `${a.host}:${a.port}`;
