/** "did you mean …?" for misspelt keywords, modules and roles. */

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

/** The closest candidate within a distance that still reads as a typo, or undefined. */
export function closest(word: string, candidates: Iterable<string>): { match: string; distance: number } | undefined {
  const w = word.toLowerCase();
  const limit = w.length <= 3 ? 1 : w.length <= 6 ? 2 : 3;
  let best: { match: string; distance: number } | undefined;
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    // a prefix/suffix slip (`delegate` for `delegate_to`, `loop_contrl`) also counts
    const near = dist <= limit || (w.length >= 4 && (c.startsWith(w) || w.startsWith(c)) && Math.abs(c.length - w.length) <= 4);
    if (!near) continue;
    if (!best || dist < best.distance || (dist === best.distance && c < best.match)) best = { match: c, distance: dist };
  }
  return best;
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const c = closest(word, candidates);
  return c ? `did you mean \`${c.match}\`?` : undefined;
}
