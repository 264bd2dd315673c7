// The service units through the fleet engine's own parser and scheduler: the
// placement rules hold on a sample lab (m1 on the LAN, m2 and m3 not).
import { checkUnit, parseUnitFile } from "../fleet/unit";
import { schedule, SchedMachine } from "../fleet/engine/scheduler";
import {
  DEFAULT_SERVICE_UNIT_OPTIONS,
  serviceUnits,
  STANDBY_CPU_SHARES,
  type ServiceUnitOverrides,
} from "./services";

const machines: SchedMachine[] = [
  { id: "m1", metadata: { role: "etcd", lan: "true" } },
  { id: "m2", metadata: { role: "etcd" } },
  { id: "m3", metadata: { role: "worker" } },
];

function parsed(opts: Parameters<typeof serviceUnits>[0] = {}) {
  return serviceUnits(opts).map((u) => checkUnit(u.name, parseUnitFile(u.text), "launched"));
}

function placements(opts: Parameters<typeof serviceUnits>[0] = {}, ms = machines) {
  const units = parsed(opts).map(({ unit, xfleet }) => ({
    name: unit.name,
    desiredState: unit.desiredState,
    xfleet,
  }));
  const r = schedule(units, ms, []);
  return { where: new Map(r.placements.map((p) => [p.unit, p.machineID])), reasons: r.reasons };
}

/** unit name -> every machine the scheduler puts it on (Global units: several). */
function machinesOf(opts: Parameters<typeof serviceUnits>[0] = {}) {
  const units = parsed(opts).map(({ unit, xfleet }) => ({
    name: unit.name,
    desiredState: unit.desiredState,
    xfleet,
  }));
  const on = new Map<string, string[]>();
  for (const p of schedule(units, machines, []).placements)
    on.set(p.unit, [...(on.get(p.unit) ?? []), p.machineID].sort());
  return on;
}

