// The wait for the lab's fleet engine is bounded and says what is missing. Real
// sockets on 127.0.0.1 only: a closed port, and a TLS server that answers /machines.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import * as https from "https";
import Module from "module";
import { AddressInfo } from "net";
import { tmpdir } from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { labSpecFromFile } from "../config";
import { createCa } from "../pki/certs";
import { generateLabTls } from "../pki";
import type { NodeReport } from "./diagnose";
import { fleetReadyProvider, FleetReadyInputs, pullHeadline, waitForFleet } from "./ready";

const spec = labSpecFromFile("local");
const tls = generateLabTls(spec);
const node = tls.nodes.get(spec.nodes[0].name)!;
const api = (url: string) => ({
  urls: [url],
  caPem: tls.ca.certPem,
  certPem: tls.admin.certPem,
  keyPem: tls.admin.keyPem,
});

/** A JSON server over TLS with the lab's node cert, client certs required; body per URL. */
async function labTlsServer(body: (url: string) => unknown): Promise<https.Server> {
  const s = https.createServer(
    {
      cert: node.cert,
      key: node.key,
      ca: tls.ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(body(req.url ?? "")));
    },
  );
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return s;
}

/** A /fleet/v1/machines that lists `ips()`. */
const machinesServer = (ips: () => string[]): Promise<https.Server> =>
  labTlsServer(() => ({
    machines: ips().map((ip, n) => ({ id: `m${n}`, primaryIP: ip, metadata: {} })),
  }));

const close = (s: https.Server) => new Promise((r) => s.close(r));
const base = { nodeIps: ["10.1.0.11", "10.1.0.12"], machineIds: [], pollMs: 50 };

test("gives up after its timeout, naming the endpoint and what to check", async () => {
  const s = await machinesServer(() => []);
  const port = (s.address() as AddressInfo).port;
  await close(s); // nothing listens there any more
  const url = `https://127.0.0.1:${port}`;
  await expect(waitForFleet({ ...base, api: api(url), timeoutMs: 300 })).rejects.toThrow(
    new RegExp(
      `not ready after 0 s: cannot reach the fleet API at ${url}[^]*fleet-agent\\.service`,
    ),
  );
});

