// `lab status`: machines, then units with where they run and what systemd says.
import { formatStatus } from "./status";

const A = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const B = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

describe("formatStatus", () => {
  it("lists machines by IP and units by name, joining each unit's state on its machine", () => {
    const out = formatStatus({
      machines: [
        { id: B, primaryIP: "10.88.0.12", metadata: { role: "etcd" } },
        { id: A, primaryIP: "10.88.0.11", metadata: { role: "etcd", lan: "true" } },
      ],
      units: [
        {
          name: "www.service",
          options: [],
          desiredState: "launched",
          currentState: "launched",
          machineID: B,
        },
        {
          name: "dhcp.service",
          options: [],
          desiredState: "launched",
          currentState: "launched",
          machineID: A,
        },
        { name: "tftp@.service", options: [], desiredState: "inactive", currentState: "inactive" },
        {
          name: "gpu.service",
          options: [],
          desiredState: "launched",
          currentState: "inactive",
          reason: "no machine has metadata gpu=true",
        },
      ],
      states: [
        {
          name: "dhcp.service",
          hash: "",
          machineID: A,
          systemdLoadState: "loaded",
          systemdActiveState: "active",
          systemdSubState: "running",
        },
        // a report from a machine the unit left: not shown against its new machine
        {
          name: "www.service",
          hash: "",
          machineID: A,
          systemdLoadState: "loaded",
          systemdActiveState: "failed",
          systemdSubState: "failed",
        },
        {
          name: "www.service",
          hash: "",
          machineID: B,
          systemdLoadState: "loaded",
          systemdActiveState: "activating",
          systemdSubState: "start-pre",
        },
      ],
    });
    expect(out).toMatchSnapshot();
    const lines = out.split("\n");
    expect(lines[1]).toMatch(/^a1b2c3d4\.\.\.\s+10\.88\.0\.11\s+role=etcd,lan=true$/);
    expect(lines.find((l) => l.startsWith("www.service"))).toMatch(
      /0f1e2d3c\.\.\.\/10\.88\.0\.12\s+activating\s+start-pre$/,
    );
  });

  it("prints headers alone for an empty cluster", () => {
    expect(formatStatus({ machines: [], units: [], states: [] })).toBe(
      "MACHINE\tIP\tMETADATA\n\nUNIT\tDSTATE\tSTATE\tMACHINE\tACTIVE\tSUB",
    );
  });
});
