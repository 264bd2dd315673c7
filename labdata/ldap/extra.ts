// The extra entries of data/ldap/*.ldif, checked as slapd will read them: each DN
// well-formed and below the suffix, its parent present (generated, in an LDIF file,
// or the suffix itself), never defined twice, with objectClass, and any
// userPassword a real hash. Pure: the files' text in, the entries or a DataError out.
import { Problems } from "../problems";
import { dnProblem, Entry, normDn, parentDn, parseLdif, underSuffix } from "./ldif";
import { HASH_FIX, passwordHashProblem } from "./password";

export function checkExtraLdif(
  ldifFiles: { file: string; text: string }[],
  suffix: string,
  generatedEntries: Entry[],
): Entry[] {
  const extra: { entry: Entry; where: string; p: Problems }[] = [];
  const known = new Set(generatedEntries.map((e) => normDn(e.dn)));
  const all: Problems[] = [];
  for (const f of ldifFiles) {
    const fp = new Problems(f.file);
    all.push(fp);
    let entries: Entry[] = [];
    try {
      entries = parseLdif(f.text, f.file);
    } catch (e) {
      fp.add("(document)", undefined, (e as Error).message, "fix the LDIF syntax");
    }
    entries.forEach((e, i) => {
      const where = `entry ${i + 1} dn`;
      const bad = dnProblem(e.dn);
      const pw = Object.keys(e.attrs).find((a) => a.toLowerCase() === "userpassword");
      const pwProblem = pw && e.attrs[pw].map(passwordHashProblem).find((x) => x);
      if (bad)
        fp.add(
          where,
          e.dn,
          `is not a distinguished name: ${bad}`,
          "write attribute=value RDNs joined by commas, e.g. ou=hosts," + suffix,
        );
      else if (!underSuffix(e.dn, suffix))
        fp.add(where, e.dn, `is outside the suffix ${suffix}`, `end the DN with ,${suffix}`);
      else if (known.has(normDn(e.dn)))
        fp.add(
          where,
          e.dn,
          "is already generated from directory.yaml or another LDIF file",
          "define each entry once",
        );
      else if (!Object.keys(e.attrs).some((a) => a.toLowerCase() === "objectclass"))
        fp.add(`entry ${i + 1} objectClass`, undefined, "missing", "add objectClass lines");
      else if (pwProblem)
        fp.add(
          `entry ${i + 1} userPassword`,
          "(hidden)",
          `${pwProblem} (plain passwords are never stored)`,
          HASH_FIX,
        );
      else {
        known.add(normDn(e.dn));
        extra.push({ entry: e, where, p: fp });
      }
    });
  }
  // Parents may come later or from another file: slapd gets them parents first.
  for (const x of extra) {
    const parent = parentDn(x.entry.dn);
    if (parent !== undefined && normDn(x.entry.dn) !== normDn(suffix) && !known.has(parent))
      x.p.add(
        x.where,
        x.entry.dn,
        `has no parent entry ${parent}: slapd refuses to add it`,
        `add the entry ${parent} (in an LDIF file) first, or move this one under an existing entry`,
      );
  }
  const list = all.flatMap((fp) => fp.list);
  const lp = new Problems("data/ldap/*.ldif");
  lp.list.push(...list);
  lp.check("ldap");
  return extra.map((x) => x.entry);
}
