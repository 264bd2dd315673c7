// Test helper: run `f`, expect a DataError, and find the problem naming `key`,
// checking that it also names the file, shows the value and gives a fix.

import { DataError, DataProblem, printable } from "./problems";
export interface Expected {
  file?: string;
  key: string;
  /** A substring of the value as shown in the message (JSON). */
  value?: string;
  problem?: RegExp;
  fix: RegExp;
}

export function expectProblem(f: () => unknown, want: Expected): DataProblem {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof DataError))
    throw new Error(
      `expected a DataError for ${want.key}, got ${err === undefined ? "no error" : String(err)}`,
    );
  const found = err.problems.find(
    (p) => p.key === want.key && (want.file === undefined || p.file === want.file),
  );
  if (!found) throw new Error(`no problem with key ${want.key} in:\n${err.message}`);
  const line = err.message
    .split("\n")
    .find(
      (l) =>
        l.startsWith(`  - ${printable(found.file)}: ${printable(found.key)} = `) &&
        l.includes(found.problem.split("\n")[0]),
    );
  expect(line).toBeDefined();
  if (want.value !== undefined) expect(line).toContain(want.value);
  if (want.problem) expect(found.problem).toMatch(want.problem);
  expect(found.fix).toMatch(want.fix);
  expect(err.message).toContain(`fix: ${found.fix}`);
  return found;
}
