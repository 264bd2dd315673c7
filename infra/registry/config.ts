// The lab registry's configuration (CNCF distribution 2.8, Debian's docker-registry).
//
// Push restriction: by where each side listens, with two registry processes over one
// storage directory. Distribution 2.8 has no "anonymous pull, authenticated push" mode:
// its htpasswd and token auth, and its client-CA setting, apply to every request, pulls
// included, and nodes must pull anonymously. So:
//   - `pull`: TCP on the address the nodes use, TLS, anonymous, read-only (the storage
//     driver's maintenance.readonly mode refuses every write);
//   - `push`: a unix socket in the stack's registry directory (mode 0700), writable.
//     The socket's file permissions are the push credential: only the management
//     host's user that runs Pulumi can connect. A socket (not 127.0.0.1) also means two
//     stacks on one host never fight over a push port, and a Pulumi run inside a network
//     namespace (the e2e) reaches it all the same.
// The pull side keeps no blob-descriptor cache: the push side adds blobs behind its
// back, and a cache could only answer "unknown" for them anyway.
import { stringify } from "yaml";

export type RegistryRole = "pull" | "push";

export interface RegistryConfigInput {
  role: RegistryRole;
  /** pull: host:port to listen on; push: the unix socket's absolute path. */
  addr: string;
  storageDir: string;
  certPath: string;
  keyPath: string;
}

/** Linux's limit on a unix socket path (sun_path, 108 bytes with the NUL). */
export const MAX_SOCKET_PATH = 107;

export function renderRegistryConfig(i: RegistryConfigInput): string {
  const paths: Record<string, string> = { storageDir: i.storageDir };
  if (i.role === "pull") Object.assign(paths, { certPath: i.certPath, keyPath: i.keyPath });
  else paths.addr = i.addr;
  for (const [key, value] of Object.entries(paths)) {
    if (!value.startsWith("/"))
      throw new Error(
        `registry config: ${key} = ${JSON.stringify(value)} is not absolute; fix: give a path starting with /`,
      );
  }
  if (i.role === "push" && Buffer.byteLength(i.addr) > MAX_SOCKET_PATH)
    throw new Error(
      `registry config: the push socket ${JSON.stringify(i.addr)} is longer than ${MAX_SOCKET_PATH} bytes, which a unix socket cannot be; fix: set FLEETLAB_REGISTRY_DIR to a shorter directory`,
    );
  if (i.role === "pull" && !/^[^/\s]+:\d{1,5}$/.test(i.addr))
    throw new Error(
      `registry config: the pull side's addr = ${JSON.stringify(i.addr)} is not host:port; fix: the address the nodes reach, e.g. 10.88.0.1:5000`,
    );
  const config = {
    version: 0.1,
    log: { level: "info", fields: { service: `fleetlab-registry-${i.role}` } },
    storage: {
      filesystem: { rootdirectory: i.storageDir },
      delete: { enabled: i.role === "push" },
      maintenance: {
        // Upload purging rewrites storage; only the writer may do it.
        uploadpurging:
          i.role === "push"
            ? { enabled: true, age: "168h", interval: "24h", dryrun: false }
            : { enabled: false },
        readonly: { enabled: i.role === "pull" },
      },
    },
    http:
      i.role === "pull"
        ? {
            addr: i.addr,
            headers: { "X-Content-Type-Options": ["nosniff"] },
            tls: { certificate: i.certPath, key: i.keyPath },
          }
        : { net: "unix", addr: i.addr, headers: { "X-Content-Type-Options": ["nosniff"] } },
  };
  return stringify(config);
}
