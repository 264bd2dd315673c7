// Plain fleet unit files an admin drops into units/ (fleetlab:unitsDir), as fleet's
// users wrote them for `fleetctl start`: read, then checked as the engine will check
// them and against the rest of the lab (names taken, MachineOf targets, metadata no
// machine has), so a bad file fails `pulumi preview` with its file, line, option
// and fix, before anything changes. The check is pure: texts in, units or problems out.
import * as fs from "fs";
import * as path from "path";
import {
  checkReplacesCycles,
  checkUnit,
  parseUnitFileLines,
  parseUnitName,
  parseXFleet,
  UnitError,
  XFLEET,
  XFLEET_KEYS,
  type DesiredState,
  type UnitLine,
  type XFleet,
} from "../fleet/unit";
import type { Problem } from "../labdata/problems";
import { nearest } from "../labdata/suggest";
import type { LabUnit } from "./unit";

export interface UnitFileText {
  /** As problems name it: the directory as configured, then the file name. */
  file: string;
  /** The file name, which is the unit's name. */
  name: string;
  text: string;
}

/** The stack's word on a file (fleetlab:units.<file>). */
export interface UnitFileSettings {
  instances?: string[];
  desiredState?: DesiredState;
}

export interface UnitFilesContext {
  /** The lab's own units: names a file may not take, and MachineOf targets. */
  labUnits: readonly string[];
  /** Every machine's metadata: a MachineMetadata none of them has is never placed. */
  machines: readonly { name: string; metadata: Record<string, string> }[];
  /** The key the settings come from, for messages (fleetlab:units). */
  settingsKey: string;
}

// Files beside the units that are not units: the lab's own typed units, their tests
// and notes.
const NOT_UNITS = /(^\.|\.(ts|md|snap)$)/;

/**
 * The unit files of `dir`, by name. `shown` is how problems name the directory. A
 * file that is neither a unit nor one of the lab's sources is a problem, so a typo
 * in a suffix (tftp.servce) is reported, not silently left out.
 */
