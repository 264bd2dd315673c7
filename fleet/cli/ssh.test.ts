// fleetctl status runs `systemctl status` over ssh: the target cannot be an option and
// the unit name reaches the remote systemctl as one word, whatever it holds.
import { spawnSync } from "child_process";
import { shellWord, sshArgs } from "./ssh";

test.each(["-oProxyCommand=x", "core@-oProxyCommand=x", ""])("refuses the target %j", (host) =>
  expect(() => sshArgs({ host }, ["true"])).toThrow(/not a host/),
);

test("refuses a port that is not a number", () =>
  expect(() => sshArgs({ host: "h", port: "-oX" }, ["true"])).toThrow(/not a number/));

test("the remote command is one quoted word per argument, after --", () => {
  const args = sshArgs({ host: "core@10.0.0.1" }, [
    "systemctl",
    "status",
    "-l",
    "--",
    "a\\x2db@$(id).service",
  ]);
  expect(args.slice(0, 2)).toEqual(["--", "core@10.0.0.1"]);
  expect(args[2]).toBe(`'systemctl' 'status' '-l' '--' 'a\\x2db@$(id).service'`);
});

test.each(["plain", "it's", "$(id)", "`id`", "a\\b", "a b", "-x", "'", '"\'"', "\n;rm -rf /"])(
  "a POSIX shell reads shellWord(%j) back as itself",
  (w) => {
    const r = spawnSync("sh", ["-c", `printf %s ${shellWord(w)}`], { encoding: "utf8" });
    expect(r.stdout).toBe(w);
  },
);
