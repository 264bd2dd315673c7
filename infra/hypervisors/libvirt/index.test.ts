import type { LabSpec, LibvirtSettings } from "../../config/types";
import { baseSource } from "./index";

describe("libvirt base image source", () => {
  const spec = { stack: "local", flatcar: { channel: "stable", version: "current" } } as LabSpec;
  const hv = { kind: "libvirt", image: { kind: "flatcar" } } as LibvirtSettings;

  it("is the stack's Flatcar release for image.kind flatcar", () => {
    expect(baseSource(spec, hv)).toEqual({
      kind: "flatcar",
      channel: "stable",
      version: "current",
    });
  });

  it("keeps a path or URL image with its format", () => {
    expect(
      baseSource(spec, { ...hv, image: { kind: "path", path: "/x.qcow2", format: "qcow2" } }),
    ).toEqual({ kind: "path", path: "/x.qcow2", format: "qcow2" });
    expect(
      baseSource(spec, { ...hv, image: { kind: "url", url: "u", sha256: "s", format: "raw" } }),
    ).toEqual({ kind: "url", url: "u", sha256: "s", format: "raw" });
  });
});