test("waits until every node's agent has registered, with the admin cert", async () => {
  let calls = 0;
  const s = await machinesServer(() => (++calls < 3 ? ["10.1.0.11"] : ["10.1.0.12", "10.1.0.11"]));
  try {
    const url = `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
    await expect(waitForFleet({ ...base, api: api(url), timeoutMs: 10_000 })).resolves.toEqual([
      "10.1.0.11",
      "10.1.0.12",
    ]);
    expect(calls).toBe(3);
    await expect(
      waitForFleet({ ...base, nodeIps: ["10.1.0.13"], api: api(url), timeoutMs: 200 }),
    ).rejects.toThrow(/no agent registered for 10\.1\.0\.13/);
  } finally {
    await close(s);
  }
});

/** The provider as the engine runs it: serialized, then loaded from the text alone. */
async function shipped(): Promise<typeof fleetReadyProvider> {
  const provider = fleetReadyProvider;
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  const file = path.join(__dirname, "__serialized_ready__.js");
  const m = new Module(file, module) as Module & { _compile(code: string, file: string): void };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(
    __dirname,
  );
  m._compile(sf.text, file);
  return (m.exports as Record<string, () => typeof fleetReadyProvider>)[sf.exportName]();
}

test("asks the next node when the first one is down (the provider as shipped)", async () => {
  const dead = await machinesServer(() => []);
  const deadUrl = `https://127.0.0.1:${(dead.address() as AddressInfo).port}`;
  await close(dead);
  const s = await machinesServer(() => ["10.1.0.11", "10.1.0.12"]);
  try {
    const url = `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const inputs = { ...base, api: { ...api(url), urls: [deadUrl, url] }, timeoutMs: 5_000 };
    const provider = await shipped();
    await expect(provider.create!(inputs)).resolves.toMatchObject({ id: "fleet-ready" });
    // With every node down, the error names each URL and why.
    // With every node down, the error names each URL and why; the registry's probe
    // runs in the shipped provider too.
    const deadPort = deadUrl.split(":")[2];
    const down = {
      ...inputs,
      api: { ...inputs.api, urls: [deadUrl, deadUrl] },
      timeoutMs: 100,
      registry: { hostPort: `127.0.0.1:${deadPort}`, caPem: tls.ca.certPem },
    };
    const err = await provider.create!(down).catch((e: Error) => e);
    expect(String(err)).toContain(
      `cannot reach the fleet API at any of 2 endpoints: ${deadUrl}: connect ECONNREFUSED 127.0.0.1:${deadPort}; ${deadUrl}`,
    );
    expect(String(err)).toContain(
      `from the management host, the lab registry 127.0.0.1:${deadPort} does not answer (connect ECONNREFUSED`,
    );
  } finally {
    await close(s);
  }
}, 60_000);

test("a change of access alone (URLs, credentials, the registry) or of the bound is no change", async () => {
  const olds: FleetReadyInputs = {
    ...base,
    machineIds: ["a", "b"],
    timeoutMs: 1,
    api: { urls: ["https://10.88.0.11:49153"], caPem: "old", certPem: "old", keyPem: "old" },
  };
  const news = {
    ...olds,
    api: api("https://10.88.0.12:49153"),
    timeoutMs: 2,
    registry: { hostPort: "10.88.0.1:5000", caPem: "new" },
  };
  const diff = fleetReadyProvider.diff!;
  await expect(diff("fleet-ready", olds, news)).resolves.toMatchObject({ changes: false });
  await expect(
    diff("fleet-ready", olds, { ...news, machineIds: ["a", "c"] }),
  ).resolves.toMatchObject({ changes: true, replaces: [] });
});

test("a wait that gives up says, per node, whether its agent registered and what its etcd member says", async () => {
  // One TLS server plays both: the fleet API (one agent registered) and an etcd
  // member's /health that sees no leader. A second member's port is closed.
  const s = await labTlsServer((url) =>
    url === "/health"
      ? { health: "false", reason: "RAFT NO LEADER" }
      : { machines: [{ id: "m0", primaryIP: "10.1.0.11", metadata: {} }] },
  );
  const closed = await machinesServer(() => []);
  const closedUrl = `https://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await close(closed);
  try {
    const url = `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const err = await waitForFleet({
      ...base,
      api: api(url),
      etcdUrls: { "10.1.0.11": url, "10.1.0.12": closedUrl },
      timeoutMs: 200,
    }).catch((e: Error) => e);
    expect(String(err)).toContain(
      "10.1.0.11: agent registered; etcd member unhealthy (RAFT NO LEADER)",
    );
    expect(String(err)).toMatch(
      /10\.1\.0\.12: agent NOT registered; etcd member not answering \(connect ECONNREFUSED/,
    );
  } finally {
    await close(s);
  }
});

/** A lab registry's base URL over TLS with the lab's node cert (its SANs hold 127.0.0.1). */
async function registryStandIn(): Promise<https.Server> {
  const s = https.createServer({ cert: node.cert, key: node.key }, (req, res) => {
    res.statusCode = req.url === "/v2/" ? 200 : 404;
    res.end("{}");
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return s;
}

describe("a wait that gives up with the lab registry given", () => {
  let bin: string;
  const REG = "10.88.0.1:5000";
  /** The ssh test double: 10.1.0.12's agent cannot pull from REG, 10.1.0.11's can. */
  const ssh = () => path.join(bin, "ssh");
  beforeAll(() => {
    bin = mkdtempSync(path.join(tmpdir(), "ready-ssh-"));
    writeFileSync(
      ssh(),
      `#!/bin/sh
for a in "$@"; do node="$a"; case "$a" in core@*) break ;; esac; done
echo '# etcd-member.service'
echo '# fleet-agent.service'
echo "2026-12-02T10:00:01+0000 core docker[9]: Unable to find image '${REG}/fleetlab/fleet@sha256:00' locally"
if [ "$node" = core@10.1.0.12 ]; then
  echo '2026-12-02T10:00:02+0000 core docker[9]: docker: Error response from daemon: Get "https://${REG}/v2/": x509: certificate signed by unknown authority.'
else
  echo '2026-12-02T10:00:02+0000 core docker[9]: Status: Downloaded newer image for ${REG}/fleetlab/fleet@sha256:00'
fi
`,
    );
    chmodSync(ssh(), 0o755);
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  test("the headline names the node and the address; the node's line the cause and fix", async () => {
    const s = await machinesServer(() => ["10.1.0.11"]);
    try {
      const url = `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
      const err = await waitForFleet({
        ...base,
        api: api(url),
        timeoutMs: 200,
        readJournals: { ssh: ssh() },
        registry: { hostPort: REG },
      }).catch((e: Error) => e);
      const lines = String(err).split("\n");
      expect(lines[0]).toBe(
        `Error: the lab's fleet engine is not ready after 0 s: node 10.1.0.12 cannot pull from the lab registry ${REG} (the lab CA is not trusted)`,
      );
      expect(lines[1]).toBe(`no agent registered for 10.1.0.12 at ${url}`);
      const at = lines.indexOf("  10.1.0.12: agent NOT registered; no etcd member");
      expect(lines[at + 1]).toMatch(
        new RegExp(
          `^ {4}cannot pull from the lab registry ${REG}: the node does not trust the registry's certificate: .*fix: .*curl --cacert /etc/docker/certs\\.d/${REG}/ca\\.crt`,
        ),
      );
      // The node that pulled has no such line; without a CA, no probe from here.
      expect(String(err).match(/cannot pull from the lab registry/g)).toHaveLength(2);
      expect(String(err)).not.toContain("from the management host");
    } finally {
      await close(s);
    }
  });

  test("the management host says whether the registry answers it, with the lab CA", async () => {
    const fleet = await machinesServer(() => []);
    const reg = await registryStandIn();
    const closed = await registryStandIn();
    const closedPort = (closed.address() as AddressInfo).port;
    await close(closed);
    try {
      const url = `https://127.0.0.1:${(fleet.address() as AddressInfo).port}`;
      const hostPort = `127.0.0.1:${(reg.address() as AddressInfo).port}`;
      const wait = (registry: FleetReadyInputs["registry"]) =>
        waitForFleet({ ...base, api: api(url), timeoutMs: 100, registry }).catch(
          (e: Error) => e.message,
        );
      expect(await wait({ hostPort, caPem: tls.ca.certPem })).toContain(
        `\nfrom the management host, the lab registry ${hostPort} answers (GET /v2/: HTTP 200)\nwhat each node shows:`,
      );
      expect(await wait({ hostPort: `127.0.0.1:${closedPort}`, caPem: tls.ca.certPem })).toContain(
        `from the management host, the lab registry 127.0.0.1:${closedPort} does not answer (connect ECONNREFUSED 127.0.0.1:${closedPort})`,
      );
      const otherCa = createCa("another lab", 1).certPem;
      expect(await wait({ hostPort, caPem: otherCa })).toMatch(
        /the lab registry 127\.0\.0\.1:\d+ answers with a certificate that is not the lab CA's for that address \(/,
      );
      // Nodes with nothing to show: the headline is the engine's, as without a registry.
      expect(await wait({ hostPort, caPem: tls.ca.certPem })).toMatch(
        /^the lab's fleet engine is not ready after 0 s: no agent registered for 10\.1\.0\.11, 10\.1\.0\.12/,
      );
    } finally {
      await close(fleet);
      await close(reg);
    }
  });
});

test("the headline groups nodes by cause, or names each node's", () => {
  const report = (ip: string, cause?: "refused" | "missing"): NodeReport => ({
    ip,
    text: "",
    pulls: cause ? [{ registry: "r:1", cause, why: "", fix: "", said: "" }] : [],
  });
  expect(pullHeadline([report("10.1.0.11")], "r:1")).toBeUndefined();
  expect(
    pullHeadline(
      [report("10.1.0.11", "refused"), report("10.1.0.12"), report("10.1.0.13", "refused")],
      "r:1",
    ),
  ).toBe("nodes 10.1.0.11, 10.1.0.13 cannot pull from the lab registry r:1 (connection refused)");
  expect(
    pullHeadline([report("10.1.0.11", "refused"), report("10.1.0.12", "missing")], "r:1"),
  ).toBe(
    "nodes 10.1.0.11 (connection refused), 10.1.0.12 (image not in the registry) cannot pull from the lab registry r:1",
  );
});
