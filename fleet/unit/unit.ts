// Unit files as fleet saw them: an ordered list of {section, name, value} options.
// fleet's API exchanges units in exactly this shape, so it is also our storage form;
// the text form is produced only when an agent writes the file for systemd.
import { createHash } from "crypto";

export interface UnitOption {
  section: string;
  name: string;
  value: string;
}

export type DesiredState = "inactive" | "loaded" | "launched";
export const DESIRED_STATES: readonly DesiredState[] = ["inactive", "loaded", "launched"];

/** Largest serialised unit we accept; etcd's request limit is 1.5 MiB, units are tiny. */
export const MAX_UNIT_BYTES = 64 * 1024;

export class UnitError extends Error {}

const SECTION_RE = /^\[([^\][]+)\]$/;
const KEY_RE = /^[A-Za-z0-9_-]+$/;
/**
 * What systemd's reader would split, join or drop (src/shared/conf-parser.c): CR
 * and NUL end a line as LF does; a trailing backslash joins the next line; space
 * around a value or a section name is stripped; other control characters and
 * broken UTF-16 (lone surrogates, written as U+FFFD) change the bytes.
 */
const UNSAFE_CHAR =
  // eslint-disable-next-line no-control-regex
  /[\x00-\x08\x0a-\x1f\x7f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const EDGE_SPACE = /^\s|\s$/;

/**
 * Why one option would not reach systemd as stored, or undefined when it would:
 * serialised as `Name=value` under `[section]`, systemd must read back exactly
 * this section, name and value, and nothing else.
 */
export function optionProblem(o: UnitOption): string | undefined {
  if (!KEY_RE.test(o.name))
    return `name ${JSON.stringify(o.name)} is not a valid key (A-Z a-z 0-9 _ -)`;
  if (
    o.section === "" ||
    /[\][]/.test(o.section) ||
    UNSAFE_CHAR.test(o.section) ||
    /\t/.test(o.section)
  )
    return `section ${JSON.stringify(o.section)} is not a valid section name (no [ ], tabs or control characters)`;
  if (EDGE_SPACE.test(o.section))
    return `section ${JSON.stringify(o.section)} has space at an edge, which systemd strips`;
  // [x-fleet] would be an unknown section to fleet and ignored by systemd: its
  // constraints would silently not apply.
  if (o.section !== "X-Fleet" && o.section.toLowerCase() === "x-fleet")
    return `section [${o.section}] is not [X-Fleet]: section names are case-sensitive, so its options would be ignored`;
  if (UNSAFE_CHAR.test(o.value))
    return `value of ${o.name} has a control character (CR, LF, NUL or other), which systemd would read as a line end or reject`;
  if (o.value.endsWith("\\"))
    return `value of ${o.name} ends with a backslash, which systemd reads as "continued on the next line"`;
  if (EDGE_SPACE.test(o.value))
    return `value of ${o.name} has space at an edge, which systemd strips`;
  return undefined;
}

/** Parse unit-file text. Comment lines (# ;) are dropped, `\` continues a line. */
export function parseUnitFile(text: string): UnitOption[] {
  return parseUnitFileLines(text).map((l) => l.option);
}

/** An option and the line it starts on (1-based), so a checker can point at it. */
export interface UnitLine {
  option: UnitOption;
  line: number;
}

/** parseUnitFile, keeping each option's line. */
export function parseUnitFileLines(text: string): UnitLine[] {
  if (Buffer.byteLength(text) > MAX_UNIT_BYTES) {
    throw new UnitError(
      `unit file is ${Buffer.byteLength(text)} bytes, over the ${MAX_UNIT_BYTES}-byte limit: split it or move data out of the unit`,
    );
  }
  const options: UnitLine[] = [];
  let section: string | undefined;
  const lines = text.split(/\r?\n/);
  const bad = lines.findIndex((l) => UNSAFE_CHAR.test(l));
  if (bad >= 0)
    throw new UnitError(
      `line ${bad + 1}: has a control character (a lone CR, NUL or other): systemd would split or reject the line; remove it`,
    );
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    const lineNo = i + 1;
    while (line.endsWith("\\") && i + 1 < lines.length) {
      line = line.slice(0, -1).trimEnd() + " " + lines[++i].trim();
    }
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = SECTION_RE.exec(line);
    if (header) {
      section = header[1];
      const p = optionProblem({ section, name: "X", value: "" });
      if (p) throw new UnitError(`line ${lineNo}: ${p}`);
      continue;
    }
    if (line.startsWith("[")) {
      throw new UnitError(
        `line ${lineNo}: malformed section header ${JSON.stringify(line)}: use [Name]`,
      );
    }
    const eq = line.indexOf("=");
    if (eq <= 0) {
      throw new UnitError(`line ${lineNo}: ${JSON.stringify(line)} is not Key=Value`);
    }
    const name = line.slice(0, eq).trim();
    if (!KEY_RE.test(name)) {
      throw new UnitError(`line ${lineNo}: invalid key ${JSON.stringify(name)}`);
    }
    if (section === undefined) {
      throw new UnitError(
        `line ${lineNo}: ${JSON.stringify(name)} appears before any [Section] header`,
      );
    }
    const o = { section, name, value: line.slice(eq + 1).trim() };
    const p = optionProblem(o);
    if (p) throw new UnitError(`line ${lineNo}: ${p}`);
    options.push({ option: o, line: lineNo });
  }
  return options;
}

/** Serialise options back to unit-file text, sections in first-seen order. */
export function serializeUnit(options: readonly UnitOption[]): string {
  const sections = new Map<string, UnitOption[]>();
  for (const o of options) {
    const list = sections.get(o.section) ?? [];
    list.push(o);
    sections.set(o.section, list);
  }
  const parts: string[] = [];
  for (const [section, opts] of sections) {
    parts.push(`[${section}]\n` + opts.map((o) => `${o.name}=${o.value}\n`).join(""));
  }
  return parts.join("\n");
}

/** fleet identified a unit's content by the SHA-1 of its serialised file. */
export function unitHash(options: readonly UnitOption[]): string {
  return createHash("sha1").update(serializeUnit(options)).digest("hex");
}

/** Check every option's shape (for units that arrive as JSON through the API). */
export function validateOptions(options: unknown): UnitOption[] {
  if (!Array.isArray(options))
    throw new UnitError("options must be an array of {section, name, value}");
  const out = options.map((o, i) => {
    const ok =
      o !== null &&
      typeof o === "object" &&
      typeof o.section === "string" &&
      typeof o.name === "string" &&
      typeof o.value === "string";
    if (!ok) throw new UnitError(`options[${i}] must be {section, name, value} with string fields`);
    const opt: UnitOption = { section: o.section, name: o.name, value: o.value };
    const p = optionProblem(opt);
    if (p) throw new UnitError(`options[${i}]: ${p}`);
    return opt;
  });
  const size = Buffer.byteLength(serializeUnit(out));
  if (size > MAX_UNIT_BYTES) {
    throw new UnitError(`unit is ${size} bytes, over the ${MAX_UNIT_BYTES}-byte limit`);
  }
  return out;
}
