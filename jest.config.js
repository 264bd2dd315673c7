// One jest project per test layer (docs/design.md, "Where things are tested"). scripts/test.sh runs
// them in order: the cheap pure layers first, then the layers that start real daemons,
// one at a time, so two clusters never fight over the machine's two cores.
// Transpile only (tsconfig has isolatedModules); `npm test` type-checks the tree once with tsc.
const tsJest = ["ts-jest", { diagnostics: false }];
const layer = (displayName, testMatch, extra = {}) => ({
  displayName,
  testMatch,
  transform: { "^.+\\.ts$": tsJest },
  testEnvironment: "node",
  ...extra,
});

module.exports = {
  projects: [
    layer("unit", [
      "<rootDir>/{node,labdata,infra,fleet,units,containers,scripts,bench}/**/*.test.ts",
    ]),
    layer("validate", ["<rootDir>/tests/validate/**/*.test.ts"]),
    layer("fleet", ["<rootDir>/tests/fleet/**/*.test.ts"]),
    layer("pulumi", ["<rootDir>/tests/pulumi/**/*.test.ts"]),
    layer("services", ["<rootDir>/tests/services/**/*.test.ts"]),
    layer("e2e", ["<rootDir>/tests/e2e/**/*.test.ts"]),
    // The faculty stack end to end over qemu+ssh (two more VMs): `npm run test:faculty`.
    layer("faculty", ["<rootDir>/tests/faculty/**/*.test.ts"]),
    // Not in `npm test`'s layers: it needs fleet v1.0.0's fleetctl, a few minutes' Go
    // build (`npm run test:compat` builds it, then runs this layer).
    layer("compat", ["<rootDir>/tests/compat/**/*.test.ts"]),
  ],
};
