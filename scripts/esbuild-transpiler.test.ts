// How Pulumi runs the program's TypeScript: Pulumi.yaml -> tsconfig.pulumi.json (no
// type check) -> ts-node with scripts/esbuild-transpiler.js, per file.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

const ROOT = path.join(__dirname, "..");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const transpiler = require("./esbuild-transpiler.js") as {
  create: () => {
    transpile(
      input: string,
      o: { fileName: string },
    ): { outputText: string; sourceMapText: string };
  };
};

/** Runs transpiled CommonJS as a module and returns its exports. */
function load(js: string): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  new Function("module", "exports", "require", js)(module, module.exports, require);
  return module.exports;
}

describe("the program's transpiler", () => {
  it("is the one Pulumi.yaml's tsconfig names, with the type check off", () => {
    const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    const tsconfigFile = project.runtime.options.tsconfig as string;
    const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, tsconfigFile), "utf8"));
    // Pulumi's run reads noCheck from this file itself (it does not follow `extends`).
    expect(tsconfig.compilerOptions.noCheck).toBe(true);
    expect(path.resolve(ROOT, tsconfig["ts-node"].transpiler)).toBe(
      path.join(__dirname, "esbuild-transpiler.js"),
    );
  });

  it("emits CommonJS with tsconfig.json's class-field and import semantics", () => {
    const { outputText, sourceMapText } = transpiler
      .create()
      .transpile(
        [
          'import * as path from "path";',
          "export enum Kind { A = 1, B }",
          "class Base { constructor() { (this as any).set = 'by base'; } }",
          "export class C extends Base { declare readonly set: string; readonly plain?: string; }",
          "export const base = path.basename('/a/b.ts');",
        ].join("\n"),
        { fileName: "/x/m.ts" },
      );
    const m = load(outputText) as {
      Kind: Record<string, number>;
      C: new () => object;
      base: string;
    };
    expect(m.Kind.B).toBe(2);
    expect(m.base).toBe("b.ts");
    // `declare` emits nothing; a plain field is defined (ES2022), as tsc does for this tsconfig.
    expect(new m.C()).toEqual({ set: "by base", plain: undefined });
    expect(JSON.parse(sourceMapText).sources).toEqual(["/x/m.ts"]);
  });

  it("refuses a syntax error, naming the file and line", () => {
    expect(() =>
      transpiler.create().transpile("const a = 1;\nconst = 2;\n", { fileName: "/x/bad.ts" }),
    ).toThrow(/\/x\/bad\.ts:2/);
  });

  it("is what ts-node uses under tsconfig.pulumi.json, as Pulumi's run registers it", () => {
    // Pulumi's cmd/run: transpileOnly from noCheck, project = the runtime's tsconfig.
    const script = `
      require("ts-node").register({ transpileOnly: true, project: ${JSON.stringify(path.join(ROOT, "tsconfig.pulumi.json"))} });
      const net = require(${JSON.stringify(path.join(ROOT, "node", "net.ts"))});
      const used = Object.keys(require.cache).some((f) => f.endsWith("scripts/esbuild-transpiler.js"));
      console.log(JSON.stringify({ used, exports: Object.keys(net).length > 0 }));
    `;
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("TS_NODE_")),
    );
    const out = execFileSync(process.execPath, ["-e", script], {
      cwd: ROOT,
      env,
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({ used: true, exports: true });
  });
});
