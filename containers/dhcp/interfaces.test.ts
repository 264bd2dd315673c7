// `auto` picks the LAN interface from os.networkInterfaces()'s shape, whatever the
// NIC is called; tables below are what Node reports on a lab node and in a container.
import { NetworkInterfaceInfo, networkInterfaces } from "os";
import { interfacesInSubnet, InterfaceTable, resolveKeaInterfaces } from "./interfaces";

const v4 = (address: string, prefix: number): NetworkInterfaceInfo => ({
  address,
  netmask: "",
  family: "IPv4",
  mac: "52:54:00:58:00:0b",
  internal: false,
  cidr: `${address}/${prefix}`,
});
const v6 = (address: string): NetworkInterfaceInfo => ({
  ...v4("::1", 128),
  address,
  family: "IPv6",
  cidr: null,
  scopeid: 0,
});

/** A lab node: loopback, docker0, the LAN NIC named by the hypervisor (Node's own type). */
const node: ReturnType<typeof networkInterfaces> = {
  lo: [{ ...v4("127.0.0.1", 8), internal: true }, v6("::1")],
  enp1s0: [v4("10.88.0.11", 24), v6("fe80::5054:ff:fe58:b")],
  docker0: [v4("172.17.0.1", 16)],
};

describe("interfacesInSubnet", () => {
  it("picks the interface whose IPv4 address lies in the subnet, whatever its name", () => {
    expect(interfacesInSubnet("10.88.0.0/24", node)).toEqual(["enp1s0"]);
    expect(interfacesInSubnet("10.88.0.0/24", { ens3: node.enp1s0 })).toEqual(["ens3"]);
  });

  it("returns every matching interface, sorted, and accepts Node's old numeric family", () => {
    const two: InterfaceTable = {
      eth1: [{ address: "192.168.56.12", family: 4 }],
      eth0: [v4("192.168.56.11", 24)],
      eth2: undefined,
    };
    expect(interfacesInSubnet("192.168.56.0/24", two)).toEqual(["eth0", "eth1"]);
  });

  it("ignores IPv6 and addresses just outside the subnet", () => {
    const edge: InterfaceTable = {
      a: [v4("10.88.1.0", 24)],
      b: [v4("10.87.255.255", 16)],
      c: [v6("10.88.0.5")],
    };
    expect(() => interfacesInSubnet("10.88.0.0/24", edge)).toThrow(/no interface/);
  });

  it("fails naming the subnet, what the machine has, and the fix", () => {
    expect(() => interfacesInSubnet("10.40.0.0/24", node)).toThrow(
      /^no interface of this machine has an address in 10\.40\.0\.0\/24 \(it has: lo 127\.0\.0\.1\/8, enp1s0 10\.88\.0\.11\/24, docker0 172\.17\.0\.1\/16\); fix: .*fleetlab:data\.dhcp.*fleetlab:network\.cidr.*dhcpInterface/,
    );
    expect(() => interfacesInSubnet("10.40.0.0/24", {})).toThrow(/it has: no IPv4 address/);
  });
});

describe("resolveKeaInterfaces", () => {
  it("replaces auto and keeps explicit names and Kea's * as given", () => {
    expect(resolveKeaInterfaces(["auto"], "10.88.0.0/24", node)).toEqual(["enp1s0"]);
    expect(resolveKeaInterfaces(["eth1"], "10.88.0.0/24", node)).toEqual(["eth1"]);
    expect(resolveKeaInterfaces(["*"], "10.40.0.0/24", node)).toEqual(["*"]);
    expect(resolveKeaInterfaces(["enp1s0", "auto"], "10.88.0.0/24", node)).toEqual(["enp1s0"]);
  });

  it("does not need the subnet to hold an interface when names are explicit", () => {
    expect(resolveKeaInterfaces(["ens3"], "10.40.0.0/24", {})).toEqual(["ens3"]);
    expect(() => resolveKeaInterfaces(["auto"], "10.40.0.0/24", {})).toThrow(/no interface/);
  });
});
