// The provider shapes both drivers build on, called directly (no engine): what they put
// in state, what replaces, and that the operations they are given are the ones run.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { implLoader, replaceOnlyProvider, vmDiff } from "./dynamic";

describe("replace-only provider", () => {
  const made = (deleteBeforeReplace: boolean, deleteFn = jest.fn()) =>
    replaceOnlyProvider({
      keys: ["name", "source"],
      idOf: (inputs, state: { path: string }) => `${inputs.name}@${state.path}`,
      createFn: async (inputs) => ({ path: `/images/${inputs.name}` }),
      deleteFn,
      deleteBeforeReplace,
    });

  it("creates with the id it is told and outputs that are the inputs plus the created state", async () => {
    const r = await made(true).create({ name: "base", source: { kind: "flatcar" } });
    expect(r).toEqual({
      id: "base@/images/base",
      outs: { name: "base", source: { kind: "flatcar" }, path: "/images/base" },
    });
  });

  it("replaces on any change to its keys (deep), old first only when asked", async () => {
    const olds = { name: "base", source: { kind: "path", path: "/a" }, other: 1 };
    const moved = { ...olds, source: { kind: "path", path: "/b" } };
    expect(await made(true).diff("id", olds, moved)).toEqual({
      changes: true,
      replaces: ["source"],
      deleteBeforeReplace: true,
    });
    // No deleteBeforeReplace key at all, as VirtualBox's base image always answered.
    expect(await made(false).diff("id", olds, moved)).toStrictEqual({
      changes: true,
      replaces: ["source"],
    });
    const same = { ...olds, source: { ...olds.source }, other: 2 };
    expect(await made(true).diff("id", olds, same)).toMatchObject({ changes: false, replaces: [] });
  });

  it("deletes through the function it was given, with the old outputs", async () => {
    const deleteFn = jest.fn();
    await made(true, deleteFn).delete("id", { name: "base", path: "/images/base" });
    expect(deleteFn).toHaveBeenCalledWith({ name: "base", path: "/images/base" });
  });
});

describe("VM diff rule", () => {
  it("replaces on a replace key, updates in place on another key, and removes old-first", () => {
    const olds = { ignitionHash: "a", headless: true };
    expect(vmDiff(olds, { ...olds, ignitionHash: "b" }, ["ignitionHash"], ["headless"])).toEqual({
      changes: true,
      replaces: ["ignitionHash"],
      deleteBeforeReplace: true,
    });
    expect(vmDiff(olds, { ...olds, headless: false }, ["ignitionHash"], ["headless"])).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });
});

describe("operations loader", () => {
  it("loads node or shared from the driver folder it was made with", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-impl-"));
    try {
      fs.writeFileSync(path.join(dir, "node.js"), "exports.which = 'node';");
      fs.writeFileSync(path.join(dir, "shared.js"), "exports.which = 'shared';");
      const impl = implLoader<{ which: string }, { which: string }>(dir);
      expect(impl("node").which).toBe("node");
      expect(impl("shared").which).toBe("shared");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
