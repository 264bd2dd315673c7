// Typed subset of the Ignition config spec 3.3.0 that fleetlab emits. Only fields we
// use are declared, so the compiler rejects anything a 3.3.0 validator would not know.
// 3.3.0 exactly: Flatcar stable accepts it and Debian 12's ignition-validate (2.14)
// rejects 3.4.0.

export const IGNITION_VERSION = "3.3.0";

export interface IgnitionResource {
  /** data: URL (RFC 2397); we never reference remote URLs. */
  source: string;
  compression?: string;
}

export interface IgnitionNodeUser {
  name: string;
}

export interface IgnitionFile {
  path: string;
  /** Decimal in JSON: 0o644 = 420, 0o600 = 384. */
  mode: number;
  overwrite?: boolean;
  contents: IgnitionResource;
  user?: IgnitionNodeUser;
  group?: IgnitionNodeUser;
}

export interface IgnitionDirectory {
  path: string;
  mode: number;
  overwrite?: boolean;
  user?: IgnitionNodeUser;
  group?: IgnitionNodeUser;
}

export interface IgnitionLink {
  path: string;
  target: string;
  hard?: boolean;
  overwrite?: boolean;
}

export interface IgnitionDropin {
  name: string;
  contents: string;
}

export interface IgnitionUnit {
  name: string;
  enabled?: boolean;
  mask?: boolean;
  contents?: string;
  dropins?: IgnitionDropin[];
}

export interface IgnitionUser {
  name: string;
  sshAuthorizedKeys?: string[];
  groups?: string[];
}

export interface IgnitionConfig {
  ignition: { version: typeof IGNITION_VERSION };
  passwd: { users: IgnitionUser[] };
  storage: { directories: IgnitionDirectory[]; files: IgnitionFile[]; links: IgnitionLink[] };
  systemd: { units: IgnitionUnit[] };
}

/** PEM material for one node, from infra/pki. */
export interface NodeTls {
  caCert: string;
  cert: string;
  key: string;
}

/** Extra units/files a later layer (services, drivers) adds to a node. */
export interface IgnitionExtras {
  units?: IgnitionUnit[];
  files?: IgnitionFile[];
}
