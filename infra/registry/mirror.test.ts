import { mirrorSource, type DockerImages } from "./mirror";

const REF = "quay.io/coreos/etcd:v3.5.17";
const ID = `sha256:${"ab".repeat(32)}`;

/** A docker engine double: the images it holds, what a pull adds, and the calls made. */
function engine(held: Record<string, string>, pulled?: Record<string, string> | Error) {
  const calls: string[] = [];
  const docker: DockerImages = {
    id: (ref) => held[ref],
    pull: (ref) => {
      calls.push(ref);
      if (pulled instanceof Error) throw pulled;
      Object.assign(held, pulled);
    },
  };
  return { docker, calls };
}

describe("mirrorSource: etcd's image on this host, for the lab registry", () => {
  it("takes the image this host holds, without pulling", () => {
    const { docker, calls } = engine({ [REF]: ID });
    const said: string[] = [];
    expect(mirrorSource("etcd", REF, (m) => said.push(m), docker)).toEqual({
      name: "etcd",
      ref: REF,
      id: ID,
    });
    expect(calls).toEqual([]);
    expect(said).toEqual([]);
  });

  it("pulls an image this host lacks, saying so first", () => {
    const { docker, calls } = engine({}, { [REF]: ID });
    const said: string[] = [];
    expect(mirrorSource("etcd", REF, (m) => said.push(m), docker).id).toBe(ID);
    expect(calls).toEqual([REF]);
    expect(said).toEqual([`pulling ${REF} on this host to mirror it into the lab registry`]);
  });

  it("a failed pull names the key, the image, docker's reason and the fixes", () => {
    const { docker } = engine(
      {},
      new Error('Error response from daemon: Get "https://quay.io/v2/": dial tcp: i/o timeout'),
    );
    const run = () => mirrorSource("etcd", REF, undefined, docker);
    expect(run).toThrow(`fleetlab:etcdImage = "${REF}"`);
    expect(run).toThrow("i/o timeout");
    expect(run).toThrow(`fix: let this host reach the image's registry once (docker pull ${REF})`);
    expect(run).toThrow("or set fleetlab:etcdImage to an image this host holds");
  });

  it("a pull that leaves no image is an error, not an undefined ID", () => {
    const { docker } = engine({}, {});
    expect(() => mirrorSource("etcd", REF, undefined, docker)).toThrow(
      "docker pulled the image but does not list it",
    );
  });
});
