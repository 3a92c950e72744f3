/** "Did you mean …?" for names a user may have mistyped (instructions, flags, stages, mount keys). */

/** Edit distance where swapping two neighbours counts as one edit ("cahce" is one away from "cache"). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The candidate closest to `name` (case-insensitive) if it is close enough to be a typo. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(wanted, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const allowed = Math.max(1, Math.floor(wanted.length / 3));
  return best !== undefined && bestDistance > 0 && bestDistance <= Math.min(2, allowed) ? best : undefined;
}

export function didYouMean(name: string, candidates: Iterable<string>, format: (s: string) => string = (s) => s): string | undefined {
  const match = closest(name, candidates);
  return match === undefined ? undefined : `did you mean ${format(match)}?`;
}
