// "Did you mean" for a key that is not known: the closest allowed key by edit
// distance, when it is close enough to be a typo (`reservation` for
// `reservations`, `fletlab` for `fleetlab`). Pure; shared by the stack config and
// the lab data readers.

/** Edit distance with transpositions (optimal string alignment), case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++)
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[x.length][y.length];
}

/** The allowed word nearest to `word`, if within a third of its length (at least 1, at most 3). */
export function nearest(word: string, allowed: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestD = limit + 1;
  for (const a of allowed) {
    const d = distance(word, a);
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best;
}

/** The fix for an unknown key: "did you mean X?" when one is near, else the list. */
export function unknownKeyFix(word: string, allowed: readonly string[]): string {
  const near = nearest(word, allowed);
  return near !== undefined
    ? `did you mean ${near}? (known keys: ${allowed.join(", ")})`
    : `remove it, or use one of: ${allowed.join(", ")}`;
}
