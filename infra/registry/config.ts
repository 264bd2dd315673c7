// The lab registry's configuration (CNCF distribution 2.8, Debian's docker-registry).
//
// Push restriction: by bind address, with two registry processes over one storage
// directory. Distribution 2.8 has no "anonymous pull, authenticated push" mode: its
// htpasswd and token auth, and its client-CA setting, apply to every request, pulls
// included, and nodes must pull anonymously. So:
//   - `pull`: listens on the address the nodes use, read-only (the storage driver's
//     maintenance.readonly mode refuses every write), anonymous, TLS;
//   - `push`: listens on 127.0.0.1 only, so only a process on the management host can
//     reach it, writable, TLS with the same certificate (its SANs include 127.0.0.1).
// The pull side keeps no blob-descriptor cache: the push side adds blobs behind its
// back, and a cache could only answer "unknown" for them anyway.
import { stringify } from "yaml";

export type RegistryRole = "pull" | "push";

export interface RegistryConfigInput {
  role: RegistryRole;
  /** host:port to listen on. */
  addr: string;
  storageDir: string;
  certPath: string;
  keyPath: string;
}

export function renderRegistryConfig(i: RegistryConfigInput): string {
  for (const [key, value] of Object.entries({
    storageDir: i.storageDir,
    certPath: i.certPath,
    keyPath: i.keyPath,
  })) {
    if (!value.startsWith("/"))
      throw new Error(
        `registry config: ${key} = ${JSON.stringify(value)} is not absolute; fix: give a path starting with /`,
      );
  }
  if (i.role === "push" && !i.addr.startsWith("127.0.0.1:"))
    throw new Error(
      `registry config: the push side's addr = ${i.addr}: it must listen on 127.0.0.1 only, or any host that reaches it could push; fix: 127.0.0.1:<port>`,
    );
  const config = {
    version: 0.1,
    log: { level: "info", fields: { service: `fleetlab-registry-${i.role}` } },
    storage: {
      filesystem: { rootdirectory: i.storageDir },
      delete: { enabled: i.role === "push" },
      maintenance: {
        // Upload purging rewrites storage; only the writer may do it.
        uploadpurging: { enabled: i.role === "push" },
        readonly: { enabled: i.role === "pull" },
      },
    },
    http: {
      addr: i.addr,
      headers: { "X-Content-Type-Options": ["nosniff"] },
      tls: { certificate: i.certPath, key: i.keyPath },
    },
  };
  return stringify(config);
}
