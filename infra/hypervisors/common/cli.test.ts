// The runner both drivers' CLI wrappers use, run against node itself as the tool: the
// argv reaches the binary as given (no shell), failures carry what the tool printed,
// and tryRun tells a "no" from a refused argument.
import { checkArgv, cli, CliError, CliTool, Grammar, orUndefined } from "./cli";

/** node as the tool: `-e <script>` runs the script with the rest of the argv. */
const tool = (over: Partial<CliTool> = {}): CliTool => ({
  bin: process.execPath,
  argv: (args) => ["-e", ...args],
  cannotRun: (args, why) => `tool ${args[0]} could not run: ${why}`,
  failed: (args, err) => `tool ${args[0]} failed: ${err}`,
  ...over,
});
const ECHO = "process.stdout.write(JSON.stringify(process.argv.slice(1)))";
const FAIL = "process.stderr.write('no such thing\\n'); process.exit(3)";

describe("cli (one runner for virsh and VBoxManage)", () => {
  it("hands the argv to the binary as an array: no shell reads it", () => {
    const words = ["a b", "$(id)", "`id`", "; rm -rf x", "'q'"];
    expect(JSON.parse(cli(tool()).run([ECHO, ...words]))).toEqual(words);
  });

  it("passes stdin and the caller's environment", () => {
    process.env.FLEETLAB_CLI_TEST = "seen";
    try {
      const script =
        "process.stdin.on('data', (d) => process.stdout.write(d + process.env.FLEETLAB_CLI_TEST))";
      expect(cli(tool()).run([script], { input: "in-" })).toBe("in-seen");
    } finally {
      delete process.env.FLEETLAB_CLI_TEST;
    }
  });

  it("throws a CliError with the argv, the tool's message and what it printed", () => {
    let err: unknown;
    try {
      cli(tool()).run([FAIL]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({
      args: ["-e", FAIL],
      stderr: "no such thing",
      message: `tool ${FAIL} failed: no such thing`,
    });
  });

  it("names what to install when the binary does not exist", () => {
    expect(() => cli(tool({ bin: "/nonexistent/tool" })).run([ECHO])).toThrow(
      new CliError([], "", `tool ${ECHO} could not run: spawnSync /nonexistent/tool ENOENT`),
    );
  });

  it("stops a call that outlives its bound and says so, not that the tool is missing", () => {
    expect(() => cli(tool()).run(["setTimeout(() => {}, 10000)"], { timeoutMs: 300 })).toThrow(
      "tool setTimeout(() => {}, 10000) failed: no answer within 300 ms (stopped)",
    );
  });

  it("tryRun: undefined for a failed call, but a refused argument still throws", () => {
    const guarded = cli(
      tool({
        argv: (args) => {
          if (args.some((a) => a.startsWith("-"))) throw new Error("refusing");
          return ["-e", ...args];
        },
      }),
    );
    expect(guarded.tryRun([FAIL])).toBeUndefined();
    expect(guarded.tryRun([ECHO])).toBe("[]");
    expect(() => guarded.tryRun([ECHO, "-x"])).toThrow("refusing");
  });
});

describe("checkArgv (both tools' guard)", () => {
  const grammar: Grammar = {
    commands: { get: 1, copy: 2 },
    options: { "--all": 0, "--pool": 1, "--pair": 2 },
  };

  it("splits a call into its values and options, in order", () => {
    expect(checkArgv("t", grammar, ["copy", "--pool", "p", "a", "--all", "b"])).toEqual({
      cmd: "copy",
      values: ["a", "b"],
      options: ["--pool", "p", "--all"],
    });
    expect(checkArgv("t", grammar, ["get", "x", "--pair", "1", "2"]).options).toEqual([
      "--pair",
      "1",
      "2",
    ]);
  });

  it.each([
    [["put", "x"], `t put: refusing "put": not a t command the driver uses`],
    [["toString", "x"], `t toString: refusing "toString": not a t command the driver uses`],
    [["get", "-x"], `t get: refusing "-x": a value starting with '-' would be read as an option`],
    [["get", "x", "--pool"], `t get: refusing "": not a value for --pool`],
    [["get", "x", "--pair", "1", "-2"], `t get: refusing "-2": not a value for --pair`],
    [["get", "--all"], `t get: refusing "": get takes 1 value(s), got 0`],
    [["get", "x", "y"], `t get: refusing "x y": get takes 1 value(s), got 2`],
  ])("refuses %j", (args, message) =>
    expect(() => checkArgv("t", grammar, args)).toThrow(new Error(message)),
  );
});

describe("orUndefined (tryRun's catch)", () => {
  it("passes the arguments through and returns what the call returns", () => {
    const run = jest.fn((args: string[]) => `ran ${args.join(" ")}`);
    expect(orUndefined(run)(["dominfo", "vm"])).toBe("ran dominfo vm");
    expect(run).toHaveBeenCalledWith(["dominfo", "vm"]);
  });

  it("keeps an empty answer (a command that printed nothing) apart from a failure", () => {
    expect(orUndefined(() => "")()).toBe("");
    expect(
      orUndefined((): string => {
        throw new Error("x");
      })(),
    ).toBeUndefined();
  });
});
