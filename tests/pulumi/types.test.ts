// Every dynamic resource says what it is, and a lab brought up before they did keeps
// its resources: the fixture program (fixtures/typed-resources) is brought up by the
// fleetlab tree of OLD_TYPES_COMMIT, where they all registered as the untyped
// `pulumi-nodejs:dynamic:Resource`, then previewed and brought up by this tree. Real
// engine, a real etcd on 127.0.0.1 and the real /fleet/v1 API (unix socket for the
// units, TLS on 127.0.0.1 for the readiness wait).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Stack } from "@pulumi/pulumi/automation";
import { serveApi } from "../../fleet/api/server";
import { FleetService } from "../../fleet/api/service";
import { connect, Registry } from "../../fleet/registry/registry";
import { labSpecFromFile } from "../../infra/config";
import { generateLabTls } from "../../infra/pki";
import { repoRoot } from "../../scripts/lab/env";
import { serviceUnits } from "../../units/services";
import type * as Units from "../../units/services";
import { EtcdCluster } from "../fleet/etcd";
import {
  changeCounts,
  countByType,
  ENGINE_TIMEOUT_MS,
  stepRecorder,
  tempProject,
  TestProject,
} from "./harness";

/** The last commit whose CA, certificates, lab data, units and readiness were untyped. */
const OLD_TYPES_COMMIT = "2c89cc6289f9a7a4698b9b4278caba96d9dd0285";
const UNTYPED = "pulumi-nodejs:dynamic:Resource";
const FIXTURE = path.join(__dirname, "fixtures", "typed-resources");

/** What the fixture creates: CA, admin cert, the readiness wait, 3 data sets, the units. */
const TYPED = [
  "pulumi-nodejs:dynamic/pki:Ca",
  "pulumi-nodejs:dynamic/pki:Cert",
  "pulumi-nodejs:dynamic/cluster:FleetReady",
  "pulumi-nodejs:dynamic/services:LabData",
  "pulumi-nodejs:dynamic/services:FleetUnit",
];

/** The fleetlab tree of `commit` (what the program imports), extracted into `dir`. */
function extractTree(commit: string, dir: string): void {
  const tar = path.join(dir, "tree.tar");
  try {
    const paths = ["infra", "containers", "fleet", "units", "tsconfig.json", "package.json"];
    execFileSync("git", [
      "-C",
      repoRoot,
      "archive",
      "--format=tar",
      "-o",
      tar,
      commit,
      "--",
      ...paths,
    ]);
  } catch (e) {
    throw new Error(
      `git archive ${commit} in ${repoRoot} failed (${(e as Error).message.trim()}); this test needs the repository's history: fetch it (git fetch --unshallow)`,
    );
  }
  execFileSync("tar", ["-xf", tar, "-C", dir]);
  fs.rmSync(tar);
  fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"));
}

