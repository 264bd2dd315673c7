// fleetctl-style CLI over the /fleet/v1 client. Output columns follow fleetctl's
// defaults (list-machines: MACHINE IP METADATA; list-units: UNIT MACHINE ACTIVE SUB;
// list-unit-files: UNIT HASH DSTATE STATE TARGET).
import { spawnSync } from "child_process";
import { sshArgs } from "./ssh";
import { readFileSync } from "fs";
import { basename } from "path";
import { ClientTarget, FleetClient } from "../api/client";
import { DEFAULT_SOCKET } from "../agent/config";
import { parseUnitFile, serializeUnit, unitHash } from "../unit";
import { DesiredState } from "../unit/unit";

const USAGE = `usage: fleetctl [--endpoint URL --cert F --key F --ca F | --socket PATH] COMMAND
  list-machines | list-units | list-unit-files
  submit FILE... | load NAME|FILE... | start NAME|FILE... | stop NAME... | unload NAME... | destroy NAME...
  cat NAME | status NAME (over ssh to the unit's machine)`;

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

const short = (id?: string) => (id ? id.slice(0, 8) : "-");

function parseArgs(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { target: ClientTarget; args: string[] } {
  const flags: Record<string, string> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(endpoint|cert|key|ca|socket)$/.exec(argv[i]);
    if (m) flags[m[1]] = argv[++i];
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
    };
  }
  return { target: { socket: flags.socket ?? env.FLEETCTL_SOCKET ?? DEFAULT_SOCKET }, args };
}

export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void = console.log,
): Promise<void> {
  const { target, args } = parseArgs(argv, env);
  const [cmd, ...names] = args;
  const c = new FleetClient(target);
  // Files (paths containing "/" or existing files) are submitted first, as fleetctl did.
  const submit = async (arg: string): Promise<string> => {
    let text: string;
    try {
      text = readFileSync(arg, "utf8");
    } catch {
      return arg; // a unit name, not a file
    }
    const name = basename(arg);
    const existing = await c.getUnit(name);
    if (!existing) await c.putUnit(name, "inactive", parseUnitFile(text));
    return name;
  };
  const setState = async (state: DesiredState) => {
    for (const n of names) {
      const name = await submit(n);
      await c.putUnit(name, state);
      out(
        `Unit ${name} ${state === "launched" ? "launched" : state === "loaded" ? "loaded" : "inactive"}`,
      );
    }
  };
  switch (cmd) {
    case "list-machines": {
      const ms = await c.listMachines();
      const meta = (m: Record<string, string>) =>
        Object.entries(m)
          .map(([k, v]) => `${k}=${v}`)
          .join(",") || "-";
      return out(
        table(
          ["MACHINE", "IP", "METADATA"],
          ms.map((m) => [short(m.id) + "...", m.primaryIP, meta(m.metadata)]),
        ),
      );
    }
    case "list-units": {
      const [states, ms] = await Promise.all([c.listStates(), c.listMachines()]);
      const ip = new Map(ms.map((m) => [m.id, m.primaryIP]));
      const rows = states.map((s) => [
        s.name,
        `${short(s.machineID)}.../${ip.get(s.machineID) ?? "-"}`,
        s.systemdActiveState,
        s.systemdSubState,
      ]);
      return out(table(["UNIT", "MACHINE", "ACTIVE", "SUB"], rows));
    }
    case "list-unit-files": {
      const us = await c.listUnits();
      const rows = us.map((u) => [
        u.name,
        unitHash(u.options).slice(0, 7),
        u.desiredState,
        u.currentState,
        u.machineID ? short(u.machineID) + "..." : u.reason ? `- (${u.reason})` : "-",
      ]);
      return out(table(["UNIT", "HASH", "DSTATE", "STATE", "TARGET"], rows));
    }
    case "submit":
      for (const n of names) out(`Unit ${await submit(n)} submitted`);
      return;
    case "load":
      return setState("loaded");
    case "start":
      return setState("launched");
    case "stop":
      return setState("loaded");
    case "unload":
      return setState("inactive");
    case "destroy":
      for (const n of names) {
        await c.deleteUnit(n);
        out(`Destroyed ${n}`);
      }
      return;
    case "cat": {
      const u = await c.getUnit(names[0] ?? "");
      if (!u) throw new Error(`unit ${names[0]} not found`);
      return out(serializeUnit(u.options).trimEnd());
    }
    case "status": {
      const u = await c.getUnit(names[0] ?? "");
      if (!u?.machineID) throw new Error(`unit ${names[0]} is not running on a machine`);
      const m = (await c.listMachines()).find((x) => x.id === u.machineID);
      if (!m) throw new Error(`machine ${u.machineID} of ${u.name} is gone`);
      const user = env.FLEETCTL_SSH_USER ?? "core";
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(user))
        throw new Error(`FLEETCTL_SSH_USER=${JSON.stringify(user)} is not a login name`);
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(m.primaryIP))
        throw new Error(
          `machine ${m.id} reports ${JSON.stringify(m.primaryIP)}, not an IPv4 address`,
        );
      const r = spawnSync(
        "ssh",
        sshArgs({ host: `${user}@${m.primaryIP}` }, ["systemctl", "status", "-l", "--", u.name]),
        { stdio: "inherit" },
      );
      if (r.status !== 0 && r.status !== 3)
        throw new Error(`ssh systemctl status exited ${r.status}`);
      return;
    }
    default:
      throw new Error(cmd ? `unknown command ${cmd}\n${USAGE}` : USAGE);
  }
}
