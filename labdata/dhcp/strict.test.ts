// data/dhcp.yaml as a new user mistypes it and an attacker bends it: every case is
// refused naming the file, the key, the value and a fix, before anything is encoded.
import * as fs from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { expectProblem } from "../expect-problem";
import { loadDataSet } from "../load";
import { parseDhcpData } from "./parse";

const base = `subnet: 192.168.56.0/24
pool: { start: 192.168.56.100, end: 192.168.56.199 }
router: 192.168.56.1
dns: [192.168.56.1]
domain: lab.example
leaseSeconds: 600
reservations:
  - { name: a, mac: "52:54:00:aa:00:01", ip: 192.168.56.10 }
`;
const res = (r: string) => base.replace(/reservations:\n.*\n/, `reservations:\n  - ${r}\n`);

// [name, document, key, shown value, fix]
const cases: [string, string, string, string, RegExp][] = [
  [
    "reservation: typo (would mean none)",
    base.replace("reservations:", "reservation:"),
    "reservation",
    "52:54:00:aa:00:01",
    /did you mean reservations\?/,
  ],
  [
    "subnets: typo",
    base.replace("subnet:", "subnets:"),
    "subnets",
    "192.168",
    /did you mean subnet\?/,
  ],
  [
    "Router with a capital",
    base.replace("router:", "Router:"),
    "Router",
    "192.168.56.1",
    /did you mean router\?/,
  ],
  [
    "lease typo",
    base.replace("leaseSeconds:", "leaseSecond:"),
    "leaseSecond",
    "600",
    /did you mean leaseSeconds\?/,
  ],
  [
    "unknown top-level key",
    base + "options: { foo: 1 }\n",
    "options",
    "foo",
    /remove it, or use one of/,
  ],
  [
    "pool typo start",
    base.replace("start:", "strat:"),
    "pool.strat",
    "192.168.56.100",
    /did you mean start\?/,
  ],
  [
    "unknown pool key",
    base.replace("end: 192.168.56.199", "end: 192.168.56.199, size: 10"),
    "pool.size",
    "10",
    /use one of: start, end/,
  ],
  [
    "reservation ipaddr typo",
    res('{ name: a, mac: "52:54:00:aa:00:01", ipaddr: 192.168.56.10 }'),
    "reservations[0].ipaddr",
    "192.168.56.10",
    /remove it, or use one of: name, mac, ip/,
  ],
  [
    "reservation hostname key",
    res('{ hostname: a, mac: "52:54:00:aa:00:01", ip: 192.168.56.10 }'),
    "reservations[0].hostname",
    '"a"',
    /use one of: name, mac, ip/,
  ],
  [
    "router inside the pool",
    base.replace("router: 192.168.56.1", "router: 192.168.56.150"),
    "router",
    "192.168.56.150",
    /move the pool off the router/,
  ],
  [
    "router at the pool start",
    base.replace("router: 192.168.56.1", "router: 192.168.56.100"),
    "router",
    "192.168.56.100",
    /move the pool/,
  ],
  [
    "router outside the subnet",
    base.replace("router: 192.168.56.1", "router: 10.0.0.1"),
    "router",
    "10.0.0.1",
    /inside 192.168.56.0\/24/,
  ],
  [
    "router is the broadcast address",
    base.replace("router: 192.168.56.1", "router: 192.168.56.255"),
    "router",
    "192.168.56.255",
    /inside/,
  ],
  [
    "router is a number",
    base.replace("router: 192.168.56.1", "router: 42"),
    "router",
    "42",
    /dotted quad/,
  ],
  [
    "subnet with host bits",
    base.replace("192.168.56.0/24", "192.168.56.7/24"),
    "subnet",
    "192.168.56.7/24",
    /192.168.56.0\/24/,
  ],
  ["subnet /31", base.replace("192.168.56.0/24", "192.168.56.0/31"), "subnet", "/31", /e\.g\./],
  ["subnet missing", base.replace("subnet: 192.168.56.0/24\n", ""), "subnet", "(not set)", /CIDR/],
  [
    "pool as a string",
    base.replace(/pool: .*\n/, "pool: 192.168.56.100-192.168.56.199\n"),
    "pool",
    "192.168.56.100-",
    /pool: \{ start/,
  ],
  [
    "pool reversed",
    base.replace(
      "start: 192.168.56.100, end: 192.168.56.199",
      "start: 192.168.56.199, end: 192.168.56.100",
    ),
    "pool.end",
    "192.168.56.100",
    /swap/,
  ],
  [
    "pool end outside",
    base.replace("end: 192.168.56.199", "end: 192.168.57.10"),
    "pool.end",
    "192.168.57.10",
    /inside/,
  ],
  [
    "dns as a string",
    base.replace("dns: [192.168.56.1]", "dns: 192.168.56.1"),
    "dns",
    "192.168.56.1",
    /dns: \[/,
  ],
  [
    "dns name, not address",
    base.replace("dns: [192.168.56.1]", "dns: [ns.lab.example]"),
    "dns[0]",
    "ns.lab.example",
    /dotted quad/,
  ],
  [
    "domain with a space",
    base.replace("domain: lab.example", 'domain: "lab example"'),
    "domain",
    "lab example",
    /lab\.example/,
  ],
  [
    "domain with a semicolon",
    base.replace("domain: lab.example", 'domain: "lab.example; rm -rf /"'),
    "domain",
    "rm -rf",
    /labels/,
  ],
  [
    "domain with a trailing dot label too long",
    base.replace("domain: lab.example", `domain: ${"a".repeat(64)}.example`),
    "domain",
    "aaaa",
    /labels/,
  ],
  [
    "lease too short",
    base.replace("leaseSeconds: 600", "leaseSeconds: 5"),
    "leaseSeconds",
    "5",
    /600/,
  ],
  [
    "lease as text",
    base.replace("leaseSeconds: 600", 'leaseSeconds: "600s"'),
    "leaseSeconds",
    "600s",
    /600/,
  ],
  [
    "reservations as a mapping",
    base.replace(/reservations:\n.*\n/, "reservations: { a: 1 }\n"),
    "reservations",
    '{"a":1}',
    /reservations: \[/,
  ],
  [
    "reservation as a string",
    res('"a 52:54:00:aa:00:01 192.168.56.10"'),
    "reservations[0]",
    "52:54",
    /name: printer-1/,
  ],
  [
    "multicast MAC",
    res('{ name: a, mac: "01:00:5e:00:00:01", ip: 192.168.56.10 }'),
    "reservations[0].mac",
    "01:00:5e",
    /six hex pairs/,
  ],
  [
    "MAC with an option-like value",
    res('{ name: a, mac: "-oProxyCommand", ip: 192.168.56.10 }'),
    "reservations[0].mac",
    "-oProxyCommand",
    /six hex pairs/,
  ],
  [
    "host name with upper case and dot",
    res('{ name: "Lab.PC", mac: "52:54:00:aa:00:01", ip: 192.168.56.10 }'),
    "reservations[0].name",
    "Lab.PC",
    /lower-case/,
  ],
  [
    "host name with a newline",
    res('{ name: "a\\nb", mac: "52:54:00:aa:00:01", ip: 192.168.56.10 }'),
    "reservations[0].name",
    "a\\nb",
    /lower-case/,
  ],
  [
    "reservation inside the pool",
    res('{ name: a, mac: "52:54:00:aa:00:01", ip: 192.168.56.150 }'),
    "reservations[0].ip",
    "192.168.56.150",
    /outside the pool/,
  ],
  [
    "reservation on the router",
    res('{ name: a, mac: "52:54:00:aa:00:01", ip: 192.168.56.1 }'),
    "reservations[0].ip",
    "192.168.56.1",
    /free address/,
  ],
  [
    "document is a list",
    "- subnet: 192.168.56.0/24\n",
    "(document)",
    "subnet",
    /start with `subnet:/,
  ],
  ["document is not YAML", "subnet: [unclosed\n", "(document)", "(not set)", /YAML syntax/],
];

describe("data/dhcp.yaml refuses", () => {
  test.each(cases)("%s", (_name, text, key, value, fix) => {
    expectProblem(() => parseDhcpData(text, "data/dhcp.yaml"), {
      file: "data/dhcp.yaml",
      key,
      value,
      fix,
    });
  });

  const dir = fs.mkdtempSync(join(tmpdir(), "flt-dhcp-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const paths = (dhcp: string) => ({ dhcp, ldap: "", www: "" });
  test.each([
    ["a missing file", () => join(dir, "none.yaml"), /does not exist/],
    ["a directory", () => dir, /is a directory/],
    ["a device", () => "/dev/zero", /not a regular file/],
    [
      "a dangling link",
      () => (fs.symlinkSync(join(dir, "x"), join(dir, "l.yaml")), join(dir, "l.yaml")),
      /does not exist/,
    ],
    [
      "a link loop",
      () => (fs.symlinkSync(join(dir, "o.yaml"), join(dir, "o.yaml")), join(dir, "o.yaml")),
      /loop/,
    ],
  ])("%s as the file", (_n, file, problem) => {
    const f = file();
    expectProblem(() => loadDataSet("dhcp", paths(f), () => "data/dhcp.yaml"), {
      file: "data/dhcp.yaml",
      key: "(file)",
      problem,
      fix: /fleetlab:data.dhcp/,
    });
  });
});
