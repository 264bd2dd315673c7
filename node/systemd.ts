// A typed builder for systemd unit files (sections -> text) and ExecStart lines, so
// units are data, not string templates, and arguments are escaped in one place.

/** A section's directives in order; an array repeats the directive. */
export type UnitSection = Record<string, string | number | boolean | string[] | undefined>;
export type UnitSections = Record<string, UnitSection>;

export function renderUnit(sections: UnitSections): string {
  const blocks = Object.entries(sections).map(([name, directives]) => {
    const lines = Object.entries(directives).flatMap(([k, v]) => {
      if (v === undefined) return [];
      const values = Array.isArray(v)
        ? v
        : [typeof v === "boolean" ? (v ? "yes" : "no") : String(v)];
      return values.map((x) => `${k}=${x}`);
    });
    return [`[${name}]`, ...lines].join("\n");
  });
  return `${blocks.join("\n\n")}\n`;
}

/** Quotes one argument for Exec*=: escapes specifiers (%) and variables ($). */
function quoteArg(a: string): string {
  const escaped = a.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  return /[\s"'\\;]/.test(escaped) || escaped === ""
    ? `"${escaped.replace(/(["\\])/g, "\\$1")}"`
    : escaped;
}

/**
 * One command line for Exec*=. Each group of arguments goes on its own line
 * (continued with a backslash) so long docker commands stay readable.
 */
export function execLine(...groups: string[][]): string {
  return groups.map((g) => g.map(quoteArg).join(" ")).join(" \\\n  ");
}

/** KEY=value lines, one a line: a systemd EnvironmentFile, sourceable by sh. */
export function renderEnvFile(vars: [string, string][]): string {
  return vars.map(([k, v]) => `${k}=${v}\n`).join("");
}
