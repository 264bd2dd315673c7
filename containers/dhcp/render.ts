// Validated DHCP lab data -> Kea DHCPv4 JSON config. Pure: the dhcp sidekick renders
// with it on the node, from data checked by labdata/dhcp/parse.ts.
import type { DhcpData } from "../../labdata/dhcp/parse";

export interface KeaOptions {
  /** Directory shared with the sidekick: holds the config and the control socket. */
  runDir: string;
  /** Interfaces Kea listens on, e.g. ["eth1"] (the node's LAN link). */
  interfaces: string[];
}

/** Renders Kea's kea-dhcp4.conf (JSON). Stable key order: same data, same bytes. */
export function renderKeaConfig(data: DhcpData, opts: KeaOptions): string {
  const options: { name: string; data: string }[] = [];
  if (data.router) options.push({ name: "routers", data: data.router });
  if (data.dns.length > 0) options.push({ name: "domain-name-servers", data: data.dns.join(", ") });
  if (data.domain) options.push({ name: "domain-name", data: data.domain });
  const config = {
    Dhcp4: {
      // The LAN link may still be coming up when Kea (re)loads: keep retrying to
      // open it instead of silently serving nothing until the next reload.
      "interfaces-config": {
        interfaces: opts.interfaces,
        "dhcp-socket-type": "raw",
        "service-sockets-max-retries": 600,
        "service-sockets-retry-wait-time": 1000,
      },
      "control-socket": { "socket-type": "unix", "socket-name": `${opts.runDir}/kea4-ctrl.sock` },
      // Leases live in memory only: after a failover the new instance starts empty,
      // which is harmless because hosts that matter have reservations and dynamic
      // leases are short (see docs/services.md).
      "lease-database": { type: "memfile", persist: false },
      "host-reservation-identifiers": ["hw-address"],
      "valid-lifetime": data.leaseSeconds,
      "renew-timer": Math.floor(data.leaseSeconds / 2),
      "rebind-timer": Math.floor((data.leaseSeconds * 7) / 8),
      authoritative: true,
      subnet4: [
        {
          id: 1,
          subnet: data.subnet,
          pools: [{ pool: `${data.pool.start} - ${data.pool.end}` }],
          "option-data": options,
          reservations: data.reservations.map((r) => ({
            "hw-address": r.mac,
            "ip-address": r.ip,
            hostname: r.name,
          })),
        },
      ],
      loggers: [{ name: "kea-dhcp4", severity: "INFO", output_options: [{ output: "stdout" }] }],
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
