// fleetctl-style CLI over the /fleet/v1 client. Output columns follow fleetctl's
// defaults (list-machines: MACHINE IP METADATA; list-units: UNIT MACHINE ACTIVE SUB;
// list-unit-files: UNIT HASH DSTATE STATE TARGET).
import { readFileSync } from "fs";
import { basename } from "path";
import { ClientTarget, FleetClient } from "../api/client";
import { DEFAULT_SOCKET } from "../agent/config";
import { parseUnitFile, serializeUnit, unitHash } from "../unit";
import { DesiredState } from "../unit/unit";

/** How often a blocking load/start/stop/unload looks again (fleetctl: 1 s). */
export const BLOCK_POLL_MS = 500;
/** Default bound of a blocking command's attempts (fleetctl's 0 waited forever). */
export const DEFAULT_BLOCK_ATTEMPTS = 60;

/** Render rows as fleetctl does: tab-separated, padded columns. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i])))
        .join("\t")
        .trimEnd(),
    )
    .join("\n");
}

/** A machine ID as fleetctl shows it: its first 8 characters, or "-" for none. */
export const short = (id?: string) => (id ? id.slice(0, 8) : "-");

/** Machine metadata as list-machines shows it: k=v,k=v, or "-" for none. */
export const metadataText = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${v}`)
    .join(",") || "-";

/**
 * Every flag, with the placeholder of its value (undefined: a boolean flag). Any
 * command accepts any of them, as fleetctl here always has; a command's `flags`
 * say only what its usage shows.
 */
const FLAGS = {
  endpoint: "URL",
  cert: "F",
  key: "F",
  ca: "F",
  socket: "PATH",
  replace: undefined,
  "no-block": undefined,
  "block-attempts": "N",
  lines: "N",
} satisfies Record<string, string | undefined>;
type Flag = keyof typeof FLAGS;
const isFlag = (name: string): name is Flag => Object.hasOwn(FLAGS, name);

/** What a command's handler runs with. */
interface Ctx {
  c: FleetClient;
  names: string[];
  flags: Record<string, string>;
  out: (s: string) => void;
}

interface Command {
  verb: string;
  /** The flags its usage shows, in that order. */
  flags: Flag[];
  /** Its operands as the usage shows them; "" for none. */
  operands: string;
  /** Said at the end of its usage line. */
  note?: string;
  run: (x: Ctx) => Promise<void>;
}

function parseArgs(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { target: ClientTarget; args: string[]; flags: Record<string, string> } {
  const flags: Record<string, string> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]);
    const name = argv[i] === "-n" ? "lines" : m?.[1];
    if (name && isFlag(name) && FLAGS[name] !== undefined) {
      const v = m?.[2] ?? argv[++i];
      if (v === undefined) throw new Error(`--${name} needs a value`);
      flags[name] = v;
    } else if (name && isFlag(name)) flags[name] = "true";
    else if (name) throw new Error(`unknown flag ${argv[i]}\n${USAGE}`);
    else args.push(argv[i]);
  }
  const endpoint = flags.endpoint ?? env.FLEETCTL_ENDPOINT;
  if (endpoint) {
    const need = (k: string, e: string) =>
      flags[k] ??
      env[e] ??
      (() => {
        throw new Error(`--${k} (or ${e}) is required with --endpoint`);
      })();
    return {
      target: {
        url: endpoint,
        certFile: need("cert", "FLEETCTL_CERT_FILE"),
        keyFile: need("key", "FLEETCTL_KEY_FILE"),
        caFile: need("ca", "FLEETCTL_CA_FILE"),
      },
      args,
      flags,
    };
  }
  return {
    target: { socket: flags.socket ?? env.FLEETCTL_SOCKET ?? DEFAULT_SOCKET },
    args,
    flags,
  };
}

function positiveInt(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${flag} must be a positive integer, got ${v}`);
  return n;
}

