// "Did you mean ...?": the closest known name to a misspelt one, by edit distance. Used for unknown keys,
// component types, policy types, enum values and dangling references in pipeline files.

/**
 * editDistance is the optimal-string-alignment distance between a and b (insertions, deletions,
 * substitutions and swaps of two adjacent characters each cost 1). Case-insensitive.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  if (s === t) return 0;
  if (s.length === 0) return t.length;
  if (t.length === 0) return s.length;
  // three rows: the one before the previous (for swaps), the previous and the current
  let prev2 = new Array<number>(t.length + 1).fill(0);
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  let cur = new Array<number>(t.length + 1).fill(0);
  for (let i = 1; i <= s.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[t.length];
}

/**
 * closest returns the candidate nearest to `word`, or undefined when none is near enough: the distance
 * may be at most a third of the word's length (at least 1, at most 3), or the candidate may contain the
 * word or be contained in it (e.g. "percent" for "percentage"). Ties go to the first candidate.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const d = editDistance(word, c);
    const contained =
      word.length >= 4 &&
      c.length >= 4 &&
      (c.toLowerCase().includes(word.toLowerCase()) || word.toLowerCase().includes(c.toLowerCase()));
    if ((d <= limit || contained) && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** didYouMean renders the suggestion as `; did you mean "x"?`, or '' when there is none. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const hit = closest(word, candidates);
  return hit === undefined ? '' : `; did you mean "${hit}"?`;
}
