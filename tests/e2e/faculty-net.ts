// The faculty topology's two namespaces, for the tests that play it: a KVM server
// namespace (its own libvirtd, an sshd on its veth address that lets reverse forwards
// bind the lab gateway) and a management namespace whose only route is that address.
// The ssh the management side runs (the program, and libvirt's qemu+ssh) is the real
// OpenSSH client with a config of the test's, first on PATH: libvirt passes PATH to
// ssh, not other variables. Every daemon is started and stopped by PID.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { waitFor } from "../support/wait";
import {
  createNetns,
  Daemon,
  deleteNetns,
  must,
  Netns,
  startDaemon,
  startLibvirt,
  stopDaemon,
} from "./netns";

export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  return must(
    { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" },
    `${cmd} ${args.join(" ")}`,
  );
}

export interface FacultyNet {
  tmp: string;
  srv: Netns;
  mgmt: Netns;
  /** The server's SSH address (its veth), the management side's only route. */
  server: string;
  daemons: Daemon[];
  /** A qemu+ssh URI to the server, logging in as `user` with key `key` (files in tmp). */
  uri(o?: { port?: number; key?: string; user?: string }): string;
  /** An sshd at `listen` (in the server namespace unless `ns`), with the test's host key and keys. */
  sshd(name: string, listen: string, extra?: string[], ns?: Netns): Daemon;
  /** A directory whose `ssh` checks the server against `knownHosts` (put it first on PATH). */
  sshBin(name: string, knownHosts: string): string;
  /** "type base64" of a public key in tmp (`host_key`, `other_host_key`, `id`, `other_id`). */
  pub(key: string): string;
  close(): Promise<void>;
}

/** Both namespaces, veth'd as server 10.251.<n>.1 / management .2, with sshd and libvirtd up. */
export async function createFacultyNet(tmp: string, sfx: string, n = 0): Promise<FacultyNet> {
  const server = `10.251.${n}.1`;
  const srv = createNetns(`fl-srv-${sfx}`);
  const mgmt = createNetns(`fl-mgmt-${sfx}`);
  const daemons: Daemon[] = [];
  const close = async () => {
    await Promise.all([...daemons].reverse().map((d) => stopDaemon(d)));
    deleteNetns(mgmt.name);
    deleteNetns(srv.name);
  };
  try {
    sh("ip", ["link", "add", `flS${sfx}`, "type", "veth", "peer", "name", `flM${sfx}`]);
    sh("ip", ["link", "set", `flS${sfx}`, "netns", srv.name]);
    sh("ip", ["link", "set", `flM${sfx}`, "netns", mgmt.name]);
    sh("ip", ["-n", srv.name, "addr", "add", `${server}/30`, "dev", `flS${sfx}`]);
    sh("ip", ["-n", mgmt.name, "addr", "add", `10.251.${n}.2/30`, "dev", `flM${sfx}`]);
    sh("ip", ["-n", srv.name, "link", "set", `flS${sfx}`, "up"]);
    sh("ip", ["-n", mgmt.name, "link", "set", `flM${sfx}`, "up"]);
    for (const k of ["host_key", "other_host_key", "id", "other_id"])
      sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", k, "-f", path.join(tmp, k)]);
    fs.copyFileSync(path.join(tmp, "id.pub"), path.join(tmp, "authorized_keys"));
    fs.mkdirSync("/run/sshd", { recursive: true });
    const net: FacultyNet = {
      tmp,
      srv,
      mgmt,
      server,
      daemons,
      uri: ({ port = 22, key = "id", user = "root" } = {}) =>
        `qemu+ssh://${user}@${server}${port === 22 ? "" : `:${port}`}/system?keyfile=${tmp}/${key}`,
      sshd(name, listen, extra = [], ns = srv) {
        const file = path.join(tmp, `${name}.conf`);
        fs.writeFileSync(
          file,
          [
            `ListenAddress ${listen}`,
            `HostKey ${tmp}/host_key`,
            `AuthorizedKeysFile ${tmp}/authorized_keys`,
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "StrictModes no",
            `PidFile ${tmp}/${name}.pid`,
            ...extra,
            "",
          ].join("\n"),
        );
        const d = startDaemon(ns, "/usr/sbin/sshd", ["-D", "-e", "-f", file], tmp, name);
        daemons.push(d);
        return d;
      },
      sshBin(name, knownHosts) {
        const file = path.join(tmp, `ssh-${name}.conf`);
        const bin = path.join(tmp, `bin-${name}`);
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, "ssh"), `#!/bin/sh\nexec /usr/bin/ssh -F ${file} "$@"\n`, {
          mode: 0o755,
        });
        fs.writeFileSync(
          file,
          `UserKnownHostsFile ${knownHosts}\nGlobalKnownHostsFile /dev/null\nLogLevel ERROR\n`,
        );
        return bin;
      },
      pub: (k) =>
        fs
          .readFileSync(path.join(tmp, `${k}.pub`), "utf8")
          .split(" ")
          .slice(0, 2)
          .join(" "),
      close,
    };
    fs.writeFileSync(path.join(tmp, "known_hosts"), `${server} ${net.pub("host_key")}\n`);
    // The lab registry's reverse forward must bind the lab gateway (docs/kvm.md).
    net.sshd("sshd", `${server}:22`, ["GatewayPorts clientspecified"]);
    daemons.push(...(await startLibvirt(srv, tmp)));
    await waitFor(
      "the server's sshd",
      () => srv.exec("ss", ["-Hltn", `src ${server}`]).stdout.includes(":22"),
      10_000,
    );
    return net;
  } catch (e) {
    await close();
    throw e;
  }
}
