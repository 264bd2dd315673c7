// Flatcar's update and reboot settings, /etc/flatcar/update.conf. Without it a node
// takes every release its channel publishes and locksmithd's default strategy
// (`reboot`) restarts it a few minutes later: the stack's pinned release is lost, and
// members of a 3-node etcd can reboot together in the middle of a lab.
// Sources: Flatcar's "Update and reboot strategies" page (flatcar/flatcar-website,
// content/docs/latest/setup/releases/update-strategies.md: SERVER=disabled to turn
// updates off, REBOOT_STRATEGY etcd-lock|reboot|off); flatcar/locksmith
// systemd/locksmithd.service (reads /etc/flatcar/update.conf as an EnvironmentFile)
// and locksmithctl/locksmithctl.go (flags from LOCKSMITHD_* variables: endpoint,
// etcd-cafile, etcd-certfile, etcd-keyfile).
import type { LabSpec } from "../config/types";
import { clientEndpoints } from "./etcd";
import { CA_PATH, NODE_CERT_PATH, NODE_KEY_PATH } from "../../node/paths";

export const UPDATE_CONF_PATH = "/etc/flatcar/update.conf";

/**
 * The update.conf of every node, as KEY=value lines (no comments: update-engine reads
 * the file too, with its own parser).
 * - fleetlab:flatcarUpdates false: `SERVER=disabled` (Flatcar's documented way to stop
 *   update-engine fetching anything; masking the units is discouraged there) and
 *   `REBOOT_STRATEGY=off`, so a hand-applied update reboots only when the admin does.
 * - true: `etcd-lock`. locksmithd takes etcd's reboot semaphore (one holder unless an
 *   admin runs `locksmithctl set-max`) before rebooting, so at most one member is down
 *   at a time and 2 of 3 keep quorum; `reboot` would let every member restart within
 *   the same few minutes of a release. locksmithd reaches the lab's etcd with the
 *   node's own certificate, which the lab CA issued for client use too.
 */
export function updateConf(spec: LabSpec): string {
  const vars: [string, string][] = spec.flatcar.updates
    ? [
        ["GROUP", spec.flatcar.channel],
        ["REBOOT_STRATEGY", "etcd-lock"],
        ["LOCKSMITHD_ENDPOINT", clientEndpoints(spec).join(",")],
        ["LOCKSMITHD_ETCD_CAFILE", CA_PATH],
        ["LOCKSMITHD_ETCD_CERTFILE", NODE_CERT_PATH],
        ["LOCKSMITHD_ETCD_KEYFILE", NODE_KEY_PATH],
      ]
    : [
        ["SERVER", "disabled"],
        ["REBOOT_STRATEGY", "off"],
      ];
  return vars.map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}
