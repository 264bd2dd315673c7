import { parse } from "yaml";
import { labSpecFromFile } from "../config";
import { decodeDataUrl } from "../ignition";
import { registryAddress, hostPort, pullListen, REGISTRY_PORT } from "./address";
import { registryCertRequest } from ".";
import { renderRegistryConfig, type RegistryConfigInput } from "./config";
import { registryCaFile } from "./ignition";
import { imageRef, parseImageRef } from "./ref";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("image references by digest", () => {
  it("renders <host:port>/fleetlab/<name>@sha256:<hex> and parses it back", () => {
    const ref = imageRef({ registry: "10.88.0.1:5000", name: "www", digest: DIGEST });
    expect(ref).toBe(`10.88.0.1:5000/fleetlab/www@${DIGEST}`);
    expect(parseImageRef(ref)).toEqual({ registry: "10.88.0.1:5000", name: "www", digest: DIGEST });
  });

  it.each([
    ["a tag instead of a digest", { digest: "latest" }, 'digest = "latest"'],
    ["a short digest", { digest: "sha256:abc" }, "digest"],
    ["upper-case hex", { digest: DIGEST.toUpperCase().replace("SHA256", "sha256") }, "digest"],
    ["a registry without a port", { registry: "10.88.0.1" }, 'registry = "10.88.0.1"'],
    ["a port out of range", { registry: "10.88.0.1:70000" }, "registry"],
    ["an option-like name", { name: "-rm" }, 'name = "-rm"'],
    ["a name with a slash", { name: "a/b" }, 'name = "a/b"'],
  ])("rejects %s, naming the part", (_what, change, message) => {
    const r = { registry: "10.88.0.1:5000", name: "www", digest: DIGEST, ...change };
    expect(() => imageRef(r)).toThrow(message);
  });

  it("refuses to parse a tag reference", () => {
    expect(() => parseImageRef("ghcr.io/fleetlab/www:0.1.0")).toThrow("not <host:port>/fleetlab");
  });
});

describe("the registry's config", () => {
  const base: RegistryConfigInput = {
    role: "pull",
    addr: "10.88.0.1:5000",
    storageDir: "/home/u/.cache/fleetlab/registry/local/storage",
    certPath: "/home/u/.cache/fleetlab/registry/local/tls/server.crt",
    keyPath: "/home/u/.cache/fleetlab/registry/local/tls/server.key",
  };

  const SOCKET = "/home/u/.cache/fleetlab/registry/local/push.sock";

  it.each(["pull", "push"] as const)("the %s side matches its snapshot", (role) => {
    const addr = role === "pull" ? base.addr : SOCKET;
    expect(renderRegistryConfig({ ...base, role, addr })).toMatchSnapshot();
  });

  it("the pull side is read-only over TLS; the push side writable on a unix socket", () => {
    const pull = parse(renderRegistryConfig(base));
    const push = parse(renderRegistryConfig({ ...base, role: "push", addr: SOCKET }));
    expect(pull.storage.maintenance.readonly.enabled).toBe(true);
    expect(pull.http.tls).toEqual({ certificate: base.certPath, key: base.keyPath });
    expect(push.storage.maintenance.readonly.enabled).toBe(false);
    expect(push.http).toMatchObject({ net: "unix", addr: SOCKET });
    expect(push.http.tls).toBeUndefined();
  });

  it("refuses a push side that is not a unix socket path, or one too long for one", () => {
    expect(() => renderRegistryConfig({ ...base, role: "push", addr: "0.0.0.0:5001" })).toThrow(
      'addr = "0.0.0.0:5001" is not absolute',
    );
    expect(() =>
      renderRegistryConfig({ ...base, role: "push", addr: `/${"d".repeat(120)}/push.sock` }),
    ).toThrow(/longer than 107 bytes.*FLEETLAB_REGISTRY_DIR/);
  });

  it("refuses a pull address that is not host:port", () => {
    expect(() => renderRegistryConfig({ ...base, addr: "10.88.0.1" })).toThrow("not host:port");
  });

  it("refuses a relative storage path, naming it", () => {
    expect(() => renderRegistryConfig({ ...base, storageDir: "cache/registry" })).toThrow(
      'storageDir = "cache/registry" is not absolute',
    );
  });
});

describe("where the nodes reach the registry", () => {
  it("local: the lab network's gateway on the host", () => {
    const spec = labSpecFromFile("local");
    expect(registryAddress(spec)).toEqual({ host: spec.network.gateway, port: REGISTRY_PORT });
    expect(hostPort(registryAddress(spec))).toBe("10.88.0.1:5000");
  });

  it("dev: the host's address on the host-only network", () => {
    expect(hostPort(registryAddress(labSpecFromFile("dev"), 5100))).toBe("192.168.56.1:5100");
  });

  it("faculty: the gateway on the KVM server, reached through its SSH (the pull side on 127.0.0.1 here)", () => {
    const a = registryAddress(labSpecFromFile("faculty"));
    expect(a).toEqual({
      host: "10.40.0.1",
      port: REGISTRY_PORT,
      through: { host: "fleetlab@kvm.faculty.example" },
    });
    expect(pullListen(a)).toEqual({ host: "127.0.0.1", port: REGISTRY_PORT });
    expect(registryCertRequest(a).ipAddresses).toEqual(["10.40.0.1", "127.0.0.1"]);
  });

  it("faculty run on the KVM server itself (a local URI): as local, no forward", () => {
    const spec = labSpecFromFile("faculty");
    const local = { ...spec, hypervisor: { ...spec.hypervisor, uri: "qemu:///system" } };
    const a = registryAddress(local as typeof spec);
    expect(a).toEqual({ host: "10.40.0.1", port: REGISTRY_PORT });
    expect(pullListen(a)).toEqual(a);
    expect(registryCertRequest(a).ipAddresses).toEqual(["10.40.0.1"]);
  });

  it("the port is the stack's fleetlab:registryPort", () => {
    const spec = labSpecFromFile("local");
    expect(registryAddress({ ...spec, registry: { port: 5123 } }).port).toBe(5123);
  });
});

describe("the node's trust of the registry", () => {
  const ca = "-----BEGIN CERTIFICATE-----\n<LAB CA>\n-----END CERTIFICATE-----\n";

  it("puts the lab CA where Docker looks for it", () => {
    const f = registryCaFile("10.88.0.1:5000", ca);
    expect({ ...f, contents: decodeDataUrl(f.contents.source) }).toMatchSnapshot();
  });

  it("refuses an address without a port and a CA that is not PEM", () => {
    expect(() => registryCaFile("10.88.0.1", ca)).toThrow("not host:port");
    expect(() => registryCaFile("10.88.0.1:5000", "x")).toThrow("not a PEM certificate");
  });
});
