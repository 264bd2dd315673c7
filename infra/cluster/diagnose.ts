// What a stuck lab looks like from the management host, for the error that ends a
// wait: per node, whether its agent holds a machine lease (it is registered) and what
// its etcd member says of itself (etcd's /health answers false while the member sees
// no leader, so each member's answer is the cluster's health as that peer sees it).
// That much needs only the lab's TLS endpoints and the admin certificate. The last
// journal lines of etcd-member.service and fleet-agent.service come over SSH as the
// lab's user, with the management host's own SSH identity, when it has one the nodes
// accept; otherwise the line says how to read them by hand.
import { execFile } from "child_process";
import * as https from "https";
import { sshArgs } from "../../fleet/cli/ssh";
import { printable } from "../../labdata/problems";
import { ETCD_UNIT, FLEET_AGENT_UNIT, SSH_USER } from "../../node/paths";
import type { FleetApiCredentials } from "../services/providers";

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
  /** lines per unit */
  lines?: number;
  timeoutMs?: number;
}

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
  const n = String(a.lines ?? 8);
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

/**
 * The last journal lines of a node's etcd member and agent, indented for the error
 * that ends a wait; bounded in time and size. Never throws: when the journal cannot be
 * read, the line says why and how to read it by hand.
 */
export function nodeJournal(ip: string, a: JournalAccess = {}): Promise<string> {
  const by = `ssh ${SSH_USER}@${ip} journalctl -u ${ETCD_UNIT} -u ${FLEET_AGENT_UNIT}`;
  return new Promise((resolve) => {
    let args: string[];
    try {
      args = journalArgs(ip, a);
    } catch (e) {
      resolve(`    journal not read: ${(e as Error).message}`);
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
          resolve(
            `    journal not read over SSH (${printable(why)}); read it with: ${by}` +
              (a.identity ? "" : " (or set FLEETLAB_SSH_IDENTITY to the lab's key)"),
          );
          return;
        }
        const lines = text
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => printable(l))
          .map((l) => `      ${l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}...` : l}`);
        resolve(lines.join("\n"));
      },
    );
  });
}

/**
 * One line per node: its IP, whether its agent registered, its etcd member's health;
 * with `journal`, the last journal lines of its etcd member and agent under it.
 */
export async function describeNodes(
  nodes: NodeProbe[],
  registered: string[],
  c: FleetApiCredentials,
  journal?: JournalAccess,
): Promise<string> {
  const lines = await Promise.all(
    nodes.map(async (n) => {
      const agent = registered.includes(n.ip) ? "agent registered" : "agent NOT registered";
      const [health, tail] = await Promise.all([
        n.etcdUrl ? etcdHealth(n.etcdUrl, c) : undefined,
        journal ? nodeJournal(n.ip, journal) : undefined,
      ]);
      const etcd = health ? `etcd member ${health}` : "no etcd member";
      return `  ${n.ip}: ${agent}; ${etcd}${tail ? `\n${tail}` : ""}`;
    }),
  );
  return lines.join("\n");
}
