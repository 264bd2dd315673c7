// Config values that reach virsh or ssh (the libvirt URI, pool, network, bridge,
// pool path): every option-looking or otherwise unreadable value is refused at
// validation, naming the key, the value and a fix, before any resource exists.
import { configProblems, validRawConfig } from "./fixtures";
import { parseLabSpec } from "./parse";
import type { Raw } from "./read";

const hv = (h: Raw): Raw => ({ ...validRawConfig(), hypervisor: { kind: "libvirt", ...h } });
const uri = (u: string) => hv({ uri: u });
const H = "fleetlab:hypervisor";

const problems = (raw: Raw) => configProblems(() => parseLabSpec("local", raw));

// [name, config, key, value, problem, fix]
const cases: [string, Raw, string, string, RegExp, RegExp][] = [
  [
    "ssh host is an option",
    uri("qemu+ssh://-oProxyCommand=x/system"),
    `${H}.uri`,
    "-oProxyCommand",
    /starts with '-'/,
    /qemu\+ssh:\/\/user@host/,
  ],
  [
    "ssh user is an option",
    uri("qemu+ssh://-oProxyCommand=x@kvm/system"),
    `${H}.uri`,
    "-oProxyCommand",
    /user/,
    /user@host/,
  ],
  [
    "host after user is an option",
    uri("qemu+ssh://admin@-oProxyCommand=x/system"),
    `${H}.uri`,
    "-oProxy",
    /host/,
    /user@host/,
  ],
  [
    "host is -F config",
    uri("qemu+ssh://-F/tmp/cfg/system"),
    `${H}.uri`,
    "-F",
    /host|URI/,
    /user@host/,
  ],
  [
    "host with a space",
    uri("qemu+ssh://kvm server/system"),
    `${H}.uri`,
    "kvm server",
    /host/,
    /user@host/,
  ],
  [
    "host with a semicolon",
    uri("qemu+ssh://kvm;id/system"),
    `${H}.uri`,
    "kvm;id",
    /host/,
    /user@host/,
  ],
  ["host with a backtick", uri("qemu+ssh://`id`/system"), `${H}.uri`, "`id`", /host/, /user@host/],
  ["host with $()", uri("qemu+ssh://$(id)/system"), `${H}.uri`, "$(id)", /host/, /user@host/],
  [
    "ssh without a host",
    uri("qemu+ssh:///system"),
    `${H}.uri`,
    "qemu+ssh:///system",
    /no host/,
    /user@host/,
  ],
  [
    "port is not a number",
    uri("qemu+ssh://kvm:-p/system"),
    `${H}.uri`,
    "kvm:-p",
    /port/,
    /user@host/,
  ],
  [
    "port out of range",
    uri("qemu+ssh://kvm:70000/system"),
    `${H}.uri`,
    "70000",
    /port/,
    /user@host/,
  ],
  [
    "command= names a program",
    uri("qemu+ssh://kvm/system?command=/tmp/evil"),
    `${H}.uri`,
    "command=",
    /command/,
    /remove it/,
  ],
  [
    "netcat= names a remote program",
    uri("qemu+ssh://kvm/system?netcat=sh%20-c%20id"),
    `${H}.uri`,
    "netcat",
    /netcat/,
    /remove it/,
  ],
  [
    "proxy= parameter",
    uri("qemu+ssh://kvm/system?proxy=native"),
    `${H}.uri`,
    "proxy",
    /query parameter/,
    /allowed: keyfile/,
  ],
  [
    "not qemu",
    uri("xen:///system"),
    `${H}.uri`,
    "xen:///system",
    /not a QEMU libvirt URI/,
    /qemu:\/\/\/system/,
  ],
  ["uri is an option", uri("-c"), `${H}.uri`, "-c", /not a QEMU/, /qemu:\/\/\/system/],
  [
    "no /system",
    uri("qemu+ssh://kvm"),
    `${H}.uri`,
    "qemu+ssh://kvm",
    /not a QEMU/,
    /qemu:\/\/\/system/,
  ],
  [
    "pool is an option",
    hv({ uri: "qemu:///system", pool: "--all" }),
    `${H}.pool`,
    "--all",
    /'-'/,
    /fleetlab-local/,
  ],
  [
    "pool is a path",
    hv({ uri: "qemu:///system", pool: "../etc" }),
    `${H}.pool`,
    "../etc",
    /libvirt name/,
    /fleetlab-local/,
  ],
  [
    "pool with a slash",
    hv({ uri: "qemu:///system", pool: "a/b" }),
    `${H}.pool`,
    "a/b",
    /libvirt name/,
    /plain name/,
  ],
  [
    "pool with a space",
    hv({ uri: "qemu:///system", pool: "my pool" }),
    `${H}.pool`,
    "my pool",
    /libvirt name/,
    /plain name/,
  ],
  [
    "pool too long",
    hv({ uri: "qemu:///system", pool: "p".repeat(65) }),
    `${H}.pool`,
    "ppp",
    /at most 64/,
    /plain name/,
  ],
  [
    "pool path with ..",
    hv({ uri: "qemu:///system", poolPath: "/var/lib/libvirt/../../etc" }),
    `${H}.poolPath`,
    "/../",
    /'\.\.'/,
    /without '\.\.'/,
  ],
  [
    "pool path relative",
    hv({ uri: "qemu:///system", poolPath: "images" }),
    `${H}.poolPath`,
    "images",
    /absolute/,
    /var\/lib\/libvirt/,
  ],
  [
    "pool path is an option",
    hv({ uri: "qemu:///system", poolPath: "-x" }),
    `${H}.poolPath`,
    "-x",
    /absolute/,
    /var\/lib\/libvirt/,
  ],
  [
    "pool path with a newline",
    hv({ uri: "qemu:///system", poolPath: "/var/x\ny" }),
    `${H}.poolPath`,
    "\\n",
    /control/,
    /without/,
  ],
  [
    "bridge longer than 15",
    hv({ uri: "qemu:///system", networkMode: "bridge", bridge: "br-fleetlab-faculty" }),
    `${H}.bridge`,
    "br-fleetlab-faculty",
    /19 characters.*at most 15/,
    /br0/,
  ],
  [
    "bridge is an option",
    hv({ uri: "qemu:///system", networkMode: "bridge", bridge: "-x" }),
    `${H}.bridge`,
    "-x",
    /'-'/,
    /br0/,
  ],
  [
    "bridge with a slash",
    hv({ uri: "qemu:///system", networkMode: "bridge", bridge: "br/0" }),
    `${H}.bridge`,
    "br/0",
    /interface name/,
    /br0/,
  ],
  [
    "bridge is ..",
    hv({ uri: "qemu:///system", networkMode: "bridge", bridge: ".." }),
    `${H}.bridge`,
    "..",
    /interface name/,
    /br0/,
  ],
  [
    "bridge with a colon",
    hv({ uri: "qemu:///system", networkMode: "bridge", bridge: "br0:1" }),
    `${H}.bridge`,
    "br0:1",
    /interface name/,
    /br0/,
  ],
  [
    "network name is an option",
    { ...validRawConfig(), network: { ...(validRawConfig().network as Raw), name: "-n" } },
    "fleetlab:network.name",
    "-n",
    /'-'/,
    /fleetlab-local/,
  ],
  [
    "network name with ../",
    { ...validRawConfig(), network: { ...(validRawConfig().network as Raw), name: "../x" } },
    "fleetlab:network.name",
    "../x",
    /libvirt name/,
    /fleetlab-local/,
  ],
];

describe("values that reach virsh or ssh are refused at validation", () => {
  test.each(cases)("%s", (_n, raw, key, value, problem, fix) => {
    const p = problems(raw).find((x) => x.key === key);
    expect(p).toBeDefined();
    expect(JSON.stringify(p!.value)).toContain(value);
    expect(p!.problem).toMatch(problem);
    expect(p!.fix).toMatch(fix);
  });

  test.each([
    "qemu:///system",
    "qemu:///session",
    "qemu+ssh://admin@kvm.example.edu/system",
    "qemu+ssh://admin@kvm:2222/system?keyfile=/home/a/.ssh/id&no_verify=1",
    "qemu+ssh://[2001:db8::1]/system",
    "qemu+unix:///system?socket=/run/libvirt/libvirt-sock",
  ])("accepts %s", (u) => expect(() => parseLabSpec("local", uri(u))).not.toThrow());
});