export function readUnitFiles(
  dir: string,
  shown: string,
): { files: UnitFileText[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const files: UnitFileText[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (NOT_UNITS.test(name)) continue;
    const full = path.join(dir, name);
    const st = fs.statSync(full);
    if (st.isDirectory()) continue;
    const file = path.join(shown, name);
    try {
      parseUnitName(name);
    } catch (e) {
      problems.push({
        file,
        key: "file name",
        value: name,
        problem: (e as Error).message,
        fix: `rename it to <name>.service (or <name>@.service for a template), or move it out of ${shown}`,
      });
      continue;
    }
    if (!st.isFile()) {
      problems.push({
        file,
        key: "file name",
        value: name,
        problem: "is not a regular file",
        fix: `put unit files in ${shown} as regular files`,
      });
      continue;
    }
    files.push({ file, name, text: fs.readFileSync(full, "utf8") });
  }
  return { files, problems };
}

/** One file parsed, with the concrete units it stands for. */
interface Parsed {
  f: UnitFileText;
  lines: UnitLine[];
  /** The template itself (submitted inactive, as `fleetctl submit` did) and its instances. */
  units: { name: string; desiredState: DesiredState }[];
}

/** A problem at an option of a file: `line N [Section] Name`. */
function at(f: UnitFileText, l: UnitLine, problem: string, fix: string): Problem {
  const o = l.option;
  return {
    file: f.file,
    key: `line ${l.line} [${o.section}] ${o.name}`,
    value: o.value,
    problem,
    fix,
  };
}

function parseFile(f: UnitFileText, settings: UnitFileSettings | undefined): Parsed | Problem {
  let lines: UnitLine[];
  try {
    lines = parseUnitFileLines(f.text);
  } catch (e) {
    const m = /^line (\d+): (.*)$/s.exec((e as Error).message);
    return {
      file: f.file,
      key: m ? `line ${m[1]}` : "file",
      value: undefined,
      problem: m ? m[2] : (e as Error).message,
      fix: "write sections as [Name] and options as Key=Value, one a line, as systemd reads them",
    };
  }
  const n = parseUnitName(f.name);
  // fleet would store it and the node's systemd refuse it ("Service has no ExecStart=,
  // ExecStop=, or SuccessAction="): the unit would fail there, out of the admin's sight.
  const runs = lines.some(
    (l) =>
      l.option.section === "Service" && /^(ExecStart|ExecStop|SuccessAction)$/.test(l.option.name),
  );
  if (n.suffix === "service" && !runs)
    return {
      file: f.file,
      key: "[Service]",
      value: undefined,
      problem:
        lines.length === 0
          ? "the file has no options"
          : "has no ExecStart=, so systemd would refuse to start the unit",
      fix: "add a [Service] section with the command to run, e.g. ExecStart=/usr/bin/docker run --rm --name=<name> <image>",
    };
  const state = settings?.desiredState ?? "launched";
  const units = n.isTemplate
    ? [
        { name: f.name, desiredState: "inactive" as const },
        ...(settings?.instances ?? []).map((i) => ({
          name: `${n.prefix}@${i}.${n.suffix}`,
          desiredState: state,
        })),
      ]
    : [{ name: f.name, desiredState: state }];
  return { f, lines, units };
}

/**
 * [X-Fleet] as the engine reads it, each option on its own first, so a problem
 * names its line; then the whole section (combinations such as Global with
 * Replaces), named by the lines of the options the engine's message mentions.
 */
function checkXFleet(p: Parsed): { problems: Problem[]; xfleet: Map<string, XFleet> } {
  const problems: Problem[] = [];
  const xfleet = new Map<string, XFleet>();
  const xlines = p.lines.filter((l) => l.option.section === XFLEET);
  for (const l of xlines) {
    if (!(XFLEET_KEYS as readonly string[]).includes(l.option.name)) {
      const near = nearest(l.option.name, XFLEET_KEYS);
      problems.push(
        at(
          p.f,
          l,
          "is not an [X-Fleet] option, so fleet would refuse the unit",
          near
            ? `did you mean ${near}? (options: ${XFLEET_KEYS.join(", ")})`
            : `use one of ${XFLEET_KEYS.join(", ")}, or move it to [Unit] or [Service]`,
        ),
      );
      continue;
    }
    for (const u of p.units) {
      try {
        parseXFleet([l.option], u.name);
      } catch (e) {
        problems.push(at(p.f, l, (e as Error).message, xfleetFix(l.option.name)));
        break;
      }
    }
  }
  if (problems.length > 0) return { problems, xfleet };
  const options = p.lines.map((l) => l.option);
  for (const u of p.units) {
    try {
      xfleet.set(u.name, checkUnit(u.name, options, u.desiredState).xfleet);
    } catch (e) {
      const message = (e as Error).message;
      const named = xlines.filter((l) => message.includes(l.option.name));
      const where = named.length > 0 ? named : xlines;
      problems.push({
        file: p.f.file,
        key:
          where.length > 0
            ? `line ${where.map((l) => l.line).join(", ")} [X-Fleet] ${[...new Set(where.map((l) => l.option.name))].join(", ")}`
            : "unit",
        value: where.map((l) => `${l.option.name}=${l.option.value}`).join(" ") || undefined,
        problem: message,
        fix: "keep one of the options that fleet cannot combine (fleet/README.md lists the rules)",
      });
      break;
    }
  }
  return { problems, xfleet };
}

function xfleetFix(option: string): string {
  switch (option) {
    case "MachineMetadata":
      return "write key=value pairs, e.g. MachineMetadata=lan=true";
    case "Global":
      return "write Global=true or Global=false";
    case "MachineID":
      return "give a machine's ID (fleetctl list-machines --full), or use MachineMetadata";
    default:
      return `name units as <name>.service, e.g. ${option}=www.service`;
  }
}

/** The machines whose metadata satisfies `want` (every key, any of its values). */
function matching(ctx: UnitFilesContext, want: Record<string, string[]>) {
  return ctx.machines.filter((m) =>
    Object.entries(want).every(([k, vs]) => vs.includes(m.metadata[k])),
  );
}

/**
 * The lab's view of the files: MachineOf must name a unit the lab will have, a
 * MachineMetadata must match some machine, and no file may take a lab unit's name.
 */
function checkAgainstLab(
  p: Parsed,
  xfleet: Map<string, XFleet>,
  known: Set<string>,
  ctx: UnitFilesContext,
): Problem[] {
  const problems: Problem[] = [];
  if (ctx.labUnits.includes(p.f.name)) {
    problems.push({
      file: p.f.file,
      key: "file name",
      value: p.f.name,
      problem: "is the name of one of the lab's own service units (units/services.ts)",
      fix: "give the unit another name",
    });
  }
  for (const [unit, x] of xfleet) {
    // A template itself is never placed; its instances are checked.
    if (parseUnitName(unit).isTemplate) continue;
    for (const target of x.machineOf.filter((t) => !known.has(t))) {
      const near = nearest(target, [...known]);
      problems.push(
        at(
          p.f,
          p.lines.find((l) => l.option.name === "MachineOf") ?? p.lines[0],
          `${unit}: MachineOf=${target} names a unit the lab does not have, so ${unit} could never be placed`,
          near
            ? `did you mean ${near}?`
            : `add ${target} to the lab (a file, or an instance in ${ctx.settingsKey}), or name one of: ${[...known].join(", ")}`,
        ),
      );
    }
    const want = x.machineMetadata;
    if (Object.keys(want).length > 0 && ctx.machines.length > 0 && !matching(ctx, want).length) {
      const have = ctx.machines
        .map(
          (m) =>
            `${m.name} {${Object.entries(m.metadata)
              .map(([k, v]) => `${k}=${v}`)
              .join(", ")}}`,
        )
        .join("; ");
      problems.push(
        at(
          p.f,
          p.lines.find((l) => l.option.name === "MachineMetadata") ?? p.lines[0],
          `${unit}: no machine of the lab has this metadata, so it could never be placed`,
          `use metadata a machine has (${have}), or add it to a node's metadata in fleetlab:nodes`,
        ),
      );
    }
    // Instances share the file's lines: the first one with a problem says it.
    if (problems.length > 0) break;
  }
  return problems;
}

/**
 * A template's instance that is also a file of its own (tftp@1.service beside
 * tftp@.service with instances [1]): fleet would be given two units of one name.
 */
function twiceNamed(parsed: Parsed[], ctx: UnitFilesContext): Problem[] {
  const files = new Set(parsed.map((p) => p.f.name));
  return parsed.flatMap((p) =>
    p.units
      .filter((u) => u.name !== p.f.name && files.has(u.name))
      .map((u) => ({
        file: p.f.file,
        key: `${ctx.settingsKey}.${p.f.name}.instances`,
        value: u.name.slice(u.name.indexOf("@") + 1, u.name.lastIndexOf(".")),
        problem: `makes ${u.name}, which is also a file of its own: fleet would get two units of that name`,
        fix: `drop that instance from ${ctx.settingsKey}.${p.f.name}.instances, or remove the file ${u.name}`,
      })),
  );
}

/**
 * The units the files stand for, in file order (a template, then its instances),
 * each checked; or every problem found in any file and in the settings.
 */
export function checkUnitFiles(
  files: readonly UnitFileText[],
  settings: Readonly<Record<string, UnitFileSettings>>,
  ctx: UnitFilesContext,
): { units: LabUnit[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const names = files.map((f) => f.name);
  for (const name of Object.keys(settings).filter((s) => !names.includes(s))) {
    const near = nearest(name, names);
    problems.push({
      key: `${ctx.settingsKey}.${name}`,
      value: settings[name],
      problem: "names no unit file of the units directory",
      fix: near
        ? `did you mean ${near}?`
        : `add the file, or remove the entry (files: ${names.join(", ") || "none"})`,
    });
  }
  const each = files.map((f) => parseFile(f, settings[f.name]));
  const parsed = each.filter((p): p is Parsed => "units" in p);
  problems.push(...twiceNamed(parsed, ctx));
  const known = new Set([...ctx.labUnits, ...parsed.flatMap((p) => p.units.map((u) => u.name))]);
  const graph = new Map<string, XFleet>();
  // File by file, so the report reads in the directory's order.
  for (const p of each) {
    if (!("units" in p)) {
      problems.push(p);
      continue;
    }
    const x = checkXFleet(p);
    problems.push(...x.problems, ...checkAgainstLab(p, x.xfleet, known, ctx));
    for (const [u, xf] of x.xfleet) graph.set(u, xf);
  }
  try {
    checkReplacesCycles(graph);
  } catch (e) {
    if (!(e instanceof UnitError)) throw e;
    problems.push({
      key: "[X-Fleet] Replaces",
      value: undefined,
      problem: e.message,
      fix: "break the cycle: a unit may replace another only one way",
    });
  }
  if (problems.length > 0) return { units: [], problems };
  const units = parsed.flatMap((p) =>
    p.units.map((u) => ({ name: u.name, text: p.f.text, desiredState: u.desiredState })),
  );
  return { units, problems };
}

/** readUnitFiles, then checkUnitFiles: the directory's units, or every problem. */
export function loadUnitFiles(
  dir: string,
  shown: string,
  settings: Readonly<Record<string, UnitFileSettings>>,
  ctx: UnitFilesContext,
): { units: LabUnit[]; problems: Problem[] } {
  const read = readUnitFiles(dir, shown);
  const checked = checkUnitFiles(read.files, settings, ctx);
  return { units: checked.units, problems: [...read.problems, ...checked.problems] };
}
