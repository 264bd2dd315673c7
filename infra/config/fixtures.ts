// A valid raw stack config for tests: each test breaks one thing and expects the
// error to name that key. Not used by the program.
import { ConfigError, type Problem } from "../../labdata/problems";
import type { Raw } from "./read";

/** The problems of the ConfigError that `f` throws (fails the test when it throws none). */
export function configProblems(f: () => unknown): Problem[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

/** A real ed25519 public key (its private half was discarded). */
export const DEMO_SSH_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAvvO3NNfli8QNRaCvwDWtz2cOBM0PqxxtgQU06UxX6O fleetlab-demo-replace-me";

export function validRawConfig(): Raw {
  return {
    environment: "local",
    hypervisor: { kind: "libvirt", uri: "qemu:///system", networkMode: "isolated" },
    network: {
      cidr: "10.88.0.0/24",
      gateway: "10.88.0.1",
      dhcpPool: { start: "10.88.0.100", end: "10.88.0.199" },
    },
    nodes: [
      { name: "core-01", role: "etcd", metadata: { lan: "true" } },
      { name: "core-02", role: "etcd" },
      { name: "core-03", role: "etcd" },
    ],
    sshKeys: [DEMO_SSH_KEY],
  };
}
