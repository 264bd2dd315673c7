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

/**
 * One command line for Exec*=: `%` (specifiers) and `$` (variable expansion) are
 * escaped, arguments with spaces or quotes are double-quoted. Long commands are
 * continued with a backslash so the rendered Ignition stays readable.
 */
export function execLine(argv: string[]): string {
  const quoted = argv.map((a) => {
    const escaped = a.replace(/%/g, "%%").replace(/\$/g, "$$$$");
    return /[\s"'\\;]/.test(escaped) || escaped === ""
      ? `"${escaped.replace(/(["\\])/g, "\\$1")}"`
      : escaped;
  });
  return quoted.join(quoted.length > 6 ? " \\\n  " : " ");
}
