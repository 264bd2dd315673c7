// Why a node's docker cannot pull from the lab registry, read from the journal text the
// readiness error already has. The fleet agent's unit runs `docker run <host:port>/...`;
// when the pull fails, the agent never starts, the node never registers, and docker's
// reason sits among systemd's restart lines. Only pulls from the lab registry count:
// other images come from elsewhere and are fixed elsewhere.
//
// docker names the registry in some errors (dial, TLS, manifest) but not in others (an
// HTTP status, an unknown blob, a rate limit). Those are the registry's when they end a
// pull of its image that the same unit began (`Unable to find image '<host:port>/...'
// locally`, `<host:port>/...: Pulling from ...`) with no word of systemd in between.
//
// Which outcome counts, per unit: the newest. A failure stands until a later line says a
// pull from the registry succeeded (`Status: Downloaded newer image for ...`, `Status:
// Image is up to date for ...`). A pull that started again and has not ended does not
// clear it: a pull that hangs until its timeout spends most of its time there. A node
// that got the image another way (docker load) writes no such line, so its old failure
// is still reported until it scrolls out of the lines read; the line names docker's
// words and when it said them, which tells a stale one apart.
// From node/, not registry/ignition.ts: the readiness provider is serialized by Pulumi,
// and what it captures must stay out of the Ignition renderers' module graph.
import { certsDirPath } from "../../node/paths";

export type PullCause =
  | "refused"
  | "unreachable"
  | "no-answer"
  | "untrusted"
  | "certificate"
  | "missing"
  | "registry-error";

/** Each cause in a few words, for the first line of the error. */
export const PULL_CAUSE_IN_SHORT: Record<PullCause, string> = {
  refused: "connection refused",
  unreachable: "the address cannot be reached",
  "no-answer": "no answer in time",
  untrusted: "the lab CA is not trusted",
  certificate: "a certificate not for that address",
  missing: "image not in the registry",
  "registry-error": "the registry refused the pull",
};

export interface PullFailure {
  /** The registry as the nodes reach it, host:port. */
  registry: string;
  /** The unit whose journal shows it, when the text has diagnose.ts's `# <unit>` headers. */
  unit?: string;
  cause: PullCause;
  /** The cause in words. */
  why: string;
  /** What to do about it, where. */
  fix: string;
  /** docker's own words (journal prefix and docker's `Error response from daemon:` cut). */
  said: string;
  /** The journal's timestamp of that line, when it has one. */
  at?: string;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// `2026-12-02T10:00:02+0000 core-01 docker[901]: message` (journalctl -o short-iso).
const JOURNAL_PREFIX = /^(\d{4}-\d\d-\d\dT\S+)\s+\S+\s+([^\s:[]+)(?:\[\d+\])?:\s?/;
const SECTION = /^# (\S+)$/;
const PULL_START = /Unable to find image '([^']+)' locally|^(\S+): Pulling from /;
const PULL_DONE = /Status: (?:Downloaded newer image|Image is up to date) for (\S+)/;
// `docker run` writes its errors as `docker: ...`, most of them the daemon's.
const DOCKER_ERROR = /^docker: |Error response from daemon: /;

/**
 * The failures to pull from the registry at `hostPort` that a node's journal shows, one
 * per unit whose newest outcome is a failure; none when every pull from it that the
 * text shows ended well, or none was tried.
 */
export function registryPullFailures(journal: string, hostPort: string): PullFailure[] {
  // The address as a word: 10.88.0.1:5000 is not in 110.88.0.1:5000 or 10.88.0.1:50001.
  const ours = new RegExp(`(?<![\\w.-])${escapeRe(hostPort)}(?![\\w.])`);
  const failures: PullFailure[] = [];
  let unit: string | undefined;
  let failed: PullFailure | undefined;
  let pending = false;
  const endSection = () => {
    if (failed) failures.push(failed);
    failed = undefined;
    pending = false;
  };
  for (const raw of journal.split("\n")) {
    const line = raw.trimEnd();
    const header = SECTION.exec(line);
    if (header) {
      endSection();
      unit = header[1];
      continue;
    }
    const prefix = JOURNAL_PREFIX.exec(line);
    const msg = prefix ? line.slice(prefix[0].length) : line;
    // systemd speaks when the unit stops or starts again: the pull that was under way
    // has ended without a word, and the next error (docker rm's) is not its.
    if (prefix?.[2] === "systemd") {
      pending = false;
      continue;
    }
    const start = PULL_START.exec(msg);
    if (start) {
      pending = ours.test(start[1] ?? start[2]);
      continue;
    }
    const done = PULL_DONE.exec(msg);
    if (done) {
      if (ours.test(done[1])) failed = undefined;
      pending = false;
      continue;
    }
    if (DOCKER_ERROR.test(msg)) {
      if (pending || ours.test(msg))
        failed = { registry: hostPort, unit, at: prefix?.[1], ...diagnose(saidOf(msg), hostPort) };
      pending = false;
    }
  }
  endSection();
  return failures;
}

