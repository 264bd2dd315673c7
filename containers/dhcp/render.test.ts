import { DataError } from "../../labdata/problems";
import { readFileSync } from "fs";
import { join } from "path";
import { parseDhcpData } from "../../labdata/dhcp/parse";
import { renderKeaConfig } from "./render";

const repoData = readFileSync(join(__dirname, "../../data/dhcp.yaml"), "utf8");
const base = `subnet: 192.168.56.0/24
pool: { start: 192.168.56.100, end: 192.168.56.199 }
router: 192.168.56.1
reservations:
  - { name: a, mac: "52:54:00:aa:00:01", ip: 192.168.56.10 }
`;

function problems(text: string): string {
  try {
    parseDhcpData(text, "data/dhcp.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error("expected a DataError");
}

describe("parseDhcpData", () => {
  it("accepts the repository's data set", () => {
    const d = parseDhcpData(repoData);
    expect(d.reservations.length).toBeGreaterThan(0);
    expect(d.leaseSeconds).toBeLessThanOrEqual(3600);
  });

  it("normalises MACs to lower case", () => {
    const d = parseDhcpData(base.replace("52:54:00:aa:00:01", "52:54:00:AA:00:01"));
    expect(d.reservations[0].mac).toBe("52:54:00:aa:00:01");
  });

  it("rejects a reservation outside the subnet, naming file, key, value and fix", () => {
    const m = problems(base.replace("ip: 192.168.56.10", "ip: 10.0.0.5"));
    expect(m).toContain('data/dhcp.yaml: reservations[0].ip = "10.0.0.5"');
    expect(m).toContain("outside the usable addresses of subnet 192.168.56.0/24");
    expect(m).toContain("fix: use an address inside 192.168.56.0/24");
  });

  it("rejects duplicate MACs and IPs", () => {
    const dup = `${base}  - { name: b, mac: "52:54:00:aa:00:01", ip: 192.168.56.10 }\n`;
    const m = problems(dup);
    expect(m).toContain("reservations[1].mac");
    expect(m).toContain("duplicate MAC address: also at reservations[0].mac");
    expect(m).toContain("duplicate IP address: also at reservations[0].ip");
  });

  it("rejects a reservation inside the pool, a broadcast address and a bad MAC", () => {
    expect(problems(base.replace("ip: 192.168.56.10", "ip: 192.168.56.150"))).toContain(
      "inside the dynamic pool",
    );
    expect(problems(base.replace("ip: 192.168.56.10", "ip: 192.168.56.255"))).toContain(
      "outside the usable addresses",
    );
    expect(problems(base.replace('"52:54:00:aa:00:01"', "01:00:5e:00:00:01"))).toContain(
      "not a unicast MAC",
    );
  });

  it("rejects a pool whose end is before its start and a subnet with host bits", () => {
    expect(problems(base.replace("end: 192.168.56.199", "end: 192.168.56.50"))).toContain(
      "pool.end",
    );
    expect(problems(base.replace("192.168.56.0/24", "192.168.56.7/24"))).toContain("subnet");
  });

  it("reports every problem at once", () => {
    const m = problems(
      base
        .replace("ip: 192.168.56.10", "ip: nope")
        .replace("router: 192.168.56.1", "router: 1.2.3.4"),
    );
    expect(m).toMatch(/2 problems/);
  });
});

describe("renderKeaConfig", () => {
  it("renders reservations by hardware address and the control socket in the run dir", () => {
    const cfg = JSON.parse(
      renderKeaConfig(parseDhcpData(base), { runDir: "/run/x", interfaces: ["eth1"] }),
    );
    const d4 = cfg.Dhcp4;
    expect(d4["interfaces-config"].interfaces).toEqual(["eth1"]);
    expect(d4["control-socket"]["socket-name"]).toBe("/run/x/kea4-ctrl.sock");
    expect(d4.subnet4[0].reservations).toEqual([
      { "hw-address": "52:54:00:aa:00:01", "ip-address": "192.168.56.10", hostname: "a" },
    ]);
    expect(d4.subnet4[0].pools).toEqual([{ pool: "192.168.56.100 - 192.168.56.199" }]);
    expect(d4.subnet4[0]["option-data"]).toEqual([{ name: "routers", data: "192.168.56.1" }]);
  });

  it("round-trips through JSON (the payload stored in etcd) to the same config", () => {
    const d = parseDhcpData(repoData);
    const again = parseDhcpData(JSON.stringify(d));
    const o = { runDir: "/r", interfaces: ["*"] };
    expect(renderKeaConfig(again, o)).toBe(renderKeaConfig(d, o));
  });
});
