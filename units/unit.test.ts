// The typed unit API: what a program's unit renders to (snapshot), that the engine's
// parser reads back the same [X-Fleet] rules, and that mistakes fail at program time.
import { checkUnit, parseUnitFile } from "../fleet/unit";
import { fleetUnit, renderUnitDefinition, xfleetSection, type UnitDefinition } from "./unit";

const redis: UnitDefinition = {
  name: "redis@.service",
  unit: { Description: "Redis for a course", After: "docker.service", Requires: "docker.service" },
  service: {
    ExecStartPre: "-/usr/bin/docker rm -f redis-%i",
    ExecStart: "/usr/bin/docker run --rm --name=redis-%i -p 6379:6379 redis:7",
    ExecStop: "/usr/bin/docker stop redis-%i",
    Restart: "always",
  },
  xfleet: {
    machineMetadata: { role: ["etcd", "worker"], lan: "true" },
    conflicts: ["redis@*.service"],
  },
};

describe("typed units", () => {
  it("render as a unit file, [X-Fleet] last, one directive per value", () => {
    expect(renderUnitDefinition(redis)).toMatchSnapshot();
  });

  it("read back through the engine's parser as the same rules", () => {
    const { xfleet } = checkUnit(
      "redis@1.service",
      parseUnitFile(renderUnitDefinition(redis)),
      "launched",
    );
    expect(xfleet.machineMetadata).toEqual({ role: ["etcd", "worker"], lan: ["true"] });
    expect(xfleet.conflicts).toEqual(["redis@*.service"]);
  });

  it("render Global as fleet reads it (true), not systemd's yes", () => {
    expect(xfleetSection({ global: true })).toEqual({ Global: "true" });
    expect(xfleetSection({})).toBeUndefined();
  });

  it("leave [X-Fleet] out when it holds nothing", () => {
    expect(renderUnitDefinition({ name: "a.service", service: { ExecStart: "/bin/true" } })).toBe(
      "[Service]\nExecStart=/bin/true\n",
    );
  });

  it("fail at program time with the unit and the engine's reason", () => {
    expect(() =>
      fleetUnit({ name: "a.service", xfleet: { global: true, machineOf: "www.service" } }),
    ).toThrow(/^unit a\.service: .*Global=true .*cannot be combined/);
    expect(() => fleetUnit({ name: "a@.service" })).toThrow(/is a template/);
    expect(fleetUnit({ name: "a@.service" }, "inactive").desiredState).toBe("inactive");
  });

  it("refuse an [X-Fleet] word fleet would split or unquote", () => {
    expect(() => xfleetSection({ machineMetadata: { room: "lab 2" } })).toThrow(
      /machineMetadata\.room "lab 2": must be one non-empty word/,
    );
    expect(() => xfleetSection({ conflicts: ['a"b'] })).toThrow(/conflicts/);
  });
});
