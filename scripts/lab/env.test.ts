import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensurePassphrase, labDefaults, toolchainEnv, ToolchainMissingError } from "./env";

describe("lab defaults (no account)", () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-labenv-"));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test("a file:// backend in the repo and a passphrase file made once, mode 0600", () => {
    const first = labDefaults(root, {});
    expect(first.PULUMI_BACKEND_URL).toBe(`file://${path.join(root, ".pulumi-state")}`);
    expect(fs.statSync(path.join(root, ".pulumi-state")).isDirectory()).toBe(true);
    const file = first.PULUMI_CONFIG_PASSPHRASE_FILE;
    expect(file).toBe(path.join(root, ".fleetlab", "passphrase"));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const secret = fs.readFileSync(file, "utf8");
    expect(secret.trim().length).toBeGreaterThanOrEqual(40);

    labDefaults(root, {});
    expect(fs.readFileSync(file, "utf8")).toBe(secret);
  });

  test("the user's own backend and passphrase are kept", () => {
    expect(
      labDefaults(root, { PULUMI_BACKEND_URL: "s3://x", PULUMI_CONFIG_PASSPHRASE: "p" }),
    ).toEqual({});
    expect(labDefaults(root, { PULUMI_CONFIG_PASSPHRASE_FILE: "/tmp/p" })).not.toHaveProperty(
      "PULUMI_CONFIG_PASSPHRASE_FILE",
    );
    expect(fs.existsSync(path.join(root, ".fleetlab", "passphrase"))).toBe(false);
  });

  test("ensurePassphrase never overwrites an existing passphrase", () => {
    const file = path.join(root, "p");
    fs.writeFileSync(file, "kept\n");
    ensurePassphrase(file);
    expect(fs.readFileSync(file, "utf8")).toBe("kept\n");
  });
});

describe("toolchain check", () => {
  test("a missing toolchain fails with the command that fixes it", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-notoolchain-"));
    try {
      const env = {
        ...process.env,
        FLEETLAB_TOOLCHAIN_CACHE: empty,
        FLEETLAB_IGNORE_PATH_PULUMI: "1",
      };
      expect(() => toolchainEnv(undefined, env)).toThrow(ToolchainMissingError);
      expect(() => toolchainEnv(undefined, env)).toThrow(/bash scripts\/setup\.sh/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
