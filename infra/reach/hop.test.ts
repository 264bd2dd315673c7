import { hopOfUri, hopOptions, jumpSpec } from "./hop";
import { sshFailure } from "./tunnel";

describe("the hop of a libvirt URI", () => {
  test("a local URI has none", () => {
    expect(hopOfUri("qemu:///system")).toBeUndefined();
    expect(hopOfUri("qemu+tcp://kvm/system")).toBeUndefined();
  });

  test("qemu+ssh gives the login libvirt uses: user@host, port and keyfile=", () => {
    expect(hopOfUri("qemu+ssh://fleetlab@kvm.example/system")).toEqual({
      host: "fleetlab@kvm.example",
    });
    const hop = hopOfUri(
      "qemu+ssh://root@10.0.0.5:2222/system?keyfile=/home/a/.ssh/lab&mode=legacy",
    )!;
    expect(hop).toEqual({ host: "root@10.0.0.5", port: "2222", identity: "/home/a/.ssh/lab" });
    expect(hopOptions(hop)).toEqual([
      ...["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"],
      ...["-p", "2222", "-i", "/home/a/.ssh/lab", "-o", "IdentitiesOnly=yes"],
    ]);
    expect(jumpSpec(hop)).toBe("root@10.0.0.5:2222");
  });

  test("a host or keyfile ssh could read as an option is refused", () => {
    expect(() => hopOfUri("qemu+ssh://-oProxyCommand=x/system")).toThrow(/starts with '-'/);
    expect(() => hopOfUri("qemu+ssh://a@-x/system")).toThrow(/starts with '-'/);
    expect(() => hopOfUri("qemu+ssh://kvm/system?keyfile=-oFoo")).toThrow(
      /keyfile= must name a file/,
    );
  });
});

describe("what an ssh failure means", () => {
  const hop = { host: "admin@kvm.example", port: "2222" };
  test.each([
    ["Permission denied (publickey).", /refused the login.*authorized_keys/],
    [
      "Host key verification failed.",
      /host key of kvm\.example is not in known_hosts.*ssh-keyscan -p 2222 kvm\.example/,
    ],
    [
      "@@@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\nHost key verification failed.",
      /kvm\.example answers with a host key that does not match known_hosts.*ssh-keygen -R kvm\.example/,
    ],
    [
      "ssh: connect to host kvm.example port 2222: Connection refused",
      /kvm\.example \(port 2222\) does not answer on SSH/,
    ],
    [
      "ssh: Could not resolve hostname kvm.example: Name or service not known",
      /does not resolve.*fix the host name/,
    ],
    ["something else", /ssh to admin@kvm\.example \(port 2222\) failed \(something else\)/],
  ])("%s", (stderr, message) => {
    const m = sshFailure(hop, stderr);
    expect(m).toMatch(/^fleetlab:hypervisor\.uri: /);
    expect(m).toMatch(message);
    expect(m).not.toMatch(/\r/);
  });
});
