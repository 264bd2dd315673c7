// What a stuck lab looks like from the management host, for the error that ends a
// wait: per node, whether its agent holds a machine lease (it is registered) and what
// its etcd member says of itself (etcd's /health answers false while the member sees
// no leader, so each member's answer is the cluster's health as that peer sees it).
// That much needs only the lab's TLS endpoints and the admin certificate. The last
// journal lines of etcd-member.service and fleet-agent.service come over SSH as the
// lab's user, with the management host's own SSH identity, when it has one the nodes
// accept; otherwise the line says how to read them by hand. When a node's journal shows
// that its docker cannot pull from the lab registry, a line under it says why and the
// fix (pulls.ts), and the management host says whether the registry answers it.
import { execFile } from "child_process";
import * as https from "https";
import { sshArgs } from "../../fleet/cli/ssh";
import { printable } from "../../labdata/problems";
import { ETCD_UNIT, FLEET_AGENT_UNIT, SSH_USER } from "../../node/paths";
import { registryRequest } from "../registry/client";
import type { FleetApiCredentials } from "../services/providers";
import { registryPullFailures, type PullFailure } from "./pulls";

export interface NodeProbe {
  ip: string;
  /** etcd client URL of the node's member; absent for workers. */
  etcdUrl?: string;
}

/** One GET /health, bounded; what the member said, or why it said nothing. */
export function etcdHealth(url: string, c: FleetApiCredentials, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get(
      `${url}/health`,
      { ca: c.caPem, cert: c.certPem, key: c.keyPem, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d.slice(0, 1000)));
        res.on("end", () => {
          try {
            const h = JSON.parse(body) as { health?: string; reason?: string };
            resolve(
              h.health === "true" ? "healthy" : `unhealthy${h.reason ? ` (${h.reason})` : ""}`,
            );
          } catch {
            resolve(`answered ${res.statusCode} ${body.trim().slice(0, 80)}`);
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e) => resolve(`not answering (${e.message})`));
  });
}

/** How the management host reads a node's journal over SSH. */
export interface JournalAccess {
  /** the ssh client (a test double in tests); `ssh` on PATH by default */
  ssh?: string;
  /** a private key file (FLEETLAB_SSH_IDENTITY); ssh's own identities and agent otherwise */
  identity?: string;
  /** user@host to jump through, for nodes behind their hypervisor host's NAT */
  via?: string;
  /** lines per unit shown in the error */
  lines?: number;
  /**
   * lines per unit read for the pull diagnosis: a unit that restarts every few seconds
   * writes ten lines per try, so docker's reason is rarely among the last few shown
   */
  scan?: number;
  timeoutMs?: number;
}

const SHOWN = 8;
const SCANNED = 60;

/** The units whose journal tells why a node is not in the lab, in the order they start. */
export const JOURNAL_UNITS = [ETCD_UNIT, FLEET_AGENT_UNIT];

/** The journal access the program has: FLEETLAB_SSH_IDENTITY, else ssh's defaults. */
export function journalAccessFromEnv(env = process.env): JournalAccess {
  return { identity: env.FLEETLAB_SSH_IDENTITY || undefined };
}

/** ssh's argv for the last journal lines of JOURNAL_UNITS on `ip`. */
export function journalArgs(ip: string, a: JournalAccess = {}): string[] {
  for (const [what, v] of [
    ["identity", a.identity],
    ["via", a.via],
  ] as const)
    if (v !== undefined && (v === "" || v.startsWith("-")))
      throw new Error(`journal over SSH: ${what} ${JSON.stringify(v)} is not a file or host`);
  const n = String(Math.max(a.lines ?? SHOWN, a.scan ?? SCANNED));
  // One remote shell for both units, so one connection; every word is ours, none the user's.
  const script = JOURNAL_UNITS.map(
    (u) => `echo '# ${u}'; journalctl --no-pager -q -o short-iso -n ${n} -u ${u}`,
  ).join("; ");
  return sshArgs(
    { host: `${SSH_USER}@${ip}` },
    ["sh", "-c", script],
    [
      ...["BatchMode=yes", "ConnectTimeout=5", "LogLevel=ERROR"].flatMap((o) => ["-o", o]),
      // Lab nodes are made and replaced with new host keys under the same address.
      ...["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"].flatMap((o) => ["-o", o]),
      ...(a.identity ? ["-i", a.identity, "-o", "IdentitiesOnly=yes"] : []),
      ...(a.via ? ["-J", a.via] : []),
    ],
  );
}

