// Before any resource, for a remote KVM server (qemu+ssh://): that its SSH logs us in
// with a host key known_hosts vouches for, that it has libvirt, and that what the stack
// names on it (the pool, the bridge) is there. Each failure says the key, the value and
// the fix; a local URI is left to the providers, which check it as they run.
import type { LibvirtSettings } from "../../config/types";
import { hopHostName, type SshHop } from "../../reach/hop";
import { sshFailure, where } from "../../reach/tunnel";
import { onServer } from "./host";
import { checkConnection, names, virsh } from "./virsh";

const K = "fleetlab:hypervisor";

/** onServer's answer as the checks read it: ok, ssh's exit status, what it printed. */
function onHost(
  hop: SshHop,
  command: string[],
): { ok: boolean; status: number; stdout: string; stderr: string } {
  const r = onServer(hop, command, 30_000);
  return {
    ok: r.status === 0,
    status: r.status ?? -1,
    stdout: r.stdout ?? "",
    stderr: (r.stderr ?? "") + (r.error ? ` ${r.error.message}` : ""),
  };
}

export function checkRemoteHost(hv: LibvirtSettings, hop: SshHop): void {
  const host = hopHostName(hop);
  // ssh's own exit status 255 is a failure to connect or log in; anything else ran there.
  const login = onHost(hop, ["true"]);
  if (login.status === 255 || login.status === -1)
    throw new Error(sshFailure(hop, login.stderr, `${K}.uri = ${hv.uri}`));
  if (!login.ok)
    throw new Error(
      `${K}.uri = ${hv.uri}: ${hop.host} logs in on ${where(hop)} but cannot run commands there (\`true\` exited ${login.status}: ${login.stderr.trim() || "no message"}); use an account with a login shell that is in the libvirt group`,
    );
  if (!onHost(hop, ["sh", "-c", "command -v virsh"]).ok)
    throw new Error(
      `${K}.uri = ${hv.uri}: ${where(hop)} has no virsh: install libvirt there (Debian: apt install libvirt-daemon-system libvirt-clients qemu-system-x86) and add the user to the libvirt group`,
    );
  const v = virsh(hv.uri);
  checkConnection(v);
  if (!hv.poolPath && v.tryRun(["pool-info", hv.pool]) === undefined) {
    const pools = names(v.tryRun(["pool-list", "--all", "--name"]));
    throw new Error(
      `${K}.pool = ${hv.pool}: no such storage pool on ${host} (it has: ${pools.join(", ") || "none"}); create it there (virsh pool-define-as ${hv.pool} dir --target /var/lib/libvirt/images/${hv.pool}; virsh pool-build ${hv.pool}; virsh pool-start ${hv.pool}; virsh pool-autostart ${hv.pool}) or set ${K}.poolPath and the lab makes it`,
    );
  }
  if (hv.network.mode === "bridge") {
    const bridge = hv.network.bridge;
    if (!onHost(hop, ["ip", "-o", "link", "show", "dev", bridge]).ok) {
      const bridges = onHost(hop, ["ip", "-o", "link", "show", "type", "bridge"])
        .stdout.split("\n")
        .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
        .filter((b): b is string => b !== undefined);
      throw new Error(
        `${K}.bridge = ${bridge}: no such interface on ${host} (its bridges: ${bridges.join(", ") || "none"}); name one of them, or use networkMode: nat and the lab makes its own network`,
      );
    }
  }
}
