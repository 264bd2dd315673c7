// A small LDIF reader/writer (RFC 2849 subset: content records, `::` base64 values,
// folded lines, comments) and the diff that turns the directory's current entries
// into the desired ones as an LDIF change file for ldapmodify. Pure.

export interface Entry {
  dn: string;
  /** Attribute name (as written) -> values, in order. */
  attrs: Record<string, string[]>;
}

/** Values that LDIF must carry as base64 (RFC 2849 SAFE-STRING rules). */
function needsBase64(v: string): boolean {
  return /^[ :<]/.test(v) || / $/.test(v) || /[\0\n\r\x80-\uffff]/.test(v);
}

function line(name: string, value: string): string {
  return needsBase64(value)
    ? `${name}:: ${Buffer.from(value, "utf8").toString("base64")}`
    : `${name}: ${value}`;
}

export function writeEntry(e: Entry): string {
  const lines = [line("dn", e.dn)];
  for (const [k, vs] of Object.entries(e.attrs)) for (const v of vs) lines.push(line(k, v));
  return lines.join("\n");
}

export function writeLdif(entries: Entry[]): string {
  return entries.map(writeEntry).join("\n\n") + "\n";
}

/** Canonical DN for comparisons: lower-case attribute types and values, no spaces around separators. */
export function normDn(dn: string): string {
  return dn
    .split(",")
    .map((rdn) =>
      rdn
        .split("+")
        .map((ava) => ava.trim().replace(/\s*=\s*/, "="))
        .join("+"),
    )
    .join(",")
    .toLowerCase();
}

/** The RDNs of a DN, split at commas that are not escaped (RFC 4514 `\,`). */
export function splitRdns(dn: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i];
    if (c === "\\" && i + 1 < dn.length) {
      cur += c + dn[++i];
    } else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const ATTR_TYPE = /^\s*([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)+)\s*$/;

/**
 * Why `dn` is not a distinguished name slapd accepts (RFC 4514: RDNs of
 * `type=value`, multi-valued with unescaped `+`), or undefined when it is one.
 */
export function dnProblem(dn: string): string | undefined {
  if (dn.trim() === "") return "is empty";
  if (/[\0\r\n]/.test(dn)) return "contains a control character";
  if (/\\$/.test(dn.replace(/\\\\/g, ""))) return "ends with a lone backslash";
  for (const rdn of splitRdns(dn)) {
    for (const ava of rdn.split(/(?<!\\)\+/)) {
      const eq = ava.indexOf("=");
      if (eq < 0) return `has the RDN "${rdn.trim()}" without "attribute=value"`;
      if (!ATTR_TYPE.test(ava.slice(0, eq)))
        return `has the bad attribute type "${ava.slice(0, eq).trim()}"`;
      if (ava.slice(eq + 1).trim() === "") return `has an empty value in "${rdn.trim()}"`;
    }
  }
  return undefined;
}

/** The parent of a DN (canonical, see normDn), or undefined for a one-RDN DN. */
export function parentDn(dn: string): string | undefined {
  const rdns = splitRdns(dn);
  return rdns.length > 1 ? normDn(rdns.slice(1).join(",")) : undefined;
}

/** True when `dn` is `suffix` or below it. */
export function underSuffix(dn: string, suffix: string): boolean {
  const d = normDn(dn);
  const s = normDn(suffix);
  return d === s || d.endsWith(`,${s}`);
}

/** Parses LDIF content records. Throws naming the line on malformed input. */
export function parseLdif(text: string, file = "(ldif)"): Entry[] {
  // Unfold continuation lines (a line starting with one space continues the previous).
  const raw = text.replace(/\r\n/g, "\n").split("\n");
  const lines: { text: string; no: number }[] = [];
  raw.forEach((l, i) => {
    if (l.startsWith(" ") && lines.length > 0 && lines[lines.length - 1].text !== "") {
      lines[lines.length - 1].text += l.slice(1);
    } else lines.push({ text: l, no: i + 1 });
  });
  const entries: Entry[] = [];
  let cur: Entry | undefined;
  for (const { text: l, no } of lines) {
    if (l.startsWith("#")) continue;
    if (l.trim() === "") {
      cur = undefined;
      continue;
    }
    const m = /^([A-Za-z][A-Za-z0-9;-]*)(::?)\s*(.*)$/.exec(l);
    if (!m)
      throw new Error(
        `${file}:${no}: "${l.slice(0, 60)}" is not an LDIF line; write "attribute: value"`,
      );
    const [, name, sep, rest] = m;
    const value = sep === "::" ? Buffer.from(rest, "base64").toString("utf8") : rest;
    if (name.toLowerCase() === "version" && !cur) continue;
    if (!cur) {
      if (name.toLowerCase() !== "dn")
        throw new Error(`${file}:${no}: an entry must start with "dn:", found "${name}:"`);
      cur = { dn: value, attrs: {} };
      entries.push(cur);
      continue;
    }
    (cur.attrs[name] ??= []).push(value);
  }
  return entries;
}

/** Attribute names lower-cased, values kept: LDAP attribute types are case-insensitive. */
function byType(e: Entry): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [k, vs] of Object.entries(e.attrs))
    m.set(k.toLowerCase(), [...(m.get(k.toLowerCase()) ?? []), ...vs]);
  return m;
}

const sameValues = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);

/**
 * LDIF change records that turn `current` into `desired`: adds parents before
 * children, deletes children before parents, and replaces only attributes whose
 * values differ. Attributes the server maintains itself (operational ones are never
 * returned by a plain search) do not appear in `current`, so they are left alone.
 */
export function diffEntries(current: Entry[], desired: Entry[]): string {
  const cur = new Map(current.map((e) => [normDn(e.dn), e]));
  const want = new Map(desired.map((e) => [normDn(e.dn), e]));
  const depth = (dn: string) => normDn(dn).split(",").length;
  const out: string[] = [];
  for (const e of [...desired].sort((a, b) => depth(a.dn) - depth(b.dn))) {
    const old = cur.get(normDn(e.dn));
    if (!old) {
      out.push(
        `${line("dn", e.dn)}\nchangetype: add\n${writeEntry(e).split("\n").slice(1).join("\n")}`,
      );
      continue;
    }
    const a = byType(old);
    const b = byType(e);
    const mods: string[] = [];
    for (const [type, vs] of b) {
      if (!sameValues(a.get(type) ?? [], vs))
        mods.push([`replace: ${type}`, ...vs.map((v) => line(type, v)), "-"].join("\n"));
    }
    for (const type of a.keys()) if (!b.has(type)) mods.push(`delete: ${type}\n-`);
    if (mods.length > 0) out.push(`${line("dn", e.dn)}\nchangetype: modify\n${mods.join("\n")}`);
  }
  for (const e of [...current].sort((a, b) => depth(b.dn) - depth(a.dn))) {
    if (!want.has(normDn(e.dn))) out.push(`${line("dn", e.dn)}\nchangetype: delete`);
  }
  return out.length === 0 ? "" : out.join("\n\n") + "\n";
}
