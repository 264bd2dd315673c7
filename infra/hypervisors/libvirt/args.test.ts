// Every argument the libvirt driver hands to virsh or ssh: a value starting with '-'
// can never become an option (refused, or behind `--`), and the remote command ssh
// gives the remote shell is quoted word by word.
import { sshArgs, sshTarget, shellWord } from "./host";
import { virshArgs } from "./virsh";

describe("virsh arguments", () => {
  it("puts values after -- and keeps known flags before it", () => {
    expect(virshArgs("qemu:///system", ["vol-upload", "--pool", "p", "v", "/tmp/f"])).toEqual([
      "-q",
      "-c",
      "qemu:///system",
      "vol-upload",
      "--pool",
      "p",
      "--",
      "v",
      "/tmp/f",
    ]);
    expect(virshArgs("qemu:///system", ["list", "--all", "--name"])).toEqual([
      "-q",
      "-c",
      "qemu:///system",
      "list",
      "--all",
      "--name",
    ]);
  });
  it.each([
    [["start", "-oProxyCommand=x"]],
    [["start", "--console"]],
    [["vol-delete", "--pool", "--all", "v"]],
    [["vol-delete", "--pool", "-x", "v"]],
    [["--connect", "x"]],
    [["net-start", "-"]],
  ])("refuses %j", (args) => expect(() => virshArgs("qemu:///system", args)).toThrow(/refusing/));
  it("refuses a URI that is an option", () =>
    expect(() => virshArgs("-oProxyCommand=x", ["uri"])).toThrow(/cannot start with '-'/));
});

describe("ssh arguments", () => {
  it("ends options with -- before the target and quotes the remote words", () => {
    expect(
      sshArgs({ host: "admin@kvm", port: "2222" }, ["tail", "-n", "40", "--", "/var/log/a b"]),
    ).toEqual([
      "-p",
      "2222",
      "-o",
      "BatchMode=yes",
      "--",
      "admin@kvm",
      "'tail' '-n' '40' '--' '/var/log/a b'",
    ]);
    expect(shellWord("it's $(id)")).toBe(`'it'\\''s $(id)'`);
  });
  it.each(["qemu+ssh://-oProxyCommand=x/system", "qemu+ssh://admin@-oProxyCommand=x/system"])(
    "refuses an ssh target that is an option: %s",
    (uri) => expect(() => sshTarget(uri)).toThrow(/starts with '-'/),
  );
});
