// scripts/toolchain.sh's choices, without building anything: which pulumi it uses,
// the environment it prints, and its error when the Go module proxy is unreachable.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.join(__dirname, "toolchain.sh");

function toolchain(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync("bash", [SCRIPT, ...args], { encoding: "utf8", env, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("scripts/toolchain.sh", () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-toolchain-"));
    // An empty cache: nothing built.
    env = { ...process.env, FLEETLAB_TOOLCHAIN_CACHE: path.join(tmp, "cache") };
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const cliVersion = () => JSON.parse(toolchain(["versions"], env).stdout).cli as string;

  /** A directory with a `pulumi` that reports `version`, and a language host beside it. */
  function installedPulumi(version: string): string {
    const dir = path.join(tmp, `installed-${version}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "pulumi"), `#!/bin/sh\necho v${version}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "pulumi-language-nodejs"), "#!/bin/sh\n", { mode: 0o755 });
    return dir;
  }

  test("a pulumi on PATH of the pinned version is used as it is", () => {
    const dir = installedPulumi(cliVersion());
    env.PATH = `${dir}:${env.PATH}`;
    expect(JSON.parse(toolchain(["versions"], env).stdout).bin).toBe(dir);
    const install = toolchain(["install"], env);
    expect(install.status).toBe(0);
    expect(install.stdout).toContain(`using pulumi v${cliVersion()} from ${dir}`);
  });

  test("a pulumi on PATH of another version is not used", () => {
    const dir = installedPulumi("3.1.0");
    env.PATH = `${dir}:${env.PATH}`;
    const bin = JSON.parse(toolchain(["versions"], env).stdout).bin;
    expect(bin).toBe(path.join(tmp, "cache", `v${cliVersion()}`, "bin"));
  });

  test("env prints exports that put the toolchain first on PATH and turn off downloads", () => {
    const out = toolchain(["env"], env).stdout;
    const r = spawnSync(
      "bash",
      [
        "-c",
        `${out}\necho "$PATH|$PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION|$PULUMI_SKIP_UPDATE_CHECK|$PULUMI_HOME"`,
      ],
      {
        encoding: "utf8",
        env,
      },
    );
    const [pathVar, noPlugins, noUpdate, home] = r.stdout.trim().split("|");
    expect(pathVar.split(":")[0]).toBe(path.join(tmp, "cache", `v${cliVersion()}`, "bin"));
    expect(pathVar.split(":")[1]).toMatch(/node_modules\/@pulumi\/pulumi$/);
    expect([noPlugins, noUpdate]).toEqual(["true", "true"]);
    expect(home.startsWith(path.join(tmp, "cache"))).toBe(true);
  });

  test("an unreachable Go module proxy fails with a message that says so", () => {
    env.GOPROXY = "http://127.0.0.1:9"; // loopback discard port: connection refused
    env.FLEETLAB_IGNORE_PATH_PULUMI = "1";
    const r = toolchain(["install"], env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("cannot fetch github.com/pulumi/pulumi/pkg/v3");
    expect(r.stderr).toContain("Go module proxy (http://127.0.0.1:9)");
    expect(fs.existsSync(path.join(tmp, "cache", `v${cliVersion()}`, "bin", "pulumi"))).toBe(false);
  });
});
