// A lab LAN for the Kea container: a namespace created by the caller's ServiceEnv
// holds the DHCP client's end of a veth; the other end sits in Kea's own namespace
// with the server address. The lab subnet exists only in those two namespaces.
import { execFileSync, spawnSync } from "child_process";
import { DOCKER, inNet, Service, ServiceEnv } from "./harness";

export const SERVER_ADDRESS = "192.168.56.2/24";

export interface Lan {
  /** Kea's interface name (put it in the rendered config). */
  serverIf: string;
  /** One DHCP exchange with busybox udhcpc as `mac` (at most `tries` discovers); the leased address. */
  lease(mac: string, tries?: number): string;
}

/**
 * One DHCP exchange with busybox udhcpc on `iface`: -q quit after a lease, -n fail when
 * none, at most `tries` discovers 1 s apart; the script does nothing, so no address is
 * configured anywhere. Prints "lease of <ip> obtained" on success.
 */
export function udhcpcOnce(iface: string, tries = 5): string[] {
  const opts = ["-f", "-q", "-n", "-t", String(tries), "-T", "1", "-A", "1", "-s", "/bin/true"];
  return ["busybox", "udhcpc", "-i", iface, ...opts];
}

export function joinLan(env: ServiceEnv, kea: Service, extraLog: () => string = () => ""): Lan {
  const ns = env.addNetns("dhcp");
  const serverIf = `fd${process.pid}s`;
  const clientIf = `fd${process.pid}c`;
  const inNs = (...cmd: string[]) =>
    execFileSync("ip", ["netns", "exec", ns, ...cmd], { encoding: "utf8", timeout: 30_000 });
  // Create the pair inside the test namespace with its peer directly in Kea's.
  inNs(
    "ip",
    "link",
    "add",
    clientIf,
    "type",
    "veth",
    "peer",
    "name",
    serverIf,
    "netns",
    String(kea.pid),
  );
  for (const c of [
    ["ip", "link", "set", "lo", "up"],
    ["ip", "addr", "add", SERVER_ADDRESS, "dev", serverIf],
    ["ip", "link", "set", serverIf, "up"],
  ]) {
    const r = inNet(kea.pid, c);
    if (r.status !== 0) throw new Error(`${c.join(" ")}: ${r.stderr}`);
  }
  inNs("ip", "link", "set", clientIf, "up");
  return {
    serverIf,
    lease(mac: string, tries = 5): string {
      inNs("ip", "link", "set", clientIf, "down");
      inNs("ip", "link", "set", clientIf, "address", mac);
      inNs("ip", "link", "set", clientIf, "up");
      const r = spawnSync("ip", ["netns", "exec", ns, ...udhcpcOnce(clientIf, tries)], {
        encoding: "utf8",
        timeout: 30_000,
      });
      const m = /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(r.stdout + r.stderr);
      if (m) return m[1];
      const kealog = spawnSync(DOCKER, ["logs", "--tail", "8", kea.name], {
        encoding: "utf8",
      }).stdout;
      throw new Error(
        `udhcpc got no lease for ${mac}: ${r.stdout}${r.stderr}\n${extraLog()}\nkea: ${kealog}`,
      );
    },
  };
}
