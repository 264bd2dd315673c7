// fast-check generators of unit options, shared by the unit-layer property test and
// the validate-layer run against the real systemd-analyze: the characters that make
// readers disagree (control characters, backslashes, quotes, % specifiers, brackets,
// edge spaces, lone surrogates) and very long values.
import fc from "fast-check";
import type { UnitOption } from "../unit";

const tricky = fc.constantFrom(
  "\r",
  "\n",
  "\0",
  "\t",
  " ",
  "\\",
  '"',
  "'",
  "%",
  "%n",
  "%i",
  "%%",
  "[",
  "]",
  "=",
  "#",
  ";",
  "$",
  "`",
  "\x1b",
  "\x7f",
  "\ud800",
  "é",
  "ExecStartPre=/bin/evil",
);
const piece = fc.oneof(
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  { weight: 2, arbitrary: tricky },
  { weight: 1, arbitrary: fc.string({ minLength: 500, maxLength: 3000 }) },
);

export const genValue = (): fc.Arbitrary<string> =>
  fc.array(piece, { maxLength: 6 }).map((ps) => ps.join(""));

export const genOption = (): fc.Arbitrary<UnitOption> =>
  fc.record({
    section: fc.oneof(
      fc.constantFrom("Unit", "Service", "X-Fleet", "x-fleet", "Install", "Service\r", " Unit"),
      fc.string({ maxLength: 10 }),
    ),
    name: fc.oneof(
      fc.constantFrom("ExecStart", "Description", "MachineOf", "X-Gen"),
      fc.string({ maxLength: 10 }),
    ),
    value: genValue(),
  });
