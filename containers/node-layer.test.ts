// The fleet agent and the sidekick both run Node.js. Their Dockerfiles start with the same
// instruction that installs it, so Docker's build cache gives both images the same layer,
// and a node pulls and unpacks Node.js once, not twice. This keeps the two lines the same.
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");

/** The Dockerfile's instructions, with continuation lines joined and comments dropped. */
function instructions(file: string): string[] {
  return fs
    .readFileSync(path.join(ROOT, file), "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim().replace(/\s+/g, " "))
    .filter((l) => l && !l.startsWith("#"));
}

test("fleet/Dockerfile and containers/sidekick/Dockerfile share the base and the Node.js layer", () => {
  const fleet = instructions("fleet/Dockerfile");
  const sidekick = instructions("containers/sidekick/Dockerfile");
  // fleet's first stage is named: build-image.sh tags it for the test image to bake.
  expect(fleet[0]).toBe("FROM debian:bookworm-slim AS node-runtime");
  expect(fleet[1]).toMatch(/^RUN .*apt-get install .*nodejs/);
  expect(fleet[2]).toBe("FROM node-runtime");
  expect(sidekick[0]).toBe("FROM debian:bookworm-slim");
  expect(sidekick[1]).toEqual(fleet[1]);
});
