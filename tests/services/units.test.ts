// Every rendered service unit through systemd-analyze verify (works without systemd
// as PID 1), all in one directory so BindsTo/After between them resolve.
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { serviceUnits } from "../../units/services";

const dir = mkdtempSync(join(tmpdir(), "flt-units-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function verify(files: { name: string; text: string }[]) {
  for (const f of files) writeFileSync(join(dir, f.name), f.text);
  return spawnSync("systemd-analyze", ["verify", ...files.map((f) => join(dir, f.name))], {
    encoding: "utf8",
    timeout: 60_000,
    // Resolve docker.service and friends from the host's unit path as well as ours.
    env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
  });
}

// Lines about the host's own units (not ours) are not our concern.
const ours = (stderr: string) =>
  stderr.split("\n").filter((l) => l.includes(dir) || /(dhcp|www|ldap)[-@.]/.test(l));

test.each([1, 2])(
  "systemd-analyze verify accepts every unit (%i LDAP replicas)",
  (ldapReplicas) => {
    const r = verify(serviceUnits({ ldapReplicas }));
    expect(ours(r.stderr)).toEqual([]);
    expect(r.status).toBe(0);
  },
);

test("systemd-analyze verify catches a broken unit (the check can fail)", () => {
  const [dhcp] = serviceUnits();
  const r = verify([
    {
      name: "broken.service",
      text: dhcp.text.replace("ExecStart=/usr/bin/docker", "ExecStart=docker-nowhere"),
    },
  ]);
  expect(r.status).not.toBe(0);
});
