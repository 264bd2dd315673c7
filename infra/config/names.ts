// Names and paths from the stack config that reach a command line (virsh, ssh) or a
// kernel interface: each checked as strictly as the program that reads it, and none
// can ever be read as an option (a leading '-'). Pure: a value in, a problem out.

/** libvirt pool and network names (also file names under /etc/libvirt). */
const LIBVIRT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Linux interface names: IFNAMSIZ is 16 with the NUL, so at most 15 bytes. */
const IFNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

export interface NameProblem {
  problem: string;
  fix: string;
}

export function libvirtNameProblem(v: string, example: string): NameProblem | undefined {
  if (LIBVIRT_NAME.test(v) && !v.includes("..")) return undefined;
  return {
    problem: v.startsWith("-")
      ? "starts with '-', which virsh would read as an option"
      : "is not a libvirt name (letters, digits, . _ -, at most 64, no '..' or '/')",
    fix: `use a plain name such as ${example}`,
  };
}

export function bridgeNameProblem(v: string): NameProblem | undefined {
  if (IFNAME.test(v) && v !== "." && v !== "..") return undefined;
  return {
    problem:
      v.length > 15
        ? `is ${v.length} characters; Linux interface names have at most 15`
        : "is not a Linux interface name (letters, digits, . _ -, not starting with '-')",
    fix: "use the host bridge's name as `ip link` shows it, e.g. br0",
  };
}

/** An absolute path with no '..' step, no control character and no ':' or ',' (libvirt XML/virsh). */
export function hostPathProblem(v: string, example: string): NameProblem | undefined {
  // eslint-disable-next-line no-control-regex
  if (v.startsWith("/") && !v.split("/").includes("..") && !/[\x00-\x1f\x7f]/.test(v))
    return undefined;
  return {
    problem: v.startsWith("/")
      ? "has a '..' step or a control character"
      : "must be an absolute path on the libvirt host",
    fix: `write it without '..', e.g. ${example}`,
  };
}

/** Query parameters of a libvirt qemu+ssh URI that do not name a program to run. */
const URI_PARAMS = [
  "keyfile",
  "no_verify",
  "no_tty",
  "known_hosts",
  "known_hosts_verify",
  "sshauth",
  "mode",
  "socket",
  "pkipath",
];
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;
const HOST =
  /^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;
const URI =
  /^qemu(\+(ssh|tcp|tls|unix|libssh2?))?:\/\/(?:([^@/]*)@)?(\[[^\]]*\]|[^/:]*)(?::([^/]*))?\/(system|session)(?:\?(.*))?$/;

/**
 * Why a libvirt URI is refused: the parts that reach ssh (user, host, port) must be
 * what they claim, never an option (`qemu+ssh://-oProxyCommand=x/system` would run
 * x), and no query parameter may name a program (command=, netcat=).
 */
export function libvirtUriProblem(uri: string): NameProblem | undefined {
  const fix = "use qemu:///system, or qemu+ssh://user@host/system for a remote KVM server";
  const m = URI.exec(uri);
  if (!m) return { problem: "is not a QEMU libvirt URI", fix };
  const [, , transport, user, host, port, , query] = m;
  if (user !== undefined && !USER.test(user))
    return {
      problem: `has the user "${user}", which is not a login name (or starts with '-')`,
      fix,
    };
  if (
    host === "" &&
    (transport === "ssh" || transport === "libssh" || transport === "libssh2" || user !== undefined)
  )
    return { problem: "names no host for a remote transport", fix };
  if (host !== "" && !HOST.test(host))
    return {
      problem: `has the host "${host}", which is not a host name or address (or starts with '-')`,
      fix,
    };
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    return { problem: `has the port "${port}", which is not 1 to 65535`, fix };
  for (const param of (query ?? "").split("&").filter(Boolean)) {
    const name = decodeURIComponent(param.split("=")[0]);
    if (!URI_PARAMS.includes(name))
      return {
        problem: `has the query parameter "${name}", which fleetlab does not pass on (command= and netcat= name programs to run)`,
        fix: `remove it; allowed: ${URI_PARAMS.join(", ")}`,
      };
  }
  return undefined;
}
