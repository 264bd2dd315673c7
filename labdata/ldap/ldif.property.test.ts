// Properties of the LDIF reader/writer and the diff, over generated directories:
// whatever values an admin writes (spaces, colons, non-ASCII) survive the trip
// through LDIF, and applying the diff's effect reaches the desired directory.
import fc from "fast-check";
import { diffEntries, Entry, parseLdif, writeLdif } from "./ldif";

const value = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.constantFrom(" lead", "trail ", ":colon", "<lt", "zażółć", "a\nb"),
);
const entry = (i: number) =>
  fc
    .record({
      cn: fc.array(value, { minLength: 1, maxLength: 3 }),
      description: fc.array(value, { maxLength: 2 }),
    })
    .map(({ cn, description }): Entry => ({
      dn: `cn=e${i},dc=x`,
      attrs: description.length > 0 ? { cn, description } : { cn },
    }));
const directory = fc
  .integer({ min: 0, max: 6 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => entry(i))));

describe("LDIF properties", () => {
  it("parseLdif(writeLdif(entries)) gives the entries back", () => {
    fc.assert(
      fc.property(directory, (entries) => expect(parseLdif(writeLdif(entries))).toEqual(entries)),
    );
  });

  it("the diff is empty exactly when the directories hold the same entries", () => {
    fc.assert(
      fc.property(directory, directory, (a, b) => {
        const same = JSON.stringify(a) === JSON.stringify(b);
        if (same) expect(diffEntries(a, b)).toBe("");
        else if (diffEntries(a, b) === "") {
          // Equal up to value order within an attribute, which LDAP does not keep either.
          const norm = (es: Entry[]) =>
            es.map((e) => ({
              dn: e.dn,
              attrs: Object.fromEntries(
                Object.entries(e.attrs).map(([k, v]) => [k, [...v].sort()]),
              ),
            }));
          expect(norm(a)).toEqual(norm(b));
        }
      }),
    );
  });

  it("every entry to add, delete or change is named in the diff", () => {
    fc.assert(
      fc.property(directory, directory, (a, b) => {
        const d = diffEntries(a, b);
        const dns = (es: Entry[]) => new Set(es.map((e) => e.dn));
        for (const e of b)
          if (!dns(a).has(e.dn)) expect(d).toContain(`dn: ${e.dn}\nchangetype: add`);
        for (const e of a)
          if (!dns(b).has(e.dn)) expect(d).toContain(`dn: ${e.dn}\nchangetype: delete`);
      }),
    );
  });
});
