import { UnitState } from "../registry/registry";
import {
  buildView,
  Change,
  changes,
  ClusterView,
  HISTORY_LIMIT,
  RegistrySnapshot,
  remember,
  tone,
} from "./view";

const A = "a".repeat(32);
const B = "b".repeat(32);
const C = "c".repeat(32);

const machine = (id: string, ip: string, metadata: Record<string, string> = {}) => ({
  id,
  primaryIP: ip,
  metadata,
});
const state = (name: string, machineID: string, active = "active", sub = "running"): UnitState => ({
  name,
  hash: "h",
  machineID,
  systemdLoadState: "loaded",
  systemdActiveState: active,
  systemdSubState: sub,
});

function snapshot(over: Partial<RegistrySnapshot> = {}): RegistrySnapshot {
  return {
    machines: [machine(B, "10.0.0.2", { rack: "r2" }), machine(A, "10.0.0.1", { rack: "r1" })],
    units: [
      { name: "web.service", desiredState: "launched" },
      { name: "db.service", desiredState: "launched" },
      { name: "idle.service", desiredState: "inactive" },
    ],
    schedule: [
      { unit: "web.service", machineID: A, target: "launched" },
      { unit: "db.service", machineID: B, target: "launched" },
    ],
    states: [state("web.service", A)],
    reasons: {},
    leader: B,
    ...over,
  };
}

/** unit -> machine IDs, as a card reader sees it */
function where(v: ClusterView): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of v.machines) for (const u of m.units) (out[u.name] ??= []).push(m.id);
  return out;
}

describe("buildView", () => {
  test("one card per machine, sorted by ID, with the units placed on it and their states", () => {
    const v = buildView(snapshot());
    expect(
      v.machines.map((m) => [m.shortId, m.primaryIP, m.metadata, m.present, m.leader]),
    ).toEqual([
      ["aaaaaaaa", "10.0.0.1", { rack: "r1" }, true, false],
      ["bbbbbbbb", "10.0.0.2", { rack: "r2" }, true, true],
    ]);
    expect(v.machines[0].units).toEqual([
      {
        name: "web.service",
        desiredState: "launched",
        target: "launched",
        currentState: "launched",
        systemd: { load: "loaded", active: "active", sub: "running" },
        tone: "ok",
      },
    ]);
    // placed but not reported yet: fleet's currentState is inactive, and it is on its way
    expect(v.machines[1].units).toEqual([
      {
        name: "db.service",
        desiredState: "launched",
        target: "launched",
        currentState: "inactive",
        tone: "wait",
      },
    ]);
  });

  test("units with no placement are listed apart, with the engine's reason when there is one", () => {
    const v = buildView(
      snapshot({
        units: [
          { name: "web.service", desiredState: "launched" },
          { name: "db.service", desiredState: "launched" },
          { name: "picky.service", desiredState: "launched" },
          { name: "idle.service", desiredState: "inactive" },
        ],
        reasons: { "picky.service": "no machine has metadata disk=ssd" },
      }),
    );
    expect(v.unplaced).toEqual([
      { name: "idle.service", desiredState: "inactive" },
      {
        name: "picky.service",
        desiredState: "launched",
        reason: "no machine has metadata disk=ssd",
      },
    ]);
  });

  test("a machine whose lease expired keeps a card while units are still placed on it", () => {
    const v = buildView(snapshot({ machines: [machine(B, "10.0.0.2")], states: [] }));
    const gone = v.machines.find((m) => m.id === A)!;
    expect(gone).toMatchObject({ present: false, primaryIP: "", metadata: {} });
    expect(gone.units.map((u) => u.name)).toEqual(["web.service"]);
  });

  test("a unit a machine still reports but no longer has placed is shown there without a target", () => {
    const v = buildView(
      snapshot({
        schedule: [{ unit: "db.service", machineID: B, target: "launched" }],
        states: [state("web.service", A, "deactivating", "stop-sigterm")],
      }),
    );
    const leaving = v.machines.find((m) => m.id === A)!.units[0];
    expect(leaving).toMatchObject({ name: "web.service", currentState: "inactive", tone: "wait" });
    expect(leaving.target).toBeUndefined();
    // not placed anywhere by the schedule, so it is also in the unplaced list
    expect(v.unplaced.map((u) => u.name)).toContain("web.service");
  });

  test("a global unit appears on every machine it is placed on", () => {
    const v = buildView(
      snapshot({
        units: [{ name: "log.service", desiredState: "launched" }],
        schedule: [
          { unit: "log.service", machineID: A, target: "launched" },
          { unit: "log.service", machineID: B, target: "launched" },
        ],
        states: [],
      }),
    );
    expect(where(v)).toEqual({ "log.service": [A, B] });
  });

  test("a placement of a unit no longer in the registry is left out", () => {
    const v = buildView(
      snapshot({ units: [{ name: "db.service", desiredState: "launched" }], states: [] }),
    );
    expect(where(v)).toEqual({ "db.service": [B] });
  });

  test("unit options never reach the view, whatever the snapshot carries", () => {
    const secret = "-----BEGIN " + "PRIVATE KEY-----abc";
    const s = snapshot();
    // a caller that forgot to strip options: the view copies named fields only
    (s.units[0] as unknown as Record<string, unknown>).options = [
      { section: "Service", name: "Environment", value: `KEY=${secret}` },
    ];
    expect(JSON.stringify(buildView(s))).not.toContain("PRIVATE KEY");
  });
});

