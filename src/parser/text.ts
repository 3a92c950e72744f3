// Character classes as Go's parser sees them. BuildKit mixes two: `unicode.IsSpace` (TrimSpace, word
// splitting) and the regexp `[\t\v\f\r ]+` (splitting keyword from arguments, FROM/EXPOSE lists).

/** Go's `unicode.IsSpace`, on one UTF-16 code unit (every space it knows is in the BMP). */
export function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** BuildKit's `reWhitespace` class: `[\t\v\f\r ]`. */
export function isListSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
}

export function skipSpace(s: string, from: number, to: number): number {
  while (from < to && isSpace(s.charCodeAt(from))) from++;
  return from;
}

export function skipSpaceBack(s: string, from: number, to: number): number {
  while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
  return to;
}

/** `reWhitespace.Split(s, -1)` for an already trimmed, non-empty `s`. */
export function splitList(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < s.length) {
    if (isListSpace(s.charCodeAt(i))) {
      out.push(s.slice(start, i));
      while (i < s.length && isListSpace(s.charCodeAt(i))) i++;
      start = i;
    } else i++;
  }
  out.push(s.slice(start));
  return out;
}
