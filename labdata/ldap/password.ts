// What a stored userPassword must look like: a hash in a scheme slapd verifies out
// of the box, whose body really is that scheme's output. `{SSHA}secret` has the
// right prefix but is cleartext: slapd would never let anyone bind with it, and the
// password would sit readable in etcd and in the directory. Pure.

const SCHEMES = ["SSHA", "SHA", "SSHA256", "SSHA512", "CRYPT"] as const;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Digest length in bytes; salted schemes carry at least one salt byte after it. */
const DIGEST: Record<string, { bytes: number; salted: boolean }> = {
  SHA: { bytes: 20, salted: false },
  SSHA: { bytes: 20, salted: true },
  SSHA256: { bytes: 32, salted: true },
  SSHA512: { bytes: 64, salted: true },
};
/** crypt(3): modular `$id$[rounds=N$]salt$hash`, or traditional 13-character DES. */
const CRYPT = /^(\$(1|2[abxy]|5|6|7|y|gy|sha1|md5)\$[^\s:]+\$[./A-Za-z0-9]{8,}|[./A-Za-z0-9]{13})$/;

/** Why `v` is not a stored password hash, or undefined when it is one. */
export function passwordHashProblem(v: unknown): string | undefined {
  if (typeof v !== "string" || v === "") return "missing or not a string";
  const m = /^\{([A-Za-z0-9]+)\}(.*)$/s.exec(v);
  if (!m) return "has no {SCHEME} prefix: it looks like a cleartext password";
  const scheme = m[1].toUpperCase();
  const body = m[2];
  if (!(SCHEMES as readonly string[]).includes(scheme))
    return `has the scheme {${m[1]}}, which slapd does not verify out of the box (${SCHEMES.map((s) => `{${s}}`).join(", ")})`;
  if (scheme === "CRYPT")
    return CRYPT.test(body)
      ? undefined
      : "is not crypt(3) output after {CRYPT}: it looks like a cleartext password";
  const d = DIGEST[scheme];
  const bytes = BASE64.test(body) ? Buffer.from(body, "base64").length : -1;
  if (bytes < 0) return `is not base64 after {${scheme}}: it looks like a cleartext password`;
  if (d.salted ? bytes <= d.bytes : bytes !== d.bytes)
    return `decodes to ${bytes} bytes after {${scheme}}, not ${d.salted ? `a ${d.bytes}-byte digest plus salt` : `a ${d.bytes}-byte digest`}: it is not that scheme's output`;
  return undefined;
}

export const HASH_FIX = "generate one with `slappasswd -h {SSHA}` and paste its output";
