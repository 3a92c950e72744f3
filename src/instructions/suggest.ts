/** "Did you mean …?" for names a user may have mistyped (instructions, flags, stages, mount keys). */

function distance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] as number;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] as number;
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
