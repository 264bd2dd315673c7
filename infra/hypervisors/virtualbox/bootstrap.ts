// The small Ignition config that goes into the VM's guest property. VirtualBox 7.x
// refuses guest property values over about 1 KiB (VERR_TOO_MUCH_DATA, coreos/ignition
// issue 2226), and a node's real config carries its TLS key and certificates (several
// KiB). So the property holds only a pointer: Ignition's `config.replace` fetches the
// full config from the host over HTTP and accepts it only if its SHA-512 matches, so
// plain HTTP on the host-only network is enough (integrity from the hash; the network
// is the host and its own VMs).
import * as crypto from "crypto";
import { IGNITION_VERSION } from "../../ignition/types";

/** What VirtualBox accepted in the reproduction (1084 bytes failed). */
export const GUEST_PROPERTY_LIMIT = 1024;

export interface BootstrapConfig {
  ignition: {
    version: typeof IGNITION_VERSION;
    config: { replace: { source: string; verification: { hash: string } } };
  };
}

export function sha512(text: string): string {
  return crypto.createHash("sha512").update(text).digest("hex");
}

/** URL path a node's full config is served under. */
export function configPath(vmName: string): string {
  return `/${encodeURIComponent(vmName)}.ign`;
}

export function configUrl(hostIp: string, port: number, vmName: string): string {
  return `http://${hostIp}:${port}${configPath(vmName)}`;
}

/** The guest property value: replace me with the config at `url`, if its hash matches. */
export function bootstrapConfig(url: string, fullConfig: string): string {
  const cfg: BootstrapConfig = {
    ignition: {
      version: IGNITION_VERSION,
      config: { replace: { source: url, verification: { hash: `sha512-${sha512(fullConfig)}` } } },
    },
  };
  const text = JSON.stringify(cfg);
  // Fails here, with the reason, rather than as VERR_TOO_MUCH_DATA from VBoxManage.
  if (Buffer.byteLength(text) > GUEST_PROPERTY_LIMIT) {
    throw new Error(
      `bootstrap Ignition for ${url} is ${Buffer.byteLength(text)} bytes, over VirtualBox's ` +
        `${GUEST_PROPERTY_LIMIT}-byte guest property limit: shorten the node or stack name`,
    );
  }
  return text;
}
