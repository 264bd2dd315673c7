// The prefetch units' yield step (units/services.ts) under real systemd as PID 1 in a
// container: a prefetch pulls only once the node has no job left but prefetches, so a
// node's own services start before the pulls ahead of need compete with them. The pull
// is replaced by a file the test can see (no Docker inside); the wait runs as rendered.
import { DEFAULT_SERVICE_UNIT_OPTIONS, prefetchUnits } from "../../units/services";
import { waitFor } from "../support/wait";
import { startSystemdContainer, SystemdContainer } from "../fleet/systemd-container";

jest.setTimeout(180_000);

let box: SystemdContainer | undefined;
const inside = (...cmd: string[]) => box!.inside(...cmd);
const exists = (path: string) => inside("sh", "-c", `test -e '${path}' && echo yes`) === "yes";

/** A prefetch unit as rendered, its pull replaced by touching /run/pulled-<image>. */
function prefetchStandIn(image: "www" | "ldap") {
  const unit = prefetchUnits(DEFAULT_SERVICE_UNIT_OPTIONS).find((u) => u.image === image)!;
  const text = unit.text
    .split("\n")
    .filter((l) => !/^(Requires|After)=docker\.service$/.test(l))
    .map((l) => (l.startsWith("ExecStart=") ? `ExecStart=/bin/touch /run/pulled-${image}` : l))
    .join("\n");
  expect(text).toContain("ExecStartPre=/bin/sh");
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
  inside("systemctl", "daemon-reload");
});

afterAll(() => box?.remove());

test("a prefetch waits while the node starts a service, and pulls once it is up; two prefetches do not wait for each other", async () => {
  // Queued as the agent queues a machine's units: by name, prefetches first.
  inside("systemctl", "start", "--no-block", "ldap-prefetch.service", "svc.service");
  inside("systemctl", "start", "--no-block", "www-prefetch.service");
  await waitFor(
    "svc.service activating",
    () => inside("systemctl", "is-active", "svc.service") === "activating",
    20_000,
    200,
  );
  // Two quiet polls take 6 s; 10 s of a busy node must not end the wait.
  await new Promise((r) => setTimeout(r, 10_000));
  expect({
    pulled: [exists("/run/pulled-www"), exists("/run/pulled-ldap")],
    state: inside("systemctl", "is-active", "www-prefetch.service", "ldap-prefetch.service"),
  }).toEqual({ pulled: [false, false], state: "activating\nactivating" });

  inside("touch", "/run/ready");
  await waitFor(
    "both prefetches pulled after the service came up",
    () => exists("/run/pulled-www") && exists("/run/pulled-ldap"),
    30_000,
    500,
  );
  expect(inside("systemctl", "is-active", "svc.service", "www-prefetch.service")).toBe(
    "active\nactive",
  );
});
