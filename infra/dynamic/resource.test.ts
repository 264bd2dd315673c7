// The kit's resource classes under Pulumi mocks: their Pulumi type, the aliases of
// their former types, their secret outputs, and the outputs the provider adds showing
// up on the declared fields.
import * as pulumi from "@pulumi/pulumi";
import { outputValue } from "../pki/mocks";
import { resourceClasses, resourceOptions, UNTYPED_DYNAMIC } from "./index";

const registered: { type: string; inputs: Record<string, unknown> }[] = [];

beforeAll(() =>
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, inputs: args.inputs });
        // What a provider's create would add to the inputs.
        return { id: `${args.name}-id`, state: { ...args.inputs, path: "/images/base.img" } };
      },
      call: (args) => args.inputs,
    },
    "fleetlab",
    "test",
  ),
);

const provider: pulumi.dynamic.ResourceProvider = {
  async create() {
    return { id: "x" };
  },
};

class TestImage extends resourceClasses("libvirt")<{ volume: string }>("BaseImage", provider, [
  "path",
]) {
  declare readonly path: pulumi.Output<string>;
}

describe("kit resource classes", () => {
  it("register as pulumi-nodejs:dynamic/<module>:<type> with the given inputs", async () => {
    const r = new TestImage("base", { volume: "v.img" });
    expect(await outputValue(r.urn)).toContain("pulumi-nodejs:dynamic/libvirt:BaseImage::base");
    const reg = registered.find((x) => x.type === "pulumi-nodejs:dynamic/libvirt:BaseImage");
    expect(reg?.inputs).toMatchObject({ volume: "v.img" });
    expect(typeof reg?.inputs.__provider).toBe("string");
  });

  it("expose the outputs the provider adds on the declared fields", async () => {
    const r = new TestImage("base2", { volume: "v.img" });
    expect(await outputValue(r.path)).toBe("/images/base.img");
  });

  it("alias their former types and keep their secret outputs, beside the caller's options", () => {
    const spec = {
      module: "test",
      type: "Secret",
      provider,
      secretOutputs: ["key"],
      formerTypes: [UNTYPED_DYNAMIC],
    };
    expect(
      resourceOptions(spec, { aliases: [{ name: "old" }], additionalSecretOutputs: ["other"] }),
    ).toEqual({
      aliases: [{ name: "old" }, { type: "pulumi-nodejs:dynamic:Resource" }],
      additionalSecretOutputs: ["other", "key"],
    });
    expect(resourceOptions({ module: "m", type: "T", provider })).toEqual({
      aliases: [],
      additionalSecretOutputs: [],
    });
  });
});