describe("resource types: a stack brought up with the untyped resources", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-types-"));
  const oldTree = path.join(tmp, "old");
  const etcd = new EtcdCluster();
  let api: { close(): Promise<void> } | undefined;
  let client: ReturnType<typeof connect> | undefined;
  let project: TestProject;
  let stack: Stack;

  const typesInState = (): string[] =>
    (JSON.parse(project.stateFile("test")).checkpoint.latest?.resources ?? [])
      .map((r: { type: string }) => r.type)
      .filter((t: string) => t.startsWith("pulumi-nodejs:dynamic"));

  beforeAll(async () => {
    fs.mkdirSync(oldTree);
    extractTree(OLD_TYPES_COMMIT, oldTree);
    fs.cpSync(path.join(repoRoot, "data"), path.join(tmp, "data"), { recursive: true });

    await etcd.start(1);
    // The API's TLS server holds a node certificate of a lab CA; the readiness wait
    // reaches it with that CA's admin certificate, as it reaches a lab's nodes.
    const tls = generateLabTls(labSpecFromFile("local"));
    const node = [...tls.nodes.values()][0];
    const pem = (name: string, text: string) => {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, text, { mode: 0o600 });
      return file;
    };
    const socket = path.join(tmp, "fleet.sock");
    client = connect({ endpoints: etcd.endpoints });
    const served = await serveApi(new FleetService(new Registry(client)), {
      socket,
      tcp: {
        host: "127.0.0.1",
        port: 0,
        certFile: pem("node.crt", node.cert),
        keyFile: pem("node.key", node.key),
        caFile: pem("ca.crt", tls.ca.certPem),
      },
    });
    api = served;

    project = tempProject(FIXTURE);
    stack = await project.open("test");
    await stack.setAllConfig({
      tree: { value: oldTree },
      dataDir: { value: path.join(tmp, "data") },
      etcdEndpoints: { value: etcd.endpoints.join(",") },
      fleetSocket: { value: socket },
      fleetUrl: { value: `https://127.0.0.1:${served.tcpPort}` },
      fleetCaPem: { value: tls.ca.certPem },
      fleetCertPem: { value: tls.admin.certPem },
      fleetKeyPem: { value: tls.admin.keyPem, secret: true },
    });
  }, ENGINE_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.destroy().catch(() => undefined);
    await stack?.workspace.removeStack("test", { force: true }).catch(() => undefined);
    project?.cleanup();
    await api?.close();
    client?.close();
    await etcd.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }, ENGINE_TIMEOUT_MS);

  let untypedCount = 0;

  /**
   * What this tree's service units change against the old tree's, both rendered with
   * their defaults: units added since (created) and units whose file changed (updated).
   * Those are changes of the units themselves, not of the resource types; everything
   * else must stay the same.
   */
  function unitChanges(): { created: number; updated: number; removed: number } {
    // The old tree's renderer, a path known only at run time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const old = (require(path.join(oldTree, "units", "services")) as typeof Units).serviceUnits();
    const now = serviceUnits();
    const oldText = new Map(old.map((u) => [u.name, u.text]));
    return {
      created: now.filter((u) => !oldText.has(u.name)).length,
      updated: now.filter((u) => oldText.has(u.name) && oldText.get(u.name) !== u.text).length,
      removed: old.filter((u) => !now.some((n) => n.name === u.name)).length,
    };
  }

  /** The change summary a preview of this tree must show: the unit changes, the rest same. */
  function expectedCounts(): Record<string, number> {
    const c = unitChanges();
    const counts: Record<string, number> = {
      // The stack, the LabServices component and every dynamic resource.
      same: untypedCount + 2 - c.updated - c.removed,
      update: c.updated,
      create: c.created,
      delete: c.removed,
    };
    return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
  }

  test(
    "the old tree brings every dynamic resource up as the untyped dynamic resource",
    async () => {
      const res = await stack.up();
      expect(res.summary.result).toBe("succeeded");
      const types = typesInState();
      untypedCount = types.length;
      // CA, admin cert, readiness, 3 data sets and at least one unit.
      expect(untypedCount).toBeGreaterThanOrEqual(7);
      expect(new Set(types)).toEqual(new Set([UNTYPED]));
    },
    ENGINE_TIMEOUT_MS,
  );

  test(
    "this tree previews no replacement: every resource is the same but for the unit files this tree changed",
    async () => {
      await stack.setConfig("tree", { value: repoRoot });
      const rec = stepRecorder();
      const res = await stack.preview({ onEvent: rec.onEvent });
      const counts = changeCounts(res);
      expect(counts.replace ?? 0).toBe(0);
      expect(counts).toEqual(expectedCounts());
      // Only fleet units change, and the preview names each resource by its type.
      const byType = (op: "same" | "update" | "create") =>
        Object.keys(countByType(rec.steps, op)).filter((t) => t.startsWith("pulumi-nodejs:"));
      for (const op of ["update", "create"] as const)
        expect(byType(op).filter((t) => t !== "pulumi-nodejs:dynamic/services:FleetUnit")).toEqual(
          [],
        );
      expect([...new Set([...byType("same"), ...byType("update")])].sort()).toEqual(
        [...TYPED].sort(),
      );
    },
    ENGINE_TIMEOUT_MS,
  );

  test(
    "up with this tree moves the resources to their types, and the next preview is no change",
    async () => {
      const want = expectedCounts();
      const up = await stack.up();
      expect(up.summary.result).toBe("succeeded");
      expect(up.summary.resourceChanges).toEqual(want);
      const types = typesInState();
      const c = unitChanges();
      expect(types).toHaveLength(untypedCount + c.created - c.removed);
      expect(new Set(types)).toEqual(new Set(TYPED));
      expect(changeCounts(await stack.preview())).toEqual({
        same: untypedCount + 2 + c.created - c.removed,
      });
    },
    ENGINE_TIMEOUT_MS,
  );
});
