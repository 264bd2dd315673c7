// @ts-check
// The transpiler ts-node uses when Pulumi runs the program (tsconfig.pulumi.json names
// it). TypeScript's own transpileModule took about 1.5 s of a 5 s no-change preview on
// these machines; esbuild does the same per-file work in tens of milliseconds. Per file,
// like ts-node: the module graph, and so what Pulumi's closure serialization captures,
// stays the same. Types are checked by `npm run typecheck` (tsc), not by `pulumi up`.
// Plain JavaScript: ts-node loads it before it can compile anything.
const esbuild = require("esbuild");

/** What `tsconfig.json` decides for emit, as esbuild reads it (isolatedModules holds). */
const TSCONFIG = {
  compilerOptions: { target: "ES2022", useDefineForClassFields: true, esModuleInterop: true },
};

/** ts-node's custom transpiler factory (its `transpiler` option). */
exports.create = function create() {
  return {
    /**
     * @param {string} input
     * @param {{ fileName: string }} options
     */
    transpile(input, { fileName }) {
      const out = esbuild.transformSync(input, {
        loader: fileName.endsWith(".tsx") ? "tsx" : "ts",
        format: "cjs",
        platform: "node",
        target: "node20",
        sourcemap: "external",
        sourcefile: fileName,
        tsconfigRaw: TSCONFIG,
      });
      return { outputText: out.code, sourceMapText: out.map };
    },
  };
};
