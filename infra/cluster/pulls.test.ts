// Reading a node's journal for pulls from the lab registry that failed. docker's lines
// here are real unless marked: tests/services/fixtures/docker-pull-errors.txt (the real
// `docker pull` on this machine), and REAL below, captured with `docker run` (Debian's
// dockerd 20.10.24, docker CLI 28.2.2) against a closed port, an address with no host,
// TLS servers with a self-signed certificate and with one for another IP, servers that
// accept and never answer, HTTP servers answering 500/503/429/401, and a
// docker-registry without the image. What could not be made here safely (a dial that
// times out: this network answers every outside address) is typed from docker's and
// Go's error texts and marked TYPED.
import * as fs from "fs";
import * as path from "path";
import { diagnose, registryPullFailures, type PullCause } from "./pulls";

const DIGEST = `sha256:${"0".repeat(64)}`;
const REAL = {
  refused: [
    "Unable to find image '192.0.2.2:54061/fleetlab/fleet@sha256:0000000000000000000000000000000000000000000000000000000000000000' locally",
    'docker: Error response from daemon: Get "https://192.0.2.2:54061/v2/": dial tcp 192.0.2.2:54061: connect: connection refused',
  ],
  noRoute: [
    "Unable to find image '192.0.2.77:5000/fleetlab/fleet@sha256:0000000000000000000000000000000000000000000000000000000000000000' locally",
    'docker: Error response from daemon: Get "https://192.0.2.77:5000/v2/": dial tcp 192.0.2.77:5000: connect: no route to host',
  ],
  unknownAuthority:
    'docker: Error response from daemon: Get "https://192.0.2.2:44323/v2/": x509: certificate signed by unknown authority',
  otherIp:
    'docker: Error response from daemon: Get "https://192.0.2.2:34177/v2/": x509: certificate is valid for 10.9.9.9, not 192.0.2.2',
  noIpSans:
    'docker: Error response from daemon: Get "https://10.255.255.1:5000/v2/": x509: cannot validate certificate for 10.255.255.1 because it doesn\'t contain any IP SANs',
  handshake:
    'docker: Error response from daemon: Get "https://192.0.2.2:34391/v2/": net/http: TLS handshake timeout',
  headers:
    'docker: Error response from daemon: Get "http://127.0.0.1:42165/v2/": net/http: request canceled (Client.Timeout exceeded while awaiting headers)',
  manifest:
    "docker: Error response from daemon: manifest for 127.0.0.1:5999/fleetlab/fleet@sha256:0000000000000000000000000000000000000000000000000000000000000000 not found: manifest unknown: manifest unknown",
  // These name no address: they are the registry's by the pull that starts before them.
  status503:
    "docker: Error response from daemon: received unexpected HTTP status: 503 Service Unavailable",
  status500:
    "docker: Error response from daemon: received unexpected HTTP status: 500 Internal Server Error",
  rateLimit:
    "docker: Error response from daemon: toomanyrequests: You have reached your pull rate limit.",
  unauthorized: "docker: Error response from daemon: unauthorized",
  configBlob:
    "docker: error pulling image configuration: download failed after attempts=1: unknown blob",
  success: [
    "Unable to find image '127.0.0.1:5999/fleetlab/fleet@sha256:30ebfacd23bac6ee31f85bb04200c10fc087134d459c49e0c2ddcb6f6d5d3df5' locally",
    "127.0.0.1:5999/fleetlab/fleet@sha256:30ebfacd23bac6ee31f85bb04200c10fc087134d459c49e0c2ddcb6f6d5d3df5: Pulling from fleetlab/fleet",
    "46f1d86a1508: Pulling fs layer",
    "46f1d86a1508: Download complete",
    "46f1d86a1508: Pull complete",
    "Digest: sha256:30ebfacd23bac6ee31f85bb04200c10fc087134d459c49e0c2ddcb6f6d5d3df5",
    "Status: Downloaded newer image for 127.0.0.1:5999/fleetlab/fleet@sha256:30ebfacd23bac6ee31f85bb04200c10fc087134d459c49e0c2ddcb6f6d5d3df5",
    // The image was pulled; the container is what failed.
    'docker: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "agent": executable file not found in $PATH: unknown',
  ],
  upToDate:
    "Status: Image is up to date for 127.0.0.1:5999/fleetlab/fleet@sha256:30ebfacd23bac6ee31f85bb04200c10fc087134d459c49e0c2ddcb6f6d5d3df5",
};
const TYPED = {
  // docker.io 20.10's CLI ends its error with a full stop (the issue's example).
  refused2010: `docker: Error response from daemon: Get "https://10.88.0.1:5000/v2/": dial tcp 10.88.0.1:5000: connect: connection refused.`,
  ioTimeout: `docker: Error response from daemon: Get "https://10.88.0.1:5000/v2/": dial tcp 10.88.0.1:5000: i/o timeout`,
  waiting: `docker: Error response from daemon: Get "https://10.88.0.1:5000/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`,
  // Go 1.20 on (Flatcar's docker 24+) words a certificate error so.
  tlsVerify: `docker: Error response from daemon: Get "https://10.88.0.1:5000/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
};

const REG = "10.88.0.1:5000";
const unable = (reg: string, name = "fleetlab/fleet") =>
  `Unable to find image '${reg}/${name}@${DIGEST}' locally`;

let second = 0;
/** Journal lines as journalctl -o short-iso writes them: docker's and systemd's. */
const docker = (...msgs: string[]) =>
  msgs.map(
    (m) =>
      `2026-12-02T10:00:${String(second++ % 60).padStart(2, "0")}+0000 core-02 docker[901]: ${m}`,
  );
const systemd = (m: string) => [
  `2026-12-02T10:00:${String(second++ % 60).padStart(2, "0")}+0000 core-02 systemd[1]: ${m}`,
];
const journal = (...parts: string[][]) => parts.flat().join("\n") + "\n";
const causeOf = (text: string, reg: string) => registryPullFailures(text, reg).map((f) => f.cause);

/** A fleet agent that tried once and failed: systemd's lines around docker's. */
const failedTry = (reg: string, ...err: string[]) => [
  ...systemd("Starting fleet agent on core-02..."),
  ...docker("Error response from daemon: No such container: fleet-agent"),
  ...systemd("Started fleet agent on core-02."),
  ...docker(unable(reg), ...err, "See 'docker run --help'."),
  ...systemd("fleet-agent.service: Main process exited, code=exited, status=125/n/a"),
  ...systemd("fleet-agent.service: Failed with result 'exit-code'."),
  ...systemd("fleet-agent.service: Scheduled restart job, restart counter is at 7."),
];

describe("the real lines of tests/services/fixtures/docker-pull-errors.txt", () => {
  const file = path.join(__dirname, "../../tests/services/fixtures/docker-pull-errors.txt");
  const cases = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.includes("\t"))
    .map((l) => l.split("\t") as [string, string]);
  const expected: Record<string, PullCause> = {
    "unknown-authority": "untrusted",
    "connection-refused": "refused",
    "manifest-unknown": "missing",
  };

  it("holds the cases this reader was written for", () => {
    expect(cases.map(([c]) => c)).toEqual(expect.arrayContaining(Object.keys(expected)));
  });

  it.each(cases)("%s: a failure from the registry the line names", (name, line) => {
    const reg = /(?:https:\/\/|manifest for )([^/"]+)/.exec(line)![1];
    const found = registryPullFailures(journal(docker(line)), reg);
    expect(found).toHaveLength(1);
    if (expected[name]) expect(found[0].cause).toBe(expected[name]);
    // The line is another registry's for any other address.
    expect(registryPullFailures(journal(docker(line)), "10.213.0.9:5000")).toEqual([]);
  });
});

describe("each cause, its words and its fix", () => {
  it("connection refused: the registry is down or the port is closed; pulumi up starts it", () => {
    const reg = "192.0.2.2:54061";
    const [f] = registryPullFailures(journal(failedTry(reg, REAL.refused[1])), reg);
    expect(f).toMatchObject({
      registry: reg,
      cause: "refused",
      said: 'Get "https://192.0.2.2:54061/v2/": dial tcp 192.0.2.2:54061: connect: connection refused',
      at: expect.stringMatching(/^2026-12-02T10:00:\d\d\+0000$/),
    });
    expect(f.why).toMatch(/registry is not running .*firewall/);
    expect(f.fix).toContain("`pulumi up` starts the registry again if it is down");
    expect(f.fix).toContain("reach 54061/tcp");
    expect(f.fix).toContain(`curl --cacert /etc/docker/certs.d/${reg}/ca.crt https://${reg}/v2/`);
    expect(causeOf(journal(docker(TYPED.refused2010)), REG)).toEqual(["refused"]);
    expect(registryPullFailures(journal(docker(TYPED.refused2010)), REG)[0].said).toMatch(
      /connection refused$/,
    );
  });

  it("no route to host, i/o timeout, no connection: the node cannot reach the address", () => {
    expect(causeOf(journal(docker(...REAL.noRoute)), "192.0.2.77:5000")).toEqual(["unreachable"]);
    expect(causeOf(journal(docker(TYPED.ioTimeout)), REG)).toEqual(["unreachable"]);
    expect(causeOf(journal(docker(unable(REG), TYPED.waiting)), REG)).toEqual(["unreachable"]);
    const [f] = registryPullFailures(journal(docker(TYPED.ioTimeout)), REG);
    expect(f.why).toContain("the node cannot reach 10.88.0.1:5000");
    expect(f.fix).toContain("`ip route get 10.88.0.1`");
    expect(f.fix).toContain("reach 5000/tcp");
  });

  it("connected but no answer: the registry hangs or something else holds the port", () => {
    expect(causeOf(journal(docker(REAL.handshake)), "192.0.2.2:34391")).toEqual(["no-answer"]);
    expect(causeOf(journal(docker(REAL.headers)), "127.0.0.1:42165")).toEqual(["no-answer"]);
  });

  it("an unknown authority: the node lacks the lab CA in certs.d", () => {
    const reg = "192.0.2.2:44323";
    const [f] = registryPullFailures(journal(docker(REAL.unknownAuthority)), reg);
    expect(f.cause).toBe("untrusted");
    expect(f.why).toContain(`/etc/docker/certs.d/${reg}/ca.crt on the node is missing`);
    expect(f.fix).toContain(`curl --cacert /etc/docker/certs.d/${reg}/ca.crt https://${reg}/v2/`);
    expect(causeOf(journal(docker(TYPED.tlsVerify)), REG)).toEqual(["untrusted"]);
  });

  it("a certificate for another address: something else answers, or an old certificate", () => {
    expect(causeOf(journal(docker(REAL.otherIp)), "192.0.2.2:34177")).toEqual(["certificate"]);
    expect(causeOf(journal(docker(REAL.noIpSans)), "10.255.255.1:5000")).toEqual(["certificate"]);
    expect(diagnose("x509: certificate is valid for 10.9.9.9, not 10.88.0.1", REG).fix).toContain(
      "issues the registry's certificate for 10.88.0.1",
    );
  });

  it("manifest unknown, an unknown blob: the image is missing; pulumi up pushes it again", () => {
    const reg = "127.0.0.1:5999";
    const [f] = registryPullFailures(journal(docker(REAL.manifest)), reg);
    expect(f).toMatchObject({ cause: "missing", why: "the image is not in the registry" });
    expect(f.fix).toContain("`pulumi up` pushes the images the registry lost again");
    expect(causeOf(journal(docker(unable(reg), REAL.configBlob)), reg)).toEqual(["missing"]);
  });

  it("HTTP errors name no address: they count right after a pull from the registry began", () => {
    const reg = "127.0.0.1:44361";
    for (const err of [REAL.status503, REAL.status500, REAL.rateLimit, REAL.unauthorized]) {
      const [f] = registryPullFailures(journal(failedTry(reg, err)), reg);
      expect([err, f?.cause]).toEqual([err, "registry-error"]);
      expect(f.fix).toContain("pull.log");
    }
    expect(registryPullFailures(journal(docker(unable(reg), REAL.rateLimit)), reg)[0].said).toBe(
      "toomanyrequests: You have reached your pull rate limit",
    );
    // Not after a pull from elsewhere, nor alone.
    expect(causeOf(journal(docker(unable("quay.io"), REAL.status503)), reg)).toEqual([]);
    expect(causeOf(journal(docker(REAL.status503)), reg)).toEqual([]);
  });
});