/** docker's reason without its wrapping: what follows `Error response from daemon:`. */
function saidOf(msg: string): string {
  return msg
    .replace(/^docker: /, "")
    .replace(/^Error response from daemon: /, "")
    .replace(/\.$/, "")
    .trim();
}

/** The cause of docker's reason `said`, and the fix, for the registry at `hostPort`. */
export function diagnose(said: string, hostPort: string): Omit<PullFailure, "registry"> {
  const port = hostPort.slice(hostPort.lastIndexOf(":") + 1);
  const host = hostPort.slice(0, hostPort.lastIndexOf(":"));
  const ca = certsDirPath(hostPort);
  const check = `check from the node: curl --cacert ${ca} https://${hostPort}/v2/ (it answers {})`;
  const firewall = `a firewall on the management host must let the lab network reach ${port}/tcp`;
  const one = (cause: PullCause, why: string, fix: string) => ({ cause, why, fix, said });
  // The first that matches: a TLS error can mention a timeout, a dial error a lookup.
  if (
    /manifest unknown|manifest for \S+ not found|unknown blob|blob unknown|name unknown|repository does not exist/i.test(
      said,
    )
  )
    return one(
      "missing",
      "the image is not in the registry",
      "on the management host, `pulumi up` pushes the images the registry lost again",
    );
  if (/certificate signed by unknown authority/i.test(said))
    return one(
      "untrusted",
      `the node does not trust the registry's certificate: ${ca} on the node is missing or is not the lab CA`,
      `the node's Ignition writes ${ca} at first boot: see it is there and is the lab CA; a VM made before the lab CA or the registry lacks it: replace that VM (pulumi up --replace <its URN>); ${check}`,
    );
  if (/x509:|tls: /i.test(said))
    return one(
      "certificate",
      `the certificate that answers at ${hostPort} is not the lab registry's for that address: something else answers there, or the registry's certificate names another address`,
      `on the management host, \`pulumi up\` issues the registry's certificate for ${host} and restarts it; ss -ltnp there shows what listens on ${port}`,
    );
  if (/connection refused/i.test(said))
    return one(
      "refused",
      `nothing accepts connections at ${hostPort}: the registry is not running or listens elsewhere, or a firewall rejects the port`,
      `on the management host, \`pulumi up\` starts the registry again if it is down; ${firewall}; ${check}`,
    );
  if (
    /i\/o timeout|no route to host|network is unreachable|connection timed out|host is down|while waiting for connection|no such host/i.test(
      said,
    )
  )
    return one(
      "unreachable",
      `the node cannot reach ${hostPort}: the lab network, a firewall that drops the port, or a gateway that does not lead to ${host}`,
      `from the node, \`ip route get ${host}\` must go out on the lab network; ${firewall}; ${check}`,
    );
  if (
    /handshake timeout|Client\.Timeout exceeded|timeout awaiting|connection reset|EOF$/i.test(said)
  )
    return one(
      "no-answer",
      `the node connects to ${hostPort} but gets no answer in time: the registry hangs, or something else holds the port`,
      `on the management host, ss -ltnp shows what listens on ${port}; a hung registry: its pull.log (in the stack's registry directory) says why; stop it (pull.pid there) and \`pulumi up\` starts it again`,
    );
  return one(
    "registry-error",
    `the registry refused the pull`,
    `on the management host, the registry's pull.log (in the stack's registry directory) says why; ${check}`,
  );
}