describe("service units", () => {
  it("parse with the fleet engine's parser, with the expected [X-Fleet] rules", () => {
    const x = new Map(parsed({ ldapReplicas: 2 }).map(({ unit, xfleet }) => [unit.name, xfleet]));
    expect([...x.keys()]).toEqual([
      "dhcp.service",
      "dhcp-sidekick.service",
      "www.service",
      "www-sidekick.service",
      "ldap@1.service",
      "ldap-sidekick@1.service",
      "ldap@2.service",
      "ldap-sidekick@2.service",
      "dhcp-prefetch.service",
      "ldap-prefetch.service",
      "sidekick-prefetch.service",
      "www-prefetch.service",
      "dhcp-warm.service",
      "www-warm.service",
      "ldap-warm.service",
    ]);
    expect(x.get("dhcp.service")?.machineMetadata).toEqual({ lan: ["true"] });
    expect(x.get("ldap-sidekick@2.service")?.machineOf).toEqual(["ldap@2.service"]);
    expect(x.get("ldap@1.service")?.conflicts).toEqual(["ldap@*.service"]);
    expect(x.get("www.service")?.machineMetadata).toEqual({});
  });

  it("one LDAP replica needs no Conflicts", () => {
    const ldap = parsed().find((p) => p.unit.name === "ldap.service");
    expect(ldap?.xfleet.conflicts).toEqual([]);
  });

  it("the scheduler puts DHCP on the LAN machine, sidekicks beside their services, LDAP replicas apart", () => {
    const { where, reasons } = placements({ ldapReplicas: 3 });
    expect(reasons).toEqual({});
    expect(where.get("dhcp.service")).toBe("m1");
    for (const svc of ["dhcp", "www", "ldap@1", "ldap@2", "ldap@3"]) {
      const sidekick = svc.includes("@") ? svc.replace("@", "-sidekick@") : `${svc}-sidekick`;
      expect(where.get(`${sidekick}.service`)).toBe(where.get(`${svc}.service`));
    }
    expect(new Set(["ldap@1", "ldap@2", "ldap@3"].map((u) => where.get(`${u}.service`))).size).toBe(
      3,
    );
  });

  it("hot standby: each image is pulled ahead on every machine that could run it, and only there", () => {
    const on = machinesOf();
    expect(on.get("dhcp-prefetch.service")).toEqual(["m1"]);
    for (const image of ["www", "ldap", "sidekick"])
      expect(on.get(`${image}-prefetch.service`)).toEqual(["m1", "m2", "m3"]);
    // It pulls the very reference the service runs, and nothing else: it cannot serve.
    const text = serviceUnits({
      images: { ldap: "reg:5000/fleetlab/ldap@sha256:" + "a".repeat(64) },
    }).find((u) => u.name === "ldap-prefetch.service")!.text;
    expect(text).toContain(
      `ExecStart=/usr/bin/flock /run/fleetlab-standby.lock /usr/bin/docker pull reg:5000/fleetlab/ldap@sha256:${"a".repeat(64)}`,
    );
    expect(text).not.toMatch(/docker run|-p |--net/);
    expect(text).toContain("Type=oneshot");
  });

  it("hot standby: each data set is rendered ahead on every machine that could run its service, and only there", () => {
    const on = machinesOf({ ldapReplicas: 2 });
    expect(on.get("dhcp-warm.service")).toEqual(["m1"]);
    expect(on.get("www-warm.service")).toEqual(["m1", "m2", "m3"]);
    expect(on.get("ldap-warm.service")).toEqual(["m1", "m2", "m3"]);
    const byName = Object.fromEntries(serviceUnits({ ldapReplicas: 2 }).map((u) => [u.name, u]));
    const warm = byName["ldap-warm.service"];
    // The sidekick's image in warm mode, into its own directory: no port, no daemon.
    expect(warm.image).toBe("sidekick");
    expect(warm.text).toContain(
      ` \\\n  ${DEFAULT_SERVICE_UNIT_OPTIONS.images.sidekick} warm ldap\n`,
    );
    expect(warm.text).toContain("-v /run/fleetlab/warm/ldap:/run/fleetlab/warm/ldap");
    expect(warm.text).not.toMatch(/ -p \d|--pid|-v \/run\/fleetlab\/ldap:/);
    // Every warm container takes only idle CPU; the services and sidekicks keep Docker's
    // default weight (the e2e reads what reached the nodes' kernels).
    for (const u of Object.values(byName))
      expect({ name: u.name, shares: u.text.match(/--cpu-shares=\d+/g) }).toEqual({
        name: u.name,
        shares: u.name.endsWith("-warm.service") ? [`--cpu-shares=${STANDBY_CPU_SHARES}`] : null,
      });
    expect(STANDBY_CPU_SHARES).toBe(2);
    // It waits for the node's own starts itself, under the lock the prefetches take.
    expect(warm.text).toMatch(
      /^ExecStartPre=\/usr\/bin\/flock \/run\/fleetlab-standby\.lock \/bin\/sh -c .* yield-to-node /m,
    );
    // It needs the sidekick's image, pulled by its prefetch (which yields to the node).
    expect(warm.text).toMatch(/^Wants=sidekick-prefetch\.service$/m);
    expect(warm.text).toMatch(/^After=docker\.service sidekick-prefetch\.service$/m);
    // Every replica starts from the copy, never replacing a file already there.
    for (const unit of ["ldap@1.service", "ldap@2.service"]) {
      const n = unit[5];
      expect(byName[unit].text).toContain(
        `ExecStartPre=-/usr/bin/cp -a -n -- /run/fleetlab/warm/ldap/. /run/fleetlab/ldap-${n}/\n`,
      );
    }
    expect(byName["www.service"].text).toContain("/run/fleetlab/warm/www/. /run/fleetlab/www/");
    expect(byName["dhcp.service"].text).toContain("/run/fleetlab/warm/dhcp/. /run/fleetlab/dhcp/");
    // The sidekicks do not copy it: they render.
    expect(byName["www-sidekick.service"].text).not.toContain("/warm/");
  });

  it("a service is active only once its daemon is up; only WWW's sidekick waits for that", () => {
    const text = (name: string) => serviceUnits().find((u) => u.name === name)!.text;
    const ready: Record<string, string> = {
      "dhcp.service": '-S \\"$$1\\" ]; do',
      "www.service": '-s \\"$$1\\" ]; do',
      "ldap.service": '-S \\"$$1\\" ]; do',
    };
    const paths: Record<string, string> = {
      "dhcp.service": "/run/fleetlab/dhcp/kea4-ctrl.sock",
      "www.service": "/run/fleetlab/www/nginx.pid",
      "ldap.service": "/run/fleetlab/ldap/ldapi",
    };
    for (const [unit, test] of Object.entries(ready)) {
      const t = text(unit);
      const post = t.split("\n").find((l) => l.startsWith("ExecStartPost="))!;
      expect(post).toContain(test);
      expect(post.endsWith(` wait-until-ready ${paths[unit]}`)).toBe(true);
      // The one an earlier container left is gone before this one starts.
      expect(t).toContain(`ExecStartPre=/usr/bin/rm -f -- ${paths[unit]}\n`);
    }
    // slapd waits for its sidekick's config, Kea takes its config from its sidekick
    // when up: those two start alongside (ordered after them, LDAP would never start).
    expect(text("ldap-sidekick.service")).toMatch(/^After=docker\.service$/m);
    expect(text("dhcp-sidekick.service")).toMatch(/^After=docker\.service$/m);
    // WWW's joins nginx's PID namespace, which exists once nginx runs.
    expect(text("www-sidekick.service")).toMatch(/^After=docker\.service www\.service$/m);
    for (const svc of ["dhcp", "www", "ldap"])
      expect(text(`${svc}-sidekick.service`)).toMatch(
        new RegExp(`^BindsTo=${svc}\\.service$`, "m"),
      );
  });

  it("DHCP stays unplaced, with a reason, when no machine is on the LAN", () => {
    const { where, reasons } = placements({}, machines.slice(1));
    expect(where.has("dhcp.service")).toBe(false);
    expect(reasons["dhcp.service"]).toMatch(/lan/);
  });

  it("runs each container with --rm under a fixed name and removes leftovers first", () => {
    const www = serviceUnits().find((u) => u.name === "www.service")!.text;
    expect(www).toContain("ExecStartPre=-/usr/bin/docker rm -f www");
    expect(www).toMatch(/ExecStart=\/usr\/bin\/docker run --rm --name=www \\\n {2}-p 80:8080/);
    expect(serviceUnits().find((u) => u.name === "www-sidekick.service")!.text).toContain(
      "--pid=container:www",
    );
  });

  it("lets the dhcp sidekick find the LAN interface by default, or takes an explicit name", () => {
    const env = (o: Parameters<typeof serviceUnits>[0] = {}) =>
      serviceUnits(o)
        .find((u) => u.name === "dhcp-sidekick.service")!
        .text.match(/FLEETLAB_DHCP_INTERFACES=\S+/g);
    expect(env()).toEqual(["FLEETLAB_DHCP_INTERFACES=auto"]);
    expect(env({ dhcpInterface: "enp1s0" })).toEqual(["FLEETLAB_DHCP_INTERFACES=enp1s0"]);
    // Only the sidekick renders Kea's config; the service itself takes no interface.
    expect(serviceUnits().find((u) => u.name === "dhcp.service")!.text).not.toContain(
      "FLEETLAB_DHCP_INTERFACES",
    );
  });

  it("rejects bad options naming the option, the value and the fix", () => {
    expect(() => serviceUnits({ ldapReplicas: 0 })).toThrow(/ldapReplicas = 0: .*fix:/);
    expect(() => serviceUnits({ wwwPort: 70000 })).toThrow(/wwwPort = 70000/);
    expect(() => serviceUnits({ dhcpInterface: "eth 1" })).toThrow(/dhcpInterface/);
  });
});

