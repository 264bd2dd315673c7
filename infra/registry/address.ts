// The one place that decides where the nodes reach the lab registry.
import type { LabSpec } from "../config/types";

/** The registry's port unless the stack sets fleetlab:registry.port. */
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
 * lab network at all; where the registry lives there is the next issue's question.
 */
export function registryAddress(spec: LabSpec, port = REGISTRY_PORT): RegistryAddress {
  switch (spec.environment) {
    case "local":
    case "dev":
      return { host: spec.network.gateway, port };
    case "faculty":
      throw new Error(
        `fleetlab:environment = faculty: the lab registry is not yet served to a remote KVM server (issue 18: the management host is not on that lab network); fix: leave fleetlab:registry unset (false) on this stack until then`,
      );
  }
}

export const hostPort = (a: RegistryAddress): string => `${a.host}:${a.port}`;
