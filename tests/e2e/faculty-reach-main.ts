// The management side of faculty-reach.test.ts: run inside the test's management
// namespace (whose only route is to the KVM server's SSH), one step per invocation,
// each printing one JSON line. The steps use the program's own modules: the remote
// host checks, the libvirt driver's network calls over qemu+ssh, and infra/reach.
import type { LibvirtSettings } from "../../infra/config/types";
import { checkRemoteHost } from "../../infra/hypervisors/libvirt/preflight";
import { createNetwork, deleteNetwork } from "../../infra/hypervisors/libvirt/shared";
import { waitForSsh } from "../../infra/hypervisors/common/readiness";
import { closeTunnels, hopOfUri, reachAddress, reachUrls } from "../../infra/reach";
import { tunnelThrough } from "../../infra/reach/tunnel";
import { etcdClient } from "../../infra/services/providers";
import {
  ensureRegistry,
  registryRunning,
  runningSides,
  stopRegistry,
} from "../../infra/registry/server";

export interface ReachCase {
  label: string;
  uri: string;
  pool: string;
  bridge?: string;
  /** The directory whose `ssh` (the real client, the case's config) goes first on PATH. */
  sshBin: string;
}

export interface ReachInput {
  step: "setup" | "reach" | "registry-up" | "registry-down" | "teardown";
  uri: string;
  network: { name: string; gateway: string; netmask: string };
  cases: ReachCase[];
  sshBin: string;
  node: { ip: string; etcdUrl: string; ca: string; cert: string; key: string };
  /** The lab registry's directory, its server certificate and key, and a server without GatewayPorts. */
  registry: { dir: string; badDir: string; cert: string; key: string; badUri: string };
}

const settings = (c: ReachCase): LibvirtSettings => ({
  kind: "libvirt",
  uri: c.uri,
  pool: c.pool,
  image: { kind: "flatcar" },
  ignitionFwCfgKey: "opt/org.flatcar-linux/config",
  domainType: "qemu",
  network: c.bridge ? { mode: "bridge", bridge: c.bridge } : { mode: "nat" },
});

async function main(input: ReachInput): Promise<unknown> {
  const path = process.env.PATH ?? "";
  const useSsh = (bin: string) => (process.env.PATH = `${bin}:${path}`);
  const net = { uri: input.uri, ...input.network };
  switch (input.step) {
    case "setup": {
      const checks: Record<string, string> = {};
      for (const c of input.cases) {
        useSsh(c.sshBin);
        try {
          checkRemoteHost(settings(c), hopOfUri(c.uri)!);
          checks[c.label] = "ok";
        } catch (e) {
          checks[c.label] = (e as Error).message;
        }
      }
      useSsh(input.sshBin);
      const { bridge } = await createNetwork({ ...net, mode: "nat" });
      return { checks, bridge };
    }
    case "reach": {
      const via = hopOfUri(input.uri)!;
      const { node } = input;
      const t0 = Date.now();
      const sshAt = await waitForSsh(node.ip, {
        timeoutMs: 30_000,
        intervalMs: 500,
        label: `node ${node.ip}`,
        hint: "",
        diagnose: () => "",
        reach: (ip, port) => reachAddress(via, ip, port),
      });
      const urls = await reachUrls(via, [node.etcdUrl]);
      const fs = await import("fs");
      const access = {
        endpoints: [node.etcdUrl],
        via,
        caPem: fs.readFileSync(node.ca, "utf8"),
        certPem: fs.readFileSync(node.cert, "utf8"),
        keyPem: fs.readFileSync(node.key, "utf8"),
      };
      const etcd = await etcdClient(access);
      await etcd.put("/fleetlab/reach").value("through the KVM server");
      const value = await etcd.get("/fleetlab/reach").string();
      const members = (await etcd.cluster.memberList({})).members.map((m) => m.clientURLs).flat();
      etcd.close();
      // The connection drops (the server, the network): the next client gets a new one.
      const dropped = await tunnelThrough(via);
      process.kill(dropped.pid, "SIGKILL");
      await dropped.exited();
      const again = await etcdClient(access);
      const valueAfterDrop = await again.get("/fleetlab/reach").string();
      again.close();
      // Left open: the process's exit closes it.
      const pid = (await tunnelThrough(via)).pid;
      return {
        sshAfterMs: sshAt,
        urls,
        value,
        members,
        pid,
        dropped: dropped.pid,
        valueAfterDrop,
        ms: Date.now() - t0,
      };
    }
    case "registry-up": {
      const fs = await import("fs");
      const pem = (f: string) => fs.readFileSync(f, "utf8");
      const r = input.registry;
      const server = (dir: string, uri: string, port: number) => ({
        dir,
        pull: { host: input.network.gateway, port, through: hopOfUri(uri)! },
        caPem: pem(input.node.ca),
        certPem: pem(r.cert),
        keyPem: pem(r.key),
      });
      // A server whose sshd keeps reverse forwards on its loopback: a clear error, nothing left.
      let refused = "";
      try {
        await ensureRegistry(server(r.badDir, r.badUri, 5001), 5000);
      } catch (e) {
        refused = (e as Error).message;
      }
      const leftAfterRefusal =
        registryRunning(r.badDir) || Object.keys(runningSides(r.badDir)).length;
      await ensureRegistry(server(r.dir, input.uri, 5000));
      const reach = Number(fs.readFileSync(`${r.dir}/reach.pid`, "utf8"));
      closeTunnels();
      return { refused, leftAfterRefusal, reach };
    }
    case "registry-down":
      await stopRegistry(input.registry.dir);
      await stopRegistry(input.registry.badDir);
      return { stopped: true };
    case "teardown":
      deleteNetwork(net);
      return { deleted: input.network.name };
  }
}

// No process.exit: the process must end by itself once a step is done, as `lab status`
// does, so a tunnel that held it open would show as a step that never returns.
main(JSON.parse(process.argv[2]) as ReachInput).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e: unknown) => {
    process.stdout.write(`${JSON.stringify({ error: (e as Error).message })}\n`);
    process.exitCode = 1;
  },
);