describe("tone", () => {
  test.each([
    ["active", "ok"],
    ["activating", "wait"],
    ["deactivating", "wait"],
    ["inactive", "wait"],
    ["reloading", "wait"],
    ["failed", "bad"],
    [undefined, "wait"],
  ])("%s is %s", (active, t) => expect(tone(active)).toBe(t));
});

describe("changes", () => {
  const T = 1_700_000_000_000;
  const before = buildView(snapshot());

  test("nothing to compare with on the first view", () => {
    expect(changes(undefined, before, T)).toEqual([]);
  });

  test("the same state twice: nothing moved", () => {
    expect(changes(before, buildView(snapshot()), T)).toEqual([]);
  });

  // A's units rescheduled onto B after A died.
  const bothOnB = () =>
    buildView(
      snapshot({
        machines: [machine(B, "10.0.0.2")],
        schedule: [
          { unit: "web.service", machineID: B, target: "launched" },
          { unit: "db.service", machineID: B, target: "launched" },
        ],
        states: [],
      }),
    );

  test("a killed machine: it left, and its unit moved to the survivor", () => {
    const after = bothOnB();
    expect(changes(before, after, T)).toEqual([
      { at: T, kind: "left", machine: A, text: "machine aaaaaaaa left" },
      {
        at: T,
        kind: "moved",
        unit: "web.service",
        from: A,
        to: B,
        text: "web.service moved aaaaaaaa → bbbbbbbb",
      },
    ]);
  });

  test("a move seen in two steps (lease gone, then rescheduled) is still one move", () => {
    const gone = buildView(snapshot({ machines: [machine(B, "10.0.0.2")], states: [] }));
    const moved = bothOnB();
    expect(changes(before, gone, T).map((c) => c.kind)).toEqual(["left"]);
    expect(changes(gone, moved, T + 1).map((c) => [c.kind, c.unit, c.from, c.to])).toEqual([
      ["moved", "web.service", A, B],
    ]);
  });

  test("joined machine, submitted and destroyed units, a unit that lost its machine", () => {
    const after = buildView(
      snapshot({
        machines: [...snapshot().machines, machine(C, "10.0.0.3")],
        units: [
          { name: "db.service", desiredState: "launched" },
          { name: "new.service", desiredState: "launched" },
          { name: "idle.service", desiredState: "inactive" },
        ],
        schedule: [{ unit: "new.service", machineID: C, target: "launched" }],
        reasons: { "db.service": "conflicts with new.service" },
        states: [],
      }),
    );
    expect(changes(before, after, T).map((c) => c.text)).toEqual([
      "machine cccccccc joined",
      "db.service taken off bbbbbbbb: conflicts with new.service",
      "new.service submitted",
      "new.service placed on cccccccc",
      "web.service destroyed",
    ]);
  });

  test("a global unit gaining a machine is placed there, not moved", () => {
    const one = buildView(
      snapshot({
        units: [{ name: "log.service", desiredState: "launched" }],
        schedule: [{ unit: "log.service", machineID: A, target: "launched" }],
      }),
    );
    const two = buildView(
      snapshot({
        units: [{ name: "log.service", desiredState: "launched" }],
        schedule: [
          { unit: "log.service", machineID: A, target: "launched" },
          { unit: "log.service", machineID: B, target: "launched" },
        ],
      }),
    );
    expect(changes(one, two, T).map((c) => [c.kind, c.to])).toEqual([["placed", B]]);
  });
});

describe("remember", () => {
  const c = (n: number): Change => ({ at: n, kind: "joined", machine: `${n}`, text: `${n}` });

  test("newest batch first, batch order kept", () => {
    expect(remember([c(1), c(0)], [c(2), c(3)]).map((x) => x.at)).toEqual([2, 3, 1, 0]);
  });

  test("bounded: only the latest changes are kept", () => {
    let h: Change[] = [];
    for (let i = 0; i < 50; i++) h = remember(h, [c(i)]);
    expect(h).toHaveLength(HISTORY_LIMIT);
    expect(h[0].at).toBe(49);
    expect(h[HISTORY_LIMIT - 1].at).toBe(50 - HISTORY_LIMIT);
  });
});
