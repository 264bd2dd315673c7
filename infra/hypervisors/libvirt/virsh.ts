// The only place that runs `virsh`. Every call names the connection URI, so the same
// code drives a local libvirtd (qemu:///system) and a faculty server (qemu+ssh://).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkArgv, cli, CLI_CHECK_TIMEOUT_MS, CliError, Grammar, RunOptions } from "../common/cli";

export interface Virsh {
  readonly uri: string;
  run(args: string[], opts?: RunOptions): string;
  /** Like run, but returns undefined instead of throwing when the call fails. */
  tryRun(args: string[]): string | undefined;
  /** Runs `virsh <cmd> --file <tmp>` with the XML in a temp file. */
  withXml(cmd: string[], xml: string): string;
}

/** Every virsh call the driver makes: a domain, pool, network or volume name, or a file. */
const GRAMMAR: Grammar = {
  commands: {
    uri: 0,
    capabilities: 0,
    domcapabilities: 0,
    list: 0,
    define: 1,
    start: 1,
    destroy: 1,
    undefine: 1,
    domstate: 1,
    domuuid: 1,
    domiflist: 1,
    "pool-define": 1,
    "pool-build": 1,
    "pool-start": 1,
    "pool-autostart": 1,
    "pool-info": 1,
    "pool-list": 0,
    "pool-refresh": 1,
    "pool-delete": 1,
    "pool-destroy": 1,
    "pool-undefine": 1,
    "net-define": 1,
    "net-start": 1,
    "net-autostart": 1,
    "net-info": 1,
    "net-destroy": 1,
    "net-undefine": 1,
    "vol-create": 1,
    "vol-upload": 2,
    "vol-path": 1,
    "vol-info": 1,
    "vol-delete": 1,
  },
  options: { "--pool": 1, "--virttype": 1, "--all": 0, "--name": 0, "--bytes": 0 },
};

/**
 * A virsh command line in which no value can be read as an option: the command, its
 * options, then `--` and the values (virsh's own end-of-options marker). Throws on a
 * call outside the driver's grammar.
 */
export function virshArgs(uri: string, args: string[]): string[] {
  if (uri.startsWith("-"))
    throw new Error(
      `virsh ${args[0]}: refusing ${JSON.stringify(uri)}: a connection URI cannot start with '-'`,
    );
  const { cmd, values, options } = checkArgv("virsh", GRAMMAR, args);
  return ["-q", "-c", uri, cmd, ...options, ...(values.length > 0 ? ["--", ...values] : [])];
}

export function virsh(uri: string): Virsh {
  const { run, tryRun } = cli({
    // Read per connection, so a test can point the driver at its test double.
    bin: process.env.FLEETLAB_VIRSH ?? "virsh",
    argv: (args) => virshArgs(uri, args),
    cannotRun: (args, why) =>
      `virsh ${args[0]} on ${uri} could not run: ${why}; install libvirt-clients`,
    failed: (args, err) => `virsh ${args.join(" ")} (on ${uri}) failed: ${err}`,
  });
  return {
    uri,
    run,
    tryRun,
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
    v.run(["uri"], { timeoutMs: CLI_CHECK_TIMEOUT_MS });
  } catch (e) {
    // What libvirt said, or (when virsh itself did not run) why not.
    const why = e instanceof CliError && e.stderr ? e.stderr : (e as Error).message;
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
