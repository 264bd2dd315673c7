// The usage text and the errors fleetctl gives before it talks to an agent, pinned
// byte for byte: scripts and people read them, and the command table generates them.
import { runCli } from "./fleetctl";

const USAGE = `usage: fleetctl [--endpoint URL --cert F --key F --ca F | --socket PATH] COMMAND
  list-machines | list-units | list-unit-files
  submit [--replace] FILE...
  load|start [--replace] [--no-block] [--block-attempts N] NAME|FILE...
  stop|unload [--no-block] [--block-attempts N] NAME... | destroy NAME...
  cat NAME | status NAME | journal [--lines N] NAME (both answered by the unit's agent)`;

// a socket nobody listens on: every case below fails before the first request
const run = (...argv: string[]) => runCli(["--socket", "/nonexistent/fleet.sock", ...argv], {});

const message = async (p: Promise<void>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
};

test("no command prints the usage", async () => expect(await message(run())).toBe(USAGE));

test.each(["help", "constructor", "toString", "list"])("unknown command %j", async (cmd) =>
  expect(await message(run(cmd))).toBe(`unknown command ${cmd}\n${USAGE}`),
);

test.each(["--force", "--no-such=1"])("unknown flag %j", async (flag) =>
  expect(await message(run(flag, "list-units"))).toBe(`unknown flag ${flag}\n${USAGE}`),
);

test("a word with one dash is an argument, here an unknown command", async () =>
  expect(await message(run("-x"))).toBe(`unknown command -x\n${USAGE}`));

test("a value flag needs a value", async () => {
  expect(await message(run("journal", "x.service", "--lines"))).toBe("--lines needs a value");
  expect(await message(run("journal", "x.service", "-n"))).toBe("--lines needs a value");
});

test("--endpoint needs the TLS files", async () =>
  expect(await message(runCli(["--endpoint", "https://h:1", "list-units"], {}))).toBe(
    "--cert (or FLEETCTL_CERT_FILE) is required with --endpoint",
  ));

test.each(["status", "journal"])("%s needs a NAME", async (kind) =>
  expect(await message(run(kind))).toBe(`usage: fleetctl ${kind} NAME`),
);

test("counts must be positive integers", async () => {
  expect(await message(run("journal", "-n", "0", "x.service"))).toBe(
    "--lines must be a positive integer, got 0",
  );
  expect(await message(run("start", "--block-attempts=1.5", "x.service"))).toBe(
    "--block-attempts must be a positive integer, got 1.5",
  );
});

test("flags are accepted by any command, as before the table", async () =>
  // --lines on start parses, and start then fails on its own --block-attempts check
  expect(await message(run("start", "--lines", "3", "--block-attempts", "0"))).toBe(
    "--block-attempts must be a positive integer, got 0",
  ));
