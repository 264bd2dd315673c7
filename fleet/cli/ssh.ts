// An ssh command line that cannot be misread: ssh's own options first, `--` so the
// target is never an option (`-oProxyCommand=...`), and the remote command quoted
// word by word for the remote login shell (ssh joins its words into one string that
// the remote shell parses). Used by fleetctl status and the libvirt driver's
// console tail. Pure.

/** One word for a POSIX shell: single-quoted, with ' written as '\''. */
export function shellWord(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface SshTarget {
  /** user@host or host */
  host: string;
  port?: string;
}

/** Arguments for `ssh` running `command` on `t`; throws if the target is option-like. */
export function sshArgs(t: SshTarget, command: string[], options: string[] = []): string[] {
  if (t.host.startsWith("-") || t.host.includes("@-") || t.host === "")
    throw new Error(`ssh target ${JSON.stringify(t.host)} is not a host (it starts with '-')`);
  if (t.port !== undefined && !/^\d{1,5}$/.test(t.port))
    throw new Error(`ssh port ${JSON.stringify(t.port)} is not a number`);
  return [
    ...(t.port ? ["-p", t.port] : []),
    ...options,
    "--",
    t.host,
    command.map(shellWord).join(" "),
  ];
}
