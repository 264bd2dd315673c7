import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { mirrorProject } from "./workspace";

describe("mirrorProject", () => {
  let root: string;
  let repo: string;
  let work: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-mirror-"));
    repo = path.join(root, "repo");
    work = path.join(root, "work");
    fs.mkdirSync(path.join(repo, "infra"), { recursive: true });
    fs.mkdirSync(path.join(repo, ".pulumi-state"));
    fs.writeFileSync(path.join(repo, "Pulumi.yaml"), "name: p\nruntime: nodejs\n");
    fs.writeFileSync(path.join(repo, "Pulumi.dev.yaml"), "config:\n  p:a: { x: 1 }\n");
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test("links the project, copies the stack file, leaves state and secrets out", () => {
    mirrorProject(repo, work, ["dev"]);
    expect(fs.readlinkSync(path.join(work, "infra"))).toBe(path.join(repo, "infra"));
    expect(fs.lstatSync(path.join(work, "Pulumi.dev.yaml")).isSymbolicLink()).toBe(false);
    expect(fs.existsSync(path.join(work, ".pulumi-state"))).toBe(false);
    expect(fs.existsSync(path.join(work, "node_modules"))).toBe(true);
  });

  test("keeps the salt Pulumi added to the copy and takes config edits from the repo", () => {
    mirrorProject(repo, work, ["dev"]);
    const copy = path.join(work, "Pulumi.dev.yaml");
    fs.writeFileSync(copy, fs.readFileSync(copy, "utf8") + "encryptionsalt: v1:abc\n");
    fs.writeFileSync(path.join(repo, "Pulumi.dev.yaml"), "config:\n  p:a: { x: 2 }\n");
    mirrorProject(repo, work, ["dev"]);
    const doc = YAML.parse(fs.readFileSync(copy, "utf8"));
    expect(doc).toEqual({ config: { "p:a": { x: 2 } }, encryptionsalt: "v1:abc" });
    expect(fs.readFileSync(path.join(repo, "Pulumi.dev.yaml"), "utf8")).not.toContain("salt");
  });

  test("an unknown stack names the missing file", () => {
    expect(() => mirrorProject(repo, work, ["nope"])).toThrow(/Pulumi\.nope\.yaml does not exist/);
  });
});
