// The sidekick image is rebuilt when its context hash changes, and its context is one
// bundle of everything the sidekick compiles from: so a change to any imported file,
// in whatever folder (the node contract, the lab-data format), changes the hash and
// can never ship a stale image.
import { execFileSync } from "child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { AGENT_ENV } from "../../node/env";

const ROOT = path.join(__dirname, "../..");
// No Docker needed: the base image's ID is the one input left out (a fixed stand-in).
const env = { ...process.env, FLEETLAB_DOCKER: "/bin/true", FLEETLAB_CACHE: tmpdir() };
const sh = (script: string, ...args: string[]) =>
  execFileSync("bash", ["-c", script, "sh", ...args], { cwd: ROOT, env, encoding: "utf8" }).trim();
const hashOf = (dir: string) => sh('. containers/lib.sh && context_hash_of "$1"', dir);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "sidekick-context-"));
  sh('bash containers/sidekick/context.sh "$1"', dir);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the context's bundle carries the sources the sidekick imports from other folders", () => {
  const bundle = readFileSync(path.join(dir, "lib/sidekick.js"), "utf8");
  // node/env.ts (the node contract) and labdata/www/site.ts (the lab-data format).
  expect(bundle).toContain(AGENT_ENV.endpoints);
  expect(bundle).toMatch(/function unpackSite\(/);
});

test("the context hash follows every byte of the bundle", () => {
  const before = hashOf(dir);
  expect(before).toMatch(/^[0-9a-f]{16}$/);
  expect(hashOf(dir)).toBe(before);
  appendFileSync(path.join(dir, "lib/sidekick.js"), "\n");
  expect(hashOf(dir)).not.toBe(before);
});