describe("docker run arguments from the options", () => {
  it.each([
    [{ images: { www: "--privileged" } }, /images.www = "--privileged": not an image reference/],
    [{ images: { dhcp: "-v/:/host" } }, /images.dhcp/],
    [{ images: { ldap: "10.88.0.1:5000/fleetlab/ldap:-x" } }, /images.ldap/],
    [{ images: { sidekick: "a/b:1 --privileged" } }, /images.sidekick/],
    [{ images: { www: "10.88.0.1:5000/fleetlab/www@sha256:abc" } }, /images.www/],
  ])("refuses %j, so no value becomes a docker option", (opts, message) =>
    expect(() => serviceUnits(opts as ServiceUnitOverrides)).toThrow(message),
  );

  it("runs each unit's own image, by digest when given one, and says which it is", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const www = `10.88.0.1:5000/fleetlab/www@${digest}`;
    const units = serviceUnits({ images: { www } });
    const byName = Object.fromEntries(units.map((u) => [u.name, u]));
    expect(byName["www.service"].image).toBe("www");
    expect(byName["www.service"].text).toContain(` ${www}\n`);
    expect(byName["www-sidekick.service"].image).toBe("sidekick");
    expect(byName["www-sidekick.service"].text).not.toContain(www);
    // The others keep their defaults.
    expect(byName["ldap.service"].text).toContain(DEFAULT_SERVICE_UNIT_OPTIONS.images.ldap);
  });
});
