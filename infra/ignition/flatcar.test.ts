// What real Flatcar needs from the rendered config (issue 16), pinned on the rendered
// files: the lab NIC's route per hypervisor, update.conf, Docker's enablement and the
// SELinux options of fleetlab's own containers.
import { labSpecFromFile, LabSpec } from "../config";
import {
  decodeDataUrl,
  ETCD_UNIT,
  FLEET_AGENT_UNIT,
  IgnitionConfig,
  NETWORKD_FILE,
  renderIgnition,
  UPDATE_CONF_PATH,
} from ".";

const tls = { caCert: "<CA>\n", cert: "<CERT>\n", key: "<KEY>\n" };
const render = (spec: LabSpec, i = 0): IgnitionConfig => renderIgnition(spec, spec.nodes[i], tls);
const fileText = (ign: IgnitionConfig, path: string): string =>
  decodeDataUrl(ign.storage.files.find((f) => f.path === path)!.contents.source);
const unitText = (ign: IgnitionConfig, name: string): string =>
  ign.systemd.units.find((u) => u.name === name)!.contents!.replace(/ \\\n\s+/g, " ");

const dev = labSpecFromFile("dev");
const faculty = labSpecFromFile("faculty");
const local = labSpecFromFile("local");

describe("the lab NIC's .network file", () => {
  it("has no default route on VirtualBox, so NIC2's NAT (DHCP) route carries egress", () => {
    expect(fileText(render(dev), NETWORKD_FILE)).toBe(
      [
        "[Match]",
        "MACAddress=08:00:27:a8:38:0b",
        "",
        "[Network]",
        "Address=192.168.56.11/24",
        "DNS=192.168.56.1",
        "",
      ].join("\n"),
    );
  });

  it("keeps the host as gateway on libvirt (faculty and local)", () => {
    expect(fileText(render(faculty), NETWORKD_FILE)).toContain("Gateway=10.40.0.1\n");
    expect(fileText(render(local), NETWORKD_FILE)).toContain("Gateway=10.88.0.1\n");
  });
});

describe("/etc/flatcar/update.conf", () => {
  it("turns the update server and reboots off by default, on every stack", () => {
    for (const spec of [dev, faculty, local]) {
      const f = render(spec).storage.files.find((x) => x.path === UPDATE_CONF_PATH)!;
      expect(f.mode).toBe(0o644);
      expect(decodeDataUrl(f.contents.source)).toBe("SERVER=disabled\nREBOOT_STRATEGY=off\n");
    }
  });

  it("with fleetlab:flatcarUpdates, reboots one node at a time under the etcd lock, over TLS", () => {
    const on: LabSpec = { ...faculty, flatcar: { ...faculty.flatcar, updates: true } };
    expect(fileText(render(on), UPDATE_CONF_PATH)).toBe(
      [
        "GROUP=stable",
        "REBOOT_STRATEGY=etcd-lock",
        "LOCKSMITHD_ENDPOINT=https://10.40.0.11:2379,https://10.40.0.12:2379,https://10.40.0.13:2379",
        "LOCKSMITHD_ETCD_CAFILE=/etc/fleetlab/tls/ca.pem",
        "LOCKSMITHD_ETCD_CERTFILE=/etc/fleetlab/tls/node.pem",
        "LOCKSMITHD_ETCD_KEYFILE=/etc/fleetlab/tls/node-key.pem",
        "",
      ].join("\n"),
    );
  });
});

describe("Docker on the node", () => {
  it("is enabled and linked into multi-user.target.wants, as Flatcar documents", () => {
    const ign = render(dev);
    expect(ign.systemd.units.find((u) => u.name === "docker.service")).toEqual({
      name: "docker.service",
      enabled: true,
    });
    expect(ign.storage.links).toEqual([
      {
        path: "/etc/systemd/system/multi-user.target.wants/docker.service",
        target: "/usr/lib/systemd/system/docker.service",
        hard: false,
        overwrite: true,
      },
    ]);
  });

  it("runs etcd, its join helper and the fleet agent without SELinux label separation", () => {
    const ign = render(faculty);
    expect(unitText(ign, ETCD_UNIT)).toContain(
      "docker run --rm --name=etcd-member --net=host --security-opt label=disable ",
    );
    expect(unitText(ign, FLEET_AGENT_UNIT)).toContain(
      "docker run --rm --name=fleet-agent --net=host --security-opt label=disable ",
    );
    expect(fileText(ign, "/opt/fleetlab/bin/etcd-join")).toContain(
      "docker run --rm --net=host --security-opt label=disable ",
    );
  });

  it("gives etcd, its join helper and the fleet agent CPU before the daemons that pull images", () => {
    const ign = render(faculty);
    for (const unit of [ETCD_UNIT, FLEET_AGENT_UNIT]) {
      expect(unitText(ign, unit)).toContain(" --cpu-shares=26214 ");
      expect(unitText(ign, unit)).toMatch(/^CPUWeight=1000$/m);
    }
    expect(fileText(ign, "/opt/fleetlab/bin/etcd-join")).toContain(" --cpu-shares=26214 ");
  });
});
