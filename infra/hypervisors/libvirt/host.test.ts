// The libvirt host's ssh side (the target of a URI: infra/reach/hop.test.ts): the argument list ssh gets
// (a target starting with '-' can never become an option; the remote command is quoted
// word by word for the remote shell), and the console log as an error shows it.
import { hopOfUri } from "../../reach/hop";
import { serverArgs, shellWord, stripAnsi } from "./host";

describe("ssh arguments for the remote libvirt host", () => {
  it("take the URI's login, end options with -- before the target and quote the remote words", () => {
    const hop = hopOfUri("qemu+ssh://admin@kvm:2222/system?keyfile=/k/lab")!;
    expect(serverArgs(hop, ["tail", "-n", "40", "--", "/var/log/a b"])).toEqual([
      ...["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-p", "2222"],
      ...["-i", "/k/lab", "-o", "IdentitiesOnly=yes"],
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
