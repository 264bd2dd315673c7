// Hot standby's yield step (units/services.ts) under real systemd as PID 1 in a
// container: a prefetch pulls only once the node has no job left but hot standby's, so a
// node's own services start before the pulls ahead of need compete with them, and the
// prefetches pull one after another; a warm unit (hot standby's data half) waits for
// the pull it needs, and its queued job does not hold the yield; a warm unit that reaches
// the machine before its prefetch's unit (fleet units arrive one by one) still waits for
// the node. The pull and the warm render are replaced by lines in a file the test can
// read (no Docker inside); the wait, the lock and the ordering run as rendered.
import { DEFAULT_SERVICE_UNIT_OPTIONS, prefetchUnits, warmUnits } from "../../units/services";
import { waitFor } from "../support/wait";
import { startSystemdContainer, SystemdContainer } from "../fleet/systemd-container";

jest.setTimeout(180_000);

let box: SystemdContainer | undefined;
const inside = (...cmd: string[]) => box!.inside(...cmd);
const pulled = () => inside("sh", "-c", "cat /run/pulled 2>/dev/null").split("\n").filter(Boolean);

/**
 * A prefetch unit as rendered, its pull (under the standby lock, which stays) replaced by
 * a line "<image>" in /run/pulled.
 */
function prefetchStandIn(image: "www" | "ldap") {
  const unit = prefetchUnits(DEFAULT_SERVICE_UNIT_OPTIONS).find((u) => u.image === image)!;
  const pull = `/usr/bin/docker pull ${DEFAULT_SERVICE_UNIT_OPTIONS.images[image]}`;
  expect(unit.text).toMatch(/^ExecStartPre=\/usr\/bin\/flock \/run\/\S+ \/bin\/sh -c /m);
  expect(unit.text).toMatch(new RegExp(`^ExecStart=/usr/bin/flock /run/\\S+ ${pull}$`, "m"));
  const text = unit.text
    .split("\n")
    .filter((l) => !/^(Requires|After)=docker\.service$/.test(l))
    .map((l) => l.replace(pull, `/bin/sh -c "echo ${image} >>/run/pulled"`))
    .join("\n");
  return { name: unit.name, text };
}

/**
 * LDAP's warm unit as rendered, its container replaced by a line "warm" in /run/pulled,
 * and ordered after WWW's prefetch instead of the sidekick's (not in this box). Its yield
 * stays; its Docker steps go.
 */
function warmStandIn() {
  const unit = warmUnits(DEFAULT_SERVICE_UNIT_OPTIONS).find((u) => u.name === "ldap-warm.service")!;
  const lines = unit.text.split("\n");
  expect(lines).toContain("Wants=sidekick-prefetch.service");
  expect(lines.filter((l) => l.startsWith("ExecStartPre=/usr/bin/flock "))).toHaveLength(1);
  const text = lines
    .filter(
      (l) =>
        !/^(Requires=docker\.service|ExecStop=|\s)/.test(l) &&
        !/^ExecStartPre=(?!\/usr\/bin\/flock )/.test(l),
    )
    .map((l) => l.replace("sidekick-prefetch.service", "www-prefetch.service"))
    .map((l) => l.replace("docker.service ", ""))
    .map((l) =>
      l.startsWith("ExecStart=")
        ? `ExecStart=/bin/sh -c "echo warm >>/run/pulled; exec sleep infinity"`
        : l,
    )
    .join("\n");
  return { name: unit.name, text };
}

beforeAll(async () => {
  box = await startSystemdContainer("fleet-prefetch-yield");
  // A service that stays activating until /run/ready exists, as a lab service does
  // until its daemon is up (its ExecStartPost readiness wait).
  box.write(
    "/etc/systemd/system/svc.service",
    [
      "[Service]",
      "ExecStart=/bin/sleep infinity",
      "ExecStartPost=/bin/sh -c 'while [ ! -e /run/ready ]; do sleep 0.2; done'",
      "",
    ].join("\n"),
  );
  for (const image of ["www", "ldap"] as const) {
    const u = prefetchStandIn(image);
    box.write(`/etc/systemd/system/${u.name}`, u.text);
  }
  const w = warmStandIn();
  box.write(`/etc/systemd/system/${w.name}`, w.text);
  inside("systemctl", "daemon-reload");
});

afterAll(() => box?.remove());

/**
 * Once the service is starting (its readiness step waits for /run/ready), 15 s of a busy
 * node: two quiet polls take 10 s, so a yield that counted the node as quiet would have
 * ended by then.
 */
async function whileServiceStarts(): Promise<void> {
  await waitFor(
    "svc.service activating",
    () => inside("systemctl", "is-active", "svc.service") === "activating",
    20_000,
    200,
  );
  await new Promise((r) => setTimeout(r, 15_000));
}

test("a prefetch waits while the node starts a service and pulls once it is up; the prefetches pull one after another, the warm unit after its pull", async () => {
  // Queued as the agent queues a machine's units: by name, prefetches first.
  inside("systemctl", "start", "--no-block", "ldap-prefetch.service", "ldap-warm.service");
  inside("systemctl", "start", "--no-block", "svc.service");
  inside("systemctl", "start", "--no-block", "www-prefetch.service");
  // LDAP's prefetch polls; WWW's waits for it (After=), its job queued, not yet running.
  await whileServiceStarts();
  expect({
    pulled: pulled(),
    state: inside("systemctl", "is-active", "ldap-prefetch.service", "www-prefetch.service"),
    wwwJob: inside("systemctl", "list-jobs", "--no-legend", "www-prefetch.service"),
  }).toEqual({
    pulled: [],
    state: "activating\ninactive",
    wwwJob: expect.stringMatching(/www-prefetch\.service\s+start\s+waiting/),
  });

  inside("touch", "/run/ready");
  // The warm unit's job stays queued until its pull: were it counted as the node's own
  // work, the yield would wait out its whole bound (300 s) instead.
  await waitFor(
    "both prefetches pulled after the service came up, then the warm unit started",
    () => pulled().length === 3,
    90_000,
    500,
  );
  expect(pulled()).toEqual(["ldap", "www", "warm"]);
  expect(
    inside("systemctl", "is-active", "svc.service", "www-prefetch.service", "ldap-warm.service"),
  ).toBe("active\nactive\nactive");
});

test("a warm unit that reaches the machine before its prefetch's unit still waits for the node's own service", async () => {
  // A fresh node: nothing started, no prefetch unit loaded (fleet has not sent it yet).
  inside("systemctl", "stop", "svc.service", "ldap-warm.service", "www-prefetch.service");
  inside("systemctl", "stop", "ldap-prefetch.service");
  inside("rm", "-f", "/run/ready", "/run/pulled");
  for (const image of ["www", "ldap"] as const)
    inside("rm", "-f", `/etc/systemd/system/${prefetchStandIn(image).name}`);
  inside("systemctl", "daemon-reload");
  inside("systemctl", "start", "--no-block", "ldap-warm.service", "svc.service");
  // Its After= and Wants= name a unit systemd does not know: only its own yield holds it.
  await whileServiceStarts();
  expect({
    pulled: pulled(),
    warm: inside("systemctl", "is-active", "ldap-warm.service"),
  }).toEqual({ pulled: [], warm: "activating" });
  inside("touch", "/run/ready");
  await waitFor(
    "the warm unit started once the service was up",
    () => pulled().length === 1,
    60_000,
    500,
  );
  expect(pulled()).toEqual(["warm"]);
});