/** Has the unit reached `state` (the check a blocking fleetctl command repeats)? */
async function reached(c: FleetClient, name: string, state: DesiredState): Promise<boolean> {
  const u = await c.getUnit(name);
  if (!u) return false;
  if (state === "inactive") return u.currentState === "inactive";
  if (u.currentState !== state) return false;
  // only states of the current contents count: after a --replace the old version's
  // state may still be reported until its agent restarts the unit
  const hash = unitHash(u.options);
  const states = (await c.listStates({ unitName: name })).filter((s) => s.hash === hash);
  return state === "launched"
    ? states.some((s) => s.systemdActiveState === "active")
    : states.length > 0 && states.every((s) => s.systemdActiveState !== "active");
}

// Files (paths that can be read) are submitted first, as fleetctl did; with
// --replace a file that differs from the registry's unit replaces it.
async function submit({ c, flags, out }: Ctx, arg: string): Promise<string> {
  let text: string;
  try {
    text = readFileSync(arg, "utf8");
  } catch {
    return arg; // a unit name, not a file
  }
  const name = basename(arg);
  const options = parseUnitFile(text);
  const existing = await c.getUnit(name);
  if (!existing) await c.putUnit(name, undefined, options);
  else if (unitHash(existing.options) !== unitHash(options)) {
    if (flags.replace !== "true")
      throw new Error(
        `unit ${name} in the registry differs from ${arg}: use --replace to replace it`,
      );
    await c.putUnit(name, undefined, options);
    out(`Unit ${name} replaced`);
  }
  return name;
}

async function setState(x: Ctx, state: DesiredState): Promise<void> {
  const { c, names, flags, out } = x;
  const attempts = positiveInt("block-attempts", flags["block-attempts"], DEFAULT_BLOCK_ATTEMPTS);
  const done: string[] = [];
  for (const n of names) {
    const name = await submit(x, n);
    await c.putUnit(name, state);
    done.push(name);
  }
  for (const name of done) {
    let ok = flags["no-block"] === "true";
    for (let i = 0; !ok && i < attempts; i++) {
      ok = await reached(c, name, state);
      if (!ok) await new Promise((r) => setTimeout(r, BLOCK_POLL_MS));
    }
    if (!ok) throw new Error(`unit ${name} did not become ${state} within ${attempts} attempts`);
    const where = (await c.getUnit(name))?.machineID;
    out(`Unit ${name} ${state}${where && state !== "inactive" ? ` on ${short(where)}...` : ""}`);
  }
}

async function inspect({ c, names, flags, out }: Ctx, kind: "status" | "journal"): Promise<void> {
  if (!names[0]) throw new Error(`usage: fleetctl ${kind} NAME`);
  const lines = kind === "journal" ? positiveInt("lines", flags.lines, 10) : undefined;
  const r = await c.inspectUnit(names[0], kind, { lines });
  out(r.lines.join("\n"));
}

const BLOCKING: Flag[] = ["no-block", "block-attempts"];

