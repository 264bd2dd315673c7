// The one way the drivers run their hypervisor's command-line tool (libvirt/virsh.ts,
// virtualbox/vboxmanage.ts). The argv goes to the binary as an array, never through a
// shell, and only after the tool's own guard has checked that no value in it can be
// read as an option. Many calls may fail without that being an error: a question whose
// "no" is a failed command (does this pool, domain or VM exist?), or a best-effort step
// that what follows copes with (power off before delete, cleanup after a failed create);
// those go through tryRun, which answers undefined for them.
import { spawnSync } from "child_process";

/** How long one call may take unless the caller says otherwise. */
export const CLI_TIMEOUT_MS = 120_000;
/** The bound of a call that only asks whether the tool answers at all. */
export const CLI_CHECK_TIMEOUT_MS = 30_000;

/** A call that could not start, or that ran and failed; `stderr` is empty when it never ran. */
export class CliError extends Error {
  constructor(
    /** The argv the binary got (after the guard). */
    readonly args: string[],
    readonly stderr: string,
    message: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
}

export interface Cli {
  run(args: string[], opts?: RunOptions): string;
  /** Like run, but returns undefined instead of throwing when the call fails. */
  tryRun(args: string[]): string | undefined;
}

/** What the runner needs to know of one tool. */
export interface CliTool {
  bin: string;
  /**
   * The guard: the argv the binary gets for the driver's `args`. It throws on anything
   * that could be read as an option the driver did not mean.
   */
  argv(args: string[]): string[];
  /** The message when the binary cannot be started: which key or package to fix. */
  cannotRun(args: string[], why: string): string;
  /** The message when it ran and failed; `err` is what it printed. */
  failed(args: string[], err: string): string;
}

export function cli(tool: CliTool): Cli {
  const exec = (args: string[], argv: string[], opts: RunOptions = {}): string => {
    const timeout = opts.timeoutMs ?? CLI_TIMEOUT_MS;
    const r = spawnSync(tool.bin, argv, {
      input: opts.input,
      encoding: "utf8",
      // The caller's (possibly changed) environment, not the one the process started with.
      env: process.env,
      timeout,
    });
    // A call that ran out of time did start: it is a failure of the call, not a missing tool.
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT") {
      const err = `no answer within ${timeout} ms (stopped)`;
      throw new CliError(argv, err, tool.failed(args, err));
    }
    if (r.error) throw new CliError(argv, "", tool.cannotRun(args, r.error.message));
    if (r.status !== 0) {
      const err = (r.stderr || r.stdout).trim();
      throw new CliError(argv, err, tool.failed(args, err));
    }
    return r.stdout;
  };
  // The guard runs outside tryRun's catch: a refused argument is a bug to surface, never
  // a "no" to a question.
  const tryExec = orUndefined(exec);
  return {
    run: (args, opts) => exec(args, tool.argv(args), opts),
    tryRun: (args) => tryExec(args, tool.argv(args)),
  };
}

/**
 * `fn`, returning undefined where it throws. Every failure, whatever its cause, reads as
 * undefined, so it suits only callers that need no reason (tryRun).
 */
export function orUndefined<A extends unknown[], R>(
  fn: (...args: A) => R,
): (...args: A) => R | undefined {
  return (...args) => {
    try {
      return fn(...args);
    } catch {
      return undefined;
    }
  };
}

/**
 * The calls a driver makes with one tool: each command it uses with how many values
 * (names, paths) it takes, and each option it passes with how many values that takes.
 */
export interface Grammar {
  commands: Readonly<Record<string, number>>;
  options: Readonly<Record<string, number>>;
}

/**
 * Both tools' guard: a command of the grammar, its values, its options. An option is
 * only ever one of the grammar's, and no value (a command's or an option's) may start
 * with '-'; counting the command's values also catches a value spelled like an option
 * (a VM named "--delete"). Returns the values and the options, each in order; the tool
 * decides how to lay them out.
 */
export function checkArgv(
  tool: string,
  grammar: Grammar,
  args: string[],
): { cmd: string; values: string[]; options: string[] } {
  const [cmd = "", ...rest] = args;
  const refuse = (v: string, why: string): never => {
    throw new Error(`${tool} ${cmd}: refusing ${JSON.stringify(v)}: ${why}`);
  };
  const want = Object.hasOwn(grammar.commands, cmd) ? grammar.commands[cmd] : undefined;
  if (want === undefined) refuse(cmd, `not a ${tool} command the driver uses`);
  const values: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const n = Object.hasOwn(grammar.options, a) ? grammar.options[a] : undefined;
    if (n === undefined) {
      if (a.startsWith("-")) refuse(a, "a value starting with '-' would be read as an option");
      values.push(a);
      continue;
    }
    options.push(a);
    for (let k = 0; k < n; k++) {
      const v = rest[++i];
      if (v === undefined || v.startsWith("-")) refuse(v ?? "", `not a value for ${a}`);
      options.push(v);
    }
  }
  if (values.length !== want)
    refuse(values.join(" "), `${cmd} takes ${want} value(s), got ${values.length}`);
  return { cmd, values, options };
}