describe("which lines count", () => {
  it("lines of another registry, or of an address that only looks alike, are not ours", () => {
    const refused = (hp: string) =>
      `docker: Error response from daemon: Get "https://${hp}/v2/": dial tcp ${hp}: connect: connection refused`;
    for (const other of ["10.88.0.2:5000", "10.88.0.1:5001", "110.88.0.1:5000", "10.88.0.1:50001"])
      expect([other, causeOf(journal(failedTry(other, refused(other))), REG)]).toEqual([other, []]);
    expect(causeOf(journal(failedTry(REG, refused(REG))), REG)).toEqual(["refused"]);
  });

  it("journal noise (systemd, etcd, the agent, docker rm) is no pull failure", () => {
    const text = journal(
      ["# etcd-member.service"],
      docker(
        '{"level":"warn","msg":"prober detected unhealthy status","remote-peer-id":"10.88.0.1:5000"}',
        "Error response from daemon: No such container: etcd-member",
      ),
      ["# fleet-agent.service"],
      systemd("Started fleet agent on core-02."),
      docker(
        "agent: waiting for etcd at https://10.88.0.11:2379",
        "Error: No such container: fleet-agent",
        'docker: Error response from daemon: Conflict. The container name "/fleet-agent" is already in use.',
      ),
    );
    expect(registryPullFailures(text, REG)).toEqual([]);
    expect(registryPullFailures("", REG)).toEqual([]);
    expect(registryPullFailures("-- No entries --\n", REG)).toEqual([]);
  });

  it("a pull cut short by systemd: docker rm's error of the next start is not the pull's", () => {
    const text = journal(
      docker(unable(REG)),
      systemd("Stopping fleet agent on core-02..."),
      systemd("Starting fleet agent on core-02..."),
      docker("Error response from daemon: No such container: fleet-agent"),
    );
    expect(registryPullFailures(text, REG)).toEqual([]);
  });
});