/** The commands, one row per verb, grouped by the usage line that shows them. */
const COMMANDS: Command[][] = [
  [
    {
      verb: "list-machines",
      flags: [],
      operands: "",
      run: async ({ c, out }) => {
        const ms = await c.listMachines();
        out(
          table(
            ["MACHINE", "IP", "METADATA"],
            ms.map((m) => [short(m.id) + "...", m.primaryIP, metadataText(m.metadata)]),
          ),
        );
      },
    },
    {
      verb: "list-units",
      flags: [],
      operands: "",
      run: async ({ c, out }) => {
        const [states, ms] = await Promise.all([c.listStates(), c.listMachines()]);
        const ip = new Map(ms.map((m) => [m.id, m.primaryIP]));
        const rows = states.map((s) => [
          s.name,
          `${short(s.machineID)}.../${ip.get(s.machineID) ?? "-"}`,
          s.systemdActiveState,
          s.systemdSubState,
        ]);
        out(table(["UNIT", "MACHINE", "ACTIVE", "SUB"], rows));
      },
    },
    {
      verb: "list-unit-files",
      flags: [],
      operands: "",
      run: async ({ c, out }) => {
        const us = await c.listUnits();
        const rows = us.map((u) => [
          u.name,
          unitHash(u.options).slice(0, 7),
          u.desiredState,
          u.currentState,
          u.machineID ? short(u.machineID) + "..." : u.reason ? `- (${u.reason})` : "-",
        ]);
        out(table(["UNIT", "HASH", "DSTATE", "STATE", "TARGET"], rows));
      },
    },
  ],
  [
    {
      verb: "submit",
      flags: ["replace"],
      operands: "FILE...",
      run: async (x) => {
        for (const n of x.names) x.out(`Unit ${await submit(x, n)} submitted`);
      },
    },
  ],
  [
    {
      verb: "load",
      flags: ["replace", ...BLOCKING],
      operands: "NAME|FILE...",
      run: (x) => setState(x, "loaded"),
    },
    {
      verb: "start",
      flags: ["replace", ...BLOCKING],
      operands: "NAME|FILE...",
      run: (x) => setState(x, "launched"),
    },
  ],
  [
    // stop and unload submit a FILE too (setState does), though the usage says NAME
    { verb: "stop", flags: BLOCKING, operands: "NAME...", run: (x) => setState(x, "loaded") },
    { verb: "unload", flags: BLOCKING, operands: "NAME...", run: (x) => setState(x, "inactive") },
    {
      verb: "destroy",
      flags: [],
      operands: "NAME...",
      run: async ({ c, names, out }) => {
        for (const n of names) {
          await c.deleteUnit(n);
          out(`Destroyed ${n}`);
        }
      },
    },
  ],
  [
    {
      verb: "cat",
      flags: [],
      operands: "NAME",
      run: async ({ c, names, out }) => {
        const u = await c.getUnit(names[0] ?? "");
        if (!u) throw new Error(`unit ${names[0]} not found`);
        out(serializeUnit(u.options).trimEnd());
      },
    },
    { verb: "status", flags: [], operands: "NAME", run: (x) => inspect(x, "status") },
    {
      verb: "journal",
      flags: ["lines"],
      operands: "NAME",
      note: "(both answered by the unit's agent)",
      run: (x) => inspect(x, "journal"),
    },
  ],
];

// A Map, not an object: a verb such as "constructor" must stay unknown.
const VERBS = new Map(COMMANDS.flat().map((cmd) => [cmd.verb, cmd]));

const flagWord = (f: Flag) => (FLAGS[f] === undefined ? `--${f}` : `--${f} ${FLAGS[f]}`);

/**
 * One usage line. Verbs taking the same flags and operands share an entry
 * ("load|start [--replace] ..."), so a flag list is not repeated; verbs without
 * flags are listed one by one ("cat NAME | status NAME").
 */
function usageLine(cmds: Command[]): string {
  const entries: { verbs: string[]; synopsis: string }[] = [];
  for (const cmd of cmds) {
    const synopsis = [...cmd.flags.map((f) => `[${flagWord(f)}]`), cmd.operands]
      .filter(Boolean)
      .join(" ");
    const last = entries.at(-1);
    if (cmd.flags.length > 0 && last?.synopsis === synopsis) last.verbs.push(cmd.verb);
    else entries.push({ verbs: [cmd.verb], synopsis });
  }
  const notes = cmds.flatMap((cmd) => cmd.note ?? []);
  return [
    entries.map((e) => [e.verbs.join("|"), e.synopsis].filter(Boolean).join(" ")).join(" | "),
    ...notes,
  ].join(" ");
}

// the flags any command takes: an agent's https API (with TLS files) or its socket
const TLS: Flag[] = ["endpoint", "cert", "key", "ca"];
const USAGE = [
  `usage: fleetctl [${TLS.map(flagWord).join(" ")} | ${flagWord("socket")}] COMMAND`,
  ...COMMANDS.map((cmds) => `  ${usageLine(cmds)}`),
].join("\n");

export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void = console.log,
): Promise<void> {
  const { target, args, flags } = parseArgs(argv, env);
  const [cmd, ...names] = args;
  const c = new FleetClient(target);
  const command = VERBS.get(cmd ?? "");
  if (!command) throw new Error(cmd ? `unknown command ${cmd}\n${USAGE}` : USAGE);
  return command.run({ c, names, flags, out });
}
