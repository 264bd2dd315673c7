// A dynamic provider under the real engine: the SDK serializes the provider's closure,
// the engine starts `pulumi-resource-pulumi-nodejs` from PATH, and create, update and
// delete really happen to a file. Later hypervisor drivers stand on this.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Stack } from "@pulumi/pulumi/automation";
import { ENGINE_TIMEOUT_MS, stepRecorder, tempProject, TestProject } from "./harness";

const FIXTURE = path.join(__dirname, "fixtures", "dynamic-file");

describe("dynamic provider under the real engine", () => {
  let project: TestProject;
  let stack: Stack;
  let dataDir: string;
  let target: string;

  beforeAll(async () => {
    project = tempProject(FIXTURE);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-dynamic-"));
    target = path.join(dataDir, "note.txt");
    stack = await project.open("test");
    await stack.setConfig("path", { value: target });
    await stack.setConfig("content", { value: "first" });
  }, ENGINE_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.workspace.removeStack("test", { force: true }).catch(() => undefined);
    project?.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, ENGINE_TIMEOUT_MS);

  const journal = () => fs.readFileSync(`${target}.log`, "utf8").trim().split("\n");

  test(
    "up creates the file, from a provider process other than the program",
    async () => {
      const rec = stepRecorder();
      const res = await stack.up({ onEvent: rec.onEvent });
      expect(res.summary.result).toBe("succeeded");
      expect(res.summary.resourceChanges).toEqual({ create: 2 }); // stack + file
      expect(fs.readFileSync(target, "utf8")).toBe("first");
      expect(res.outputs.path.value).toBe(target);

      const [create] = journal();
      expect(create).toMatch(/^create pid=\d+ /);
      // The provider ran in the SDK's dynamic-provider entry point, not in the program.
      expect(create).toContain("dynamic-provider");
      const providerPid = Number(/pid=(\d+)/.exec(create)![1]);
      expect(providerPid).not.toBe(res.outputs.programPid.value);
    },
    ENGINE_TIMEOUT_MS,
  );

  test(
    "a content change updates the same file in place",
    async () => {
      await stack.setConfig("content", { value: "second" });
      const rec = stepRecorder();
      const res = await stack.up({ onEvent: rec.onEvent });
      expect(res.summary.resourceChanges).toEqual({ same: 1, update: 1 });
      expect(rec.steps.filter((s) => s.op === "update").map((s) => s.type)).toEqual([
        "pulumi-nodejs:dynamic:Resource",
      ]);
      expect(fs.readFileSync(target, "utf8")).toBe("second");
      expect(journal().map((l) => l.split(" ")[0])).toEqual(["create", "update"]);
    },
    ENGINE_TIMEOUT_MS,
  );

  test(
    "preview after up shows no changes",
    async () => {
      const res = await stack.preview();
      expect(res.changeSummary).toEqual({ same: 2 });
    },
    ENGINE_TIMEOUT_MS,
  );

  test(
    "destroy deletes the file and leaves an empty stack",
    async () => {
      const res = await stack.destroy();
      expect(res.summary.resourceChanges).toEqual({ delete: 2 });
      expect(fs.existsSync(target)).toBe(false);
      expect(journal().map((l) => l.split(" ")[0])).toEqual(["create", "update", "delete"]);
      const state = await stack.exportStack();
      expect(state.deployment.resources ?? []).toEqual([]);
    },
    ENGINE_TIMEOUT_MS,
  );
});
