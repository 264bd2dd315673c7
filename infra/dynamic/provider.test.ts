// The provider kit called directly (no engine): what each rule does to a diff, what
// goes into state, and that the operations it is given are the ones run.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { diffByRules, dynamicProvider, implLoader, type DiffRules } from "./index";

interface Image {
  name: string;
  source: { kind: string; path?: string };
  tag?: string;
  secret: string;
  note: string;
}

const RULES: DiffRules<Image> = {
  name: "replace",
  source: "replace",
  tag: "update",
  secret: "ignore",
  note: "ignore",
};

// Tables the compiler must refuse: an input without a rule, and a rule for no input.
// @ts-expect-error only `name` has a rule
const missing: DiffRules<Image> = { name: "replace" };
// @ts-expect-error `size` is not an input
const extra: DiffRules<Image> = { ...RULES, size: "replace" };
void missing;
void extra;

const olds: Image = { name: "base", source: { kind: "path", path: "/a" }, secret: "k", note: "x" };

describe("diff rules", () => {
  it("replace on a replace input (deep), update on an update input, nothing on an ignored one", () => {
    const moved = { ...olds, source: { kind: "path", path: "/b" } };
    expect(diffByRules(RULES, olds, moved, true)).toEqual({
      changes: true,
      replaces: ["source"],
      deleteBeforeReplace: true,
    });
    expect(diffByRules(RULES, olds, { ...olds, tag: "v2" }, false)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const same = { ...olds, source: { ...olds.source }, secret: "other", note: "y" };
    expect(diffByRules(RULES, olds, same, true)).toMatchObject({ changes: false, replaces: [] });
  });
});

describe("dynamic provider", () => {
  const calls: string[] = [];
  const provider = dynamicProvider<Image, { path: string }>({
    rules: RULES,
    deleteBeforeReplace: true,
    idOf: (i, state) => `${i.name}@${state.path}`,
    create: async (i) => {
      calls.push(`create ${i.name}`);
      return { path: `/images/${i.name}` };
    },
    update: async (o, n) => void calls.push(`update ${o.tag} -> ${n.tag}`),
    delete: (o) => void calls.push(`delete ${o.path}`),
    notInState: ["secret"],
  });

  it("creates with its id, keeping the inputs (less notInState) and what create returned", async () => {
    expect(await provider.create!(olds)).toEqual({
      id: "base@/images/base",
      outs: { name: "base", source: olds.source, note: "x", path: "/images/base" },
    });
  });

  it("updates through its function, keeping what create made and taking the new inputs", async () => {
    const state = { ...olds, tag: "v1", path: "/images/base" };
    const news = { ...olds, note: "y" };
    expect(await provider.update!("id", state, news)).toEqual({
      outs: { name: "base", source: olds.source, note: "y", path: "/images/base" },
    });
  });

  it("deletes through its function, with the old state", async () => {
    await provider.delete!("id", { ...olds, path: "/images/base" });
    expect(calls).toEqual(["create base", "update v1 -> undefined", "delete /images/base"]);
  });
});

describe("dynamic provider with drift and recreate", () => {
  let gone: string | undefined;
  const provider = dynamicProvider<Image, { path: string }>({
    rules: RULES,
    deleteBeforeReplace: false,
    idOf: (i) => i.name,
    create: async (i) => ({ path: `/images/${i.name}` }),
    recreate: async (_o, n) => ({ path: `/images/${n.name}-again` }),
    drifted: async () => gone,
  });
  const state = { ...olds, path: "/images/base" };

  it("an object that drifted is an update in the diff; one that did not is no change", async () => {
    gone = undefined;
    expect((await provider.diff!("id", state, olds)).changes).toBe(false);
    gone = "the process died";
    expect(await provider.diff!("id", state, olds)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("a change of inputs is decided by the rules alone", async () => {
    gone = "the process died";
    expect((await provider.diff!("id", state, { ...olds, name: "other" })).replaces).toEqual([
      "name",
    ]);
  });

  it("recreate's state replaces what create made", async () => {
    expect(await provider.update!("id", state, olds)).toEqual({
      outs: { ...olds, path: "/images/base-again" },
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
