// Every argument the libvirt driver hands to virsh: a value starting with '-' can never
// become an option (refused, or behind `--`), and only the calls the driver makes pass.
import { virshArgs } from "./virsh";

describe("virsh arguments", () => {
  it("puts values after -- and keeps known options before it", () => {
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
    [["start", "-oProxyCommand=x"], /a value starting with '-' would be read as an option/],
    [["start", "--console"], /a value starting with '-'/],
    [["vol-delete", "--pool", "--all", "v"], /not a value for --pool/],
    [["vol-delete", "--pool", "-x", "v"], /not a value for --pool/],
    [["--connect", "x"], /not a virsh command the driver uses/],
    [["console", "vm"], /not a virsh command the driver uses/],
    [["net-start", "-"], /a value starting with '-'/],
    // A domain named like an option the grammar knows: counted, so not taken for it.
    [["domstate", "--all"], /domstate takes 1 value\(s\), got 0/],
    [["vol-upload", "--pool", "p", "v"], /vol-upload takes 2 value\(s\), got 1/],
  ])("refuses %j", (args, why) =>
    expect(() => virshArgs("qemu:///system", args)).toThrow(
      new RegExp(`^virsh ${args[0]}: refusing .*${why.source}`),
    ),
  );

  it("refuses a URI that is an option", () =>
    expect(() => virshArgs("-oProxyCommand=x", ["uri"])).toThrow(/cannot start with '-'/));
});
