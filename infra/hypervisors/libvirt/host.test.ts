// The libvirt host's ssh side: the target of a qemu+ssh URI, the argument list ssh gets
// (a target starting with '-' can never become an option; the remote command is quoted
// word by word for the remote shell), and the console log as an error shows it.
import { shellWord, sshArgs, sshTarget, stripAnsi } from "./host";

describe("ssh target of a connection URI", () => {
  it("is undefined for a local connection and user@host[:port] for qemu+ssh", () => {
    expect(sshTarget("qemu:///system")).toBeUndefined();
    expect(sshTarget("qemu+ssh://admin@kvm.example.edu/system")).toEqual({
      host: "admin@kvm.example.edu",
    });
    expect(sshTarget("qemu+ssh://admin@kvm:2222/system?keyfile=x")).toEqual({
      host: "admin@kvm",
      port: "2222",
    });
  });

  it.each(["qemu+ssh://-oProxyCommand=x/system", "qemu+ssh://admin@-oProxyCommand=x/system"])(
    "refuses a target that is an option: %s",
    (uri) => expect(() => sshTarget(uri)).toThrow(/starts with '-'/),
  );
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
});

describe("console log tail", () => {
  it("drops terminal colour codes", () => {
    expect(stripAnsi("[\x1b[0;32m  OK  \x1b[0m] Started\r")).toBe("[  OK  ] Started");
  });
});