describe("the newest outcome wins, per unit", () => {
  const refused = `docker: Error response from daemon: Get "https://${REG}/v2/": dial tcp ${REG}: connect: connection refused`;
  const success = (reg: string) =>
    docker(
      unable(reg),
      `${reg}/fleetlab/fleet@${DIGEST}: Pulling from fleetlab/fleet`,
      "46f1d86a1508: Pull complete",
      `Digest: ${DIGEST}`,
      `Status: Downloaded newer image for ${reg}/fleetlab/fleet@${DIGEST}`,
      "agent: registered machine 1f2e3d",
    );

  it("a node that failed, then pulled, is not reported", () => {
    expect(
      causeOf(journal(failedTry(REG, refused), failedTry(REG, refused), success(REG)), REG),
    ).toEqual([]);
    // The real run: a pull that succeeded and a container that then failed to start.
    expect(
      causeOf(
        journal(failedTry("127.0.0.1:5999", REAL.manifest), docker(...REAL.success)),
        "127.0.0.1:5999",
      ),
    ).toEqual([]);
    expect(causeOf(journal(docker(REAL.manifest, REAL.upToDate)), "127.0.0.1:5999")).toEqual([]);
  });

  it("a node that pulled, then failed, is reported with the newest failure", () => {
    const text = journal(success(REG), failedTry(REG, refused), failedTry(REG, TYPED.ioTimeout));
    const found = registryPullFailures(text, REG);
    expect(found.map((f) => f.cause)).toEqual(["unreachable"]);
  });

  it("a pull that began again and hangs leaves the failure before it standing", () => {
    const text = journal(
      failedTry(REG, TYPED.ioTimeout),
      systemd("Started fleet agent on core-02."),
      docker(unable(REG)),
    );
    expect(causeOf(text, REG)).toEqual(["unreachable"]);
  });

  it("another registry's success does not clear ours", () => {
    expect(causeOf(journal(failedTry(REG, refused), success("10.88.0.1:5001")), REG)).toEqual([
      "refused",
    ]);
  });

  it("each unit's journal is judged apart, named by diagnose.ts's headers", () => {
    const text = journal(
      ["# etcd-member.service"],
      success(REG),
      ["# fleet-agent.service"],
      failedTry(REG, refused),
    );
    expect(registryPullFailures(text, REG)).toEqual([
      expect.objectContaining({ unit: "fleet-agent.service", cause: "refused" }),
    ]);
    const both = journal(
      ["# etcd-member.service"],
      failedTry(REG, REAL.manifest.replace("127.0.0.1:5999", REG)),
      ["# fleet-agent.service"],
      success(REG),
    );
    expect(registryPullFailures(both, REG)).toEqual([
      expect.objectContaining({ unit: "etcd-member.service", cause: "missing" }),
    ]);
  });
});