const MAX_LINE = 200;
const cut = (l: string) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}...` : l);

/** A node's journal as ssh gave it, or why it could not be read (and how to read it). */
export type JournalRead = { text: string } | { unread: string };

/** The journal text of JOURNAL_UNITS on `ip` over SSH; bounded in time and size, never throws. */
export function readJournal(ip: string, a: JournalAccess = {}): Promise<JournalRead> {
  const by = `ssh ${SSH_USER}@${ip} journalctl -u ${ETCD_UNIT} -u ${FLEET_AGENT_UNIT}`;
  return new Promise((resolve) => {
    let args: string[];
    try {
      args = journalArgs(ip, a);
    } catch (e) {
      resolve({ unread: `journal not read: ${(e as Error).message}` });
      return;
    }
    execFile(
      a.ssh ?? "ssh",
      args,
      { timeout: a.timeoutMs ?? 15_000, killSignal: "SIGKILL", maxBuffer: 256 * 1024 },
      (err, stdout, stderr) => {
        const text = String(stdout);
        if (err && !text.includes("# ")) {
          const why = (String(stderr).trim().split("\n").pop() || err.message).slice(0, MAX_LINE);
          resolve({
            unread:
              `journal not read over SSH (${printable(why)}); read it with: ${by}` +
              (a.identity ? "" : " (or set FLEETLAB_SSH_IDENTITY to the lab's key)"),
          });
          return;
        }
        resolve({ text });
      },
    );
  });
}

/**
 * The last `lines` journal lines of each unit in `text` (the `# <unit>` headers kept),
 * indented for the error, control characters escaped, long lines cut.
 */
export function journalTail(text: string, lines = SHOWN): string {
  const sections: string[][] = [];
  for (const l of text.split("\n").filter((x) => x.trim() !== "")) {
    if (l.startsWith("# ") || sections.length === 0) sections.push([]);
    sections[sections.length - 1].push(l);
  }
  return sections
    .flatMap((s) => (s[0].startsWith("# ") ? [s[0], ...s.slice(1).slice(-lines)] : s.slice(-lines)))
    .map((l) => `      ${cut(printable(l))}`)
    .join("\n");
}

/**
 * A node's journal as the error shows it: the last `lines` of its etcd member and agent,
 * or, when it could not be read, why and how to read it by hand.
 */
export function journalLines(r: JournalRead, lines?: number): string {
  return "text" in r ? journalTail(r.text, lines) : `    ${r.unread}`;
}

/** The line under a node whose docker cannot pull from the lab registry. */
export const pullLine = (f: PullFailure): string =>
  `    cannot pull from the lab registry ${f.registry}: ${f.why}; ` +
  `docker said${f.unit ? ` in ${f.unit}` : ""}${f.at ? ` at ${f.at}` : ""}: ${cut(printable(f.said))}; ` +
  `fix: ${f.fix}`;

/**
 * Whether the lab registry answers the management host: one GET /v2/ over TLS checked
 * against the lab CA, bounded. Never throws.
 */
export async function registryAnswers(
  r: { hostPort: string; caPem: string },
  timeoutMs = 5000,
): Promise<{ answers: boolean; text: string }> {
  const at = r.hostPort.lastIndexOf(":");
  const address = {
    host: r.hostPort.slice(0, at).replace(/^\[(.*)\]$/, "$1"),
    port: Number(r.hostPort.slice(at + 1)),
  };
  const where = `from the management host, the lab registry ${r.hostPort}`;
  try {
    const res = await registryRequest({ address, caPem: r.caPem }, "GET", "/v2/", { timeoutMs });
    // The distribution API answers its base with 200 (401 where it wants a login).
    return res.status === 200
      ? { answers: true, text: `${where} answers (GET /v2/: HTTP 200)` }
      : { answers: false, text: `${where} answers GET /v2/ with HTTP ${res.status}` };
  } catch (e) {
    const msg = printable((e as Error).message).slice(0, MAX_LINE);
    // Something answered TLS, but not as the registry the nodes were told to trust.
    const tls = /certificate|self.signed|altname|SSL|TLS/i.test(msg);
    return {
      answers: false,
      text: tls
        ? `${where} answers with a certificate that is not the lab CA's for that address (${msg})`
        : `${where} does not answer (${msg})`,
    };
  }
}

/** What the error says of one node, and the pulls from the lab registry it shows failed. */
export interface NodeReport {
  ip: string;
  /** Its lines in the error: its state, a line per failed pull, its journal's tail. */
  text: string;
  pulls: PullFailure[];
}

/**
 * Per node: whether its agent registered, its etcd member's health; with `journal`, a
 * line per unit that cannot pull from the lab registry at `registry` (host:port), then
 * the last journal lines of its etcd member and agent.
 */
export async function inspectNodes(
  nodes: NodeProbe[],
  registered: string[],
  c: FleetApiCredentials,
  journal?: JournalAccess,
  registry?: string,
): Promise<NodeReport[]> {
  return Promise.all(
    nodes.map(async (n) => {
      const agent = registered.includes(n.ip) ? "agent registered" : "agent NOT registered";
      const [health, read] = await Promise.all([
        n.etcdUrl ? etcdHealth(n.etcdUrl, c) : undefined,
        journal ? readJournal(n.ip, journal) : undefined,
      ]);
      const etcd = health ? `etcd member ${health}` : "no etcd member";
      const pulls =
        read && "text" in read && registry ? registryPullFailures(read.text, registry) : [];
      const tail = read ? [journalLines(read, journal?.lines)] : [];
      const text = [`  ${n.ip}: ${agent}; ${etcd}`, ...pulls.map(pullLine), ...tail]
        .filter((l) => l !== "")
        .join("\n");
      return { ip: n.ip, text, pulls };
    }),
  );
}
