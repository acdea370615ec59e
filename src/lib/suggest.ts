/**
 * "Did you mean …?": the closest of a list of names to a mistyped one, by edit distance (letters
 * added, dropped, changed or swapped), case ignored, so `--clusteruuid` finds `--clusterUuid` and
 * `tokn` finds `token`. Cloud-neutral: the CLI passes its command and flag tables.
 */

/**
 * The edit distance between two strings, counting a swap of two neighbouring letters as one edit
 * (optimal string alignment).
 *
 * @example
 * ```ts
 * editDistance("tokn", "token"); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `input`, or `undefined` when none is close enough to be a typo: within a
 * third of the input's length (at least one edit, at most three), case ignored. A candidate that
 * starts with the input (an unambiguous abbreviation) also counts.
 *
 * @example
 * ```ts
 * closestMatch("clusteruuid", ["clusterUuid", "region", "profile"]); // "clusterUuid"
 * closestMatch("zzz", ["token", "version"]);                         // undefined
 * ```
 */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  const wanted = input.toLowerCase();
  if (wanted === "") return undefined;
  const limit = Math.min(3, Math.max(1, Math.floor(wanted.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= limit) return best;
  const prefixed = candidates.filter((c) => c.toLowerCase().startsWith(wanted));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
