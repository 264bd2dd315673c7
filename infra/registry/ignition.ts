// What a node needs to trust the lab registry: the lab CA where Docker looks for a
// registry's CA (Flatcar's Docker included): /etc/docker/certs.d/<host:port>/ca.crt.
import { file, type IgnitionFile } from "../ignition";

export const certsDirPath = (hostPort: string): string => `/etc/docker/certs.d/${hostPort}/ca.crt`;

export function registryCaFile(hostPort: string, caPem: string): IgnitionFile {
  if (!/^[^/\s]+:\d{1,5}$/.test(hostPort))
    throw new Error(`registry CA file: ${JSON.stringify(hostPort)} is not host:port`);
  if (!caPem.includes("-----BEGIN CERTIFICATE-----"))
    throw new Error(`registry CA file for ${hostPort}: the CA is not a PEM certificate`);
  return file(certsDirPath(hostPort), caPem);
}
