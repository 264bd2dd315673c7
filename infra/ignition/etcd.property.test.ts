import fc from "fast-check";
import { parseLabSpec } from "../config";
import { DEMO_SSH_KEY } from "../config/fixtures";
import { initialCluster, peerUrl } from ".";

// Any valid node list: unique names, an odd number of etcd members, any order of
// roles, addresses derived or explicit (unique, inside 10.20.0.0/16).
const nodeLists = fc
  .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/), { minLength: 1, maxLength: 9 })
  .chain((names) =>
    fc.tuple(
      fc.constant(names),
      fc.array(fc.constantFrom("etcd", "worker"), {
        minLength: names.length,
        maxLength: names.length,
      }),
      fc.uniqueArray(fc.integer({ min: 300, max: 60000 }), {
        minLength: names.length,
        maxLength: names.length,
      }),
      fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length }),
    ),
  )
  .map(([names, roles, hosts, explicit]) => {
    const etcdCount = roles.filter((r) => r === "etcd").length;
    // Make the member count odd by promoting or demoting the first node.
    if (etcdCount % 2 === 0) roles[0] = roles[0] === "etcd" && etcdCount > 1 ? "worker" : "etcd";
    return names.map((name, i) => ({
      name,
      role: roles[i],
      ...(explicit[i] && { ip: `10.20.${Math.floor(hosts[i] / 256)}.${hosts[i] % 256}` }),
    }));
  });

test("initial-cluster names every etcd member exactly once with its own peer URL", () => {
  fc.assert(
    fc.property(nodeLists, (nodes) => {
      const spec = parseLabSpec("prop", {
        environment: "local",
        hypervisor: { kind: "libvirt", uri: "qemu:///system" },
        network: { cidr: "10.20.0.0/16", gateway: "10.20.0.1" },
        nodes,
        sshKeys: [DEMO_SSH_KEY],
      });
      const entries = initialCluster(spec)
        .split(",")
        .map((e) => e.split("="));
      const members = spec.nodes.filter((n) => n.role === "etcd");
      expect(entries.map(([name]) => name).sort()).toEqual(members.map((m) => m.name).sort());
      for (const [name, url] of entries) {
        expect(url).toBe(
          peerUrl(
            spec,
            spec.nodes.find((n) => n.name === name)!,
          ),
        );
      }
      expect(new Set(entries.map(([, url]) => url)).size).toBe(entries.length);
    }),
    { numRuns: 300 },
  );
});
