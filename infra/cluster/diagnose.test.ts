// The journal part of a stuck lab's error, against `ssh` test doubles (scripts that
// record their argv and answer as ssh would: a journal, a refused key, a hang). The real
// ssh and journald are what the e2e lab's nodes run.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import {
  inspectNodes,
  journalAccessFromEnv,
  journalArgs,
  journalLines,
  journalTail,
  readJournal,
  type JournalAccess,
} from "./diagnose";

let dir: string;

/** The journal of one node as the error shows it. */
const nodeJournal = async (ip: string, a: JournalAccess) => journalLines(await readJournal(ip, a));

/** The error's lines of one node. */
const describeNode = async (ip: string, a: JournalAccess, registry?: string) => {
  const creds = { caPem: "", certPem: "", keyPem: "" };
  const [r] = await inspectNodes([{ ip }], [], creds as never, a, registry);
  return r.text;
};
let argvLog: string;
type Answer = "journal" | "denied" | "hang" | "pull-refused";
/** The test double that gives `answer`. */
const ssh = (answer: Answer) => path.join(dir, `ssh-${answer}`);
const REG = "10.88.0.1:5000";
const REF = `${REG}/fleetlab/fleet@sha256:${"0".repeat(64)}`;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "diagnose-"));
  argvLog = path.join(dir, "argv");
  // Its own name picks the answer; every argument goes on its own line of argvLog.
  const script = `#!/bin/sh
printf '%s\\n' "$@" > "${argvLog}"
case "$(basename "$0")" in
  ssh-journal)
    echo '# etcd-member.service'
    echo '2026-12-02T10:00:00+0000 core-01 docker[812]: {"level":"warn","msg":"prober detected unhealthy status"}'
    printf '2026-12-02T10:00:01+0000 core-01 docker[812]: \\033[31mred\\033[0m %0300d\\n' 0
    echo '# fleet-agent.service'
    echo '2026-12-02T10:00:02+0000 core-01 docker[901]: agent: waiting for etcd'
    ;;
  ssh-denied) echo 'core@10.1.0.11: Permission denied (publickey).' >&2; exit 255 ;;
  ssh-hang) exec sleep 30 ;;
  ssh-pull-refused)
    # An agent whose pull failed, then a new try that hangs, then systemd's noise:
    # docker's reason is more than the shown lines back.
    echo '# etcd-member.service'
    echo '2026-12-02T10:00:00+0000 core-02 docker[812]: {"level":"info","msg":"ready to serve client requests"}'
    echo '# fleet-agent.service'
    echo "2026-12-02T10:00:01+0000 core-02 docker[901]: Unable to find image '${REF}' locally"
    echo '2026-12-02T10:00:01+0000 core-02 docker[901]: docker: Error response from daemon: Get "https://${REG}/v2/": dial tcp ${REG}: connect: connection refused.'
    echo "2026-12-02T10:00:01+0000 core-02 docker[901]: See 'docker run --help'."
    for n in 1 2 3 4 5 6 7 8 9; do
      echo "2026-12-02T10:00:0$n+0000 core-02 systemd[1]: fleet-agent.service: Scheduled restart job, restart counter is at $n."
    done
    echo "2026-12-02T10:00:09+0000 core-02 docker[907]: Unable to find image '${REF}' locally"
    ;;
esac
`;
  for (const answer of ["journal", "denied", "hang", "pull-refused"] as const) {
    writeFileSync(ssh(answer), script);
    chmodSync(ssh(answer), 0o755);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("ssh's argv: options first, `--`, the lab user at the node, one fixed remote command", () => {
  const args = journalArgs("10.1.0.11", { identity: "/k/id", via: "admin@kvm1", lines: 5 });
  const dd = args.indexOf("--");
  expect(args.slice(dd + 1, dd + 2)).toEqual(["core@10.1.0.11"]);
  expect(args.slice(0, dd)).toEqual(
    expect.arrayContaining([
      "BatchMode=yes",
      "ConnectTimeout=5",
      "-i",
      "/k/id",
      "-J",
      "admin@kvm1",
    ]),
  );
  // The lines shown, or more: those read for docker's reason (60 unless told).
  expect(args[args.length - 1]).toBe(
    "'sh' '-c' '" +
      "echo '\\''# etcd-member.service'\\''; journalctl --no-pager -q -o short-iso -n 60 -u etcd-member.service; " +
      "echo '\\''# fleet-agent.service'\\''; journalctl --no-pager -q -o short-iso -n 60 -u fleet-agent.service'",
  );
  expect(journalArgs("10.1.0.11", { lines: 5, scan: 20 }).pop()).toContain(" -n 20 ");
  expect(journalArgs("10.1.0.11", { lines: 80, scan: 20 }).pop()).toContain(" -n 80 ");
});

test("an identity or jump host that ssh would read as an option is refused", () => {
  expect(() => journalArgs("10.1.0.11", { via: "-oProxyCommand=touch /tmp/x" })).toThrow(
    /via "-oProxyCommand=touch \/tmp\/x" is not a file or host/,
  );
  expect(() => journalArgs("10.1.0.11", { identity: "-F/dev/null" })).toThrow(/identity/);
});

test("the journal lines come back indented, control characters escaped, long lines cut", async () => {
  const out = await nodeJournal("10.1.0.11", { ssh: ssh("journal") });
  const lines = out.split("\n");
  expect(lines[0]).toBe("      # etcd-member.service");
  expect(lines).toContain("      # fleet-agent.service");
  expect(out).toContain("prober detected unhealthy status");
  expect(out).toContain("agent: waiting for etcd");
  expect(out).not.toContain("\u001b");
  expect(out).toContain("\\x1b[31mred");
  expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(6 + 200 + 3);
});

test("a key the node refuses: ssh's reason and how to read the journal by hand", async () => {
  const out = await nodeJournal("10.1.0.11", { ssh: ssh("denied") });
  expect(out).toBe(
    "    journal not read over SSH (core@10.1.0.11: Permission denied (publickey).); read it with: ssh core@10.1.0.11 journalctl -u etcd-member.service -u fleet-agent.service (or set FLEETLAB_SSH_IDENTITY to the lab's key)",
  );
});

test("a node that does not answer is given up on within the bound", async () => {
  const t0 = Date.now();
  const out = await nodeJournal("10.1.0.11", { ssh: ssh("hang"), timeoutMs: 500 });
  expect(out).toMatch(/^ {4}journal not read over SSH \(/);
  expect(Date.now() - t0).toBeLessThan(10_000);
});

test("each node's journal goes under its line", async () => {
  const out = await describeNode("10.1.0.11", { ssh: ssh("journal") });
  expect(out.split("\n")[0]).toBe("  10.1.0.11: agent NOT registered; no etcd member");
  expect(out.split("\n")[1]).toBe("      # etcd-member.service");
  expect(readFileSync(argvLog, "utf8")).toContain("core@10.1.0.11\n");
});

test("the program's journal access: FLEETLAB_SSH_IDENTITY, else ssh's own", () => {
  expect(journalAccessFromEnv({ FLEETLAB_SSH_IDENTITY: "/home/u/.ssh/lab" })).toEqual({
    identity: "/home/u/.ssh/lab",
  });
  expect(journalAccessFromEnv({})).toEqual({ identity: undefined });
});

test("the error shows the last lines of each unit, whatever more was read", () => {
  const unit = (name: string, n: number) => [
    `# ${name}`,
    ...Array.from({ length: n }, (_, k) => `line ${k} of ${name}`),
  ];
  const text = [...unit("etcd-member.service", 3), ...unit("fleet-agent.service", 30), ""].join(
    "\n",
  );
  expect(journalTail(text, 2).split("\n")).toEqual([
    "      # etcd-member.service",
    "      line 1 of etcd-member.service",
    "      line 2 of etcd-member.service",
    "      # fleet-agent.service",
    "      line 28 of fleet-agent.service",
    "      line 29 of fleet-agent.service",
  ]);
  expect(journalTail("")).toBe("");
});

test("a node that cannot pull from the lab registry: a line under it with the cause and the fix", async () => {
  const creds = { caPem: "", certPem: "", keyPem: "" };
  const out = await describeNode("10.1.0.12", { ssh: ssh("pull-refused") }, REG);
  const lines = out.split("\n");
  expect(lines[0]).toBe("  10.1.0.12: agent NOT registered; no etcd member");
  expect(lines[1]).toBe(
    `    cannot pull from the lab registry ${REG}: nothing accepts connections at ${REG}: the registry is not running or listens elsewhere, or a firewall rejects the port; ` +
      `docker said in fleet-agent.service at 2026-12-02T10:00:01+0000: Get "https://${REG}/v2/": dial tcp ${REG}: connect: connection refused; ` +
      `fix: on the management host, \`pulumi up\` starts the registry again if it is down; a firewall on the management host must let the lab network reach 5000/tcp; ` +
      `check from the node: curl --cacert /etc/docker/certs.d/${REG}/ca.crt https://${REG}/v2/ (it answers {})`,
  );
  // docker's own line is past the shown tail: only the line above tells.
  expect(lines.slice(2).join("\n")).not.toContain("connection refused");
  expect(lines.slice(2).filter((l) => l.includes("restart counter"))).toHaveLength(7);
  const [report] = await inspectNodes(
    [{ ip: "10.1.0.12" }],
    [],
    creds as never,
    { ssh: ssh("pull-refused") },
    REG,
  );
  expect(report.pulls.map((p) => [p.registry, p.cause, p.unit])).toEqual([
    [REG, "refused", "fleet-agent.service"],
  ]);
  // Another registry's node, or no registry given: no such line.
  for (const other of ["10.88.0.1:5001", undefined]) {
    const plain = await describeNode("10.1.0.12", { ssh: ssh("pull-refused") }, other);
    expect(plain).not.toContain("cannot pull");
  }
});

test("a journal that cannot be read has no pull line, only how to read it", async () => {
  const creds = { caPem: "", certPem: "", keyPem: "" };
  const [r] = await inspectNodes(
    [{ ip: "10.1.0.11" }],
    [],
    creds as never,
    { ssh: ssh("denied") },
    REG,
  );
  expect(r.pulls).toEqual([]);
  expect(r.text.split("\n")[1]).toMatch(/^ {4}journal not read over SSH/);
});
