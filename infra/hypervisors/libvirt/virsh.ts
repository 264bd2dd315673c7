// The only place that runs `virsh`. Every call names the connection URI, so the same
// code drives a local libvirtd (qemu:///system) and a faculty server (qemu+ssh://).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { orUndefined } from "../common/cli";

export class VirshError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
    message: string,
  ) {
    super(message);
    this.name = "VirshError";
  }
}

export interface Virsh {
  readonly uri: string;
  run(args: string[], opts?: { input?: string; timeoutMs?: number }): string;
  /** Like run, but returns undefined instead of throwing when the call fails. */
  tryRun(args: string[]): string | undefined;
  /** Runs `virsh <cmd> --file <tmp>` with the XML in a temp file. */
  withXml(cmd: string[], xml: string): string;
}

const VIRSH = process.env.FLEETLAB_VIRSH ?? "virsh";
/** The only options the driver passes, with whether each takes a value. */
const FLAGS: Record<string, boolean> = {
  "--pool": true,
  "--virttype": true,
  "--all": false,
  "--name": false,
  "--bytes": false,
};

/**
 * A virsh command line in which no value can be read as an option: the command,
 * its known flags (a flag's value may not start with '-'), then `--` and the
 * positional values (virsh's own end-of-options marker). Throws on anything else.
 */
export function virshArgs(uri: string, args: string[]): string[] {
  const [cmd, ...rest] = args;
  const refuse = (v: string, why: string) => {
    throw new Error(`virsh ${cmd}: refusing ${JSON.stringify(v)}: ${why}`);
  };
  if (!/^[a-z][a-z-]*$/.test(cmd ?? "")) refuse(cmd ?? "", "not a virsh command name");
  if (uri.startsWith("-")) refuse(uri, "a connection URI cannot start with '-'");
  const flags: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (FLAGS[a] === undefined) {
      if (a.startsWith("-")) refuse(a, "a value starting with '-' would be read as an option");
      values.push(a);
    } else if (FLAGS[a]) {
      const v = rest[++i];
      if (v === undefined || v.startsWith("-")) refuse(v ?? "", `not a value for ${a}`);
      flags.push(a, v);
    } else flags.push(a);
  }
  return ["-q", "-c", uri, cmd, ...flags, ...(values.length > 0 ? ["--", ...values] : [])];
}

export function virsh(uri: string): Virsh {
  const run = (args: string[], opts: { input?: string; timeoutMs?: number } = {}): string => {
    const full = virshArgs(uri, args);
    const r = spawnSync(VIRSH, full, {
      input: opts.input,
      encoding: "utf8",
      timeout: opts.timeoutMs ?? 120_000,
    });
    if (r.error) {
      throw new VirshError(
        full,
        "",
        `virsh ${args[0]} on ${uri} could not run: ${r.error.message}; install libvirt-clients`,
      );
    }
    if (r.status !== 0) {
      const err = (r.stderr || r.stdout).trim();
      throw new VirshError(full, err, `virsh ${args.join(" ")} (on ${uri}) failed: ${err}`);
    }
    return r.stdout;
  };
  return {
    uri,
    run,
    tryRun: orUndefined(run),
    withXml(cmd, xml) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-virsh-"));
      try {
        const file = path.join(dir, "def.xml");
        fs.writeFileSync(file, xml);
        return run([...cmd, file]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Fails with a message that says what to fix when the URI does not answer. */
export function checkConnection(v: Virsh): void {
  try {
    v.run(["uri"], { timeoutMs: 30_000 });
  } catch (e) {
    const why = e instanceof VirshError ? e.stderr : String(e);
    throw new Error(
      `fleetlab:hypervisor.uri = ${v.uri}: libvirt does not answer (${why}). ` +
        `Start libvirtd on that host, check the URI (qemu:///system, qemu+ssh://user@host/system) ` +
        `and, for ssh, that \`ssh user@host virsh -c qemu:///system uri\` works without a password prompt.`,
    );
  }
}

/** Parses `virsh ... --name` style output into a list. */
export function names(out: string | undefined): string[] {
  return (out ?? "")
    .split("\n")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
