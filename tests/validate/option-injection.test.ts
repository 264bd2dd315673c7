// The real ssh and virsh read the driver's argument lists as the driver means them:
// a value starting with '-' stays a value (a host name, a domain name), never an option.
import { spawnSync } from "child_process";
import * as fs from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { serverArgs } from "../../infra/hypervisors/libvirt/host";
import { virshArgs } from "../../infra/hypervisors/libvirt/virsh";

test("ssh: an option-like target is refused, and behind -- the real ssh reads it as a host", () => {
  const host = `-oProxyCommand=touch ${join(fs.mkdtempSync(join(tmpdir(), "flt-ssh-")), "ran")}`;
  expect(() => serverArgs({ host }, ["true"])).toThrow(/not a host/);
  // The second layer alone: what serverArgs emits, `--` then the target.
  const args = [...serverArgs({ host: "kvm.invalid" }, ["true"])];
  args[args.indexOf("kvm.invalid")] = host;
  // -G prints the configuration ssh would use and exits without connecting.
  const r = spawnSync("ssh", ["-G", ...args], { encoding: "utf8", timeout: 10_000 });
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/^proxycommand touch/m);
  expect(fs.existsSync(host.split(" ")[1])).toBe(false);
});

test("virsh: a value after -- is a name, even when it looks like an option", () => {
  const r = spawnSync("virsh", virshArgs("test:///default", ["domuuid", "test"]), {
    encoding: "utf8",
  });
  expect(r.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
  // What virsh does with `--` and an option-looking value: looks up a domain of that name.
  const v = spawnSync("virsh", ["-q", "-c", "test:///default", "domuuid", "--", "--help"], {
    encoding: "utf8",
  });
  expect(v.stderr).toMatch(/failed to get domain '--help'/);
});
