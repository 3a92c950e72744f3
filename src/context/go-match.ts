// A port of Go's path/filepath.Match (Unix flavour, '\' escapes), which Docker uses both to
// validate .dockerignore patterns and to expand COPY/ADD wildcards. Kept byte-for-byte in
// behaviour, including its error rules, so "valid in Docker" means "valid here".

/** Thrown for a malformed pattern, as Go's filepath.ErrBadPattern. */
export class BadPatternError extends Error {
  constructor(readonly pattern: string) {
    super(`syntax error in pattern ${JSON.stringify(pattern)}`);
  }
}

const SEPARATOR = "/";

/** Go's filepath.Match: the whole of `name` must match; '*' and '?' never match '/'. */
export function goMatch(pattern: string, name: string): boolean {
  const full = pattern;
  let pat = [...pattern];
  let s = [...name];
  outer: while (pat.length > 0) {
    const [star, chunk, rest] = scanChunk(pat);
    pat = rest;
    if (star && chunk.length === 0) return !s.includes(SEPARATOR);
    const first = matchChunk(chunk, s, full);
    if (first !== undefined && (first.length === 0 || pat.length > 0)) {
      s = first;
      continue;
    }
    if (star) {
      for (let i = 0; i < s.length && s[i] !== SEPARATOR; i++) {
        const t = matchChunk(chunk, s.slice(i + 1), full);
        if (t !== undefined) {
          if (pat.length === 0 && t.length > 0) continue;
          s = t;
          continue outer;
        }
      }
    }
    // Before answering "no", check that the rest of the pattern is well formed, as Go does.
    while (pat.length > 0) {
      const [, nextChunk, nextRest] = scanChunk(pat);
      pat = nextRest;
      matchChunk(nextChunk, [], full);
    }
    return false;
  }
  return s.length === 0;
}

/** Throws BadPatternError when `pattern` is not a valid Go filepath.Match pattern. */
export function checkGoPattern(pattern: string): void {
  goMatch(pattern, ".");
}

/** True when the pattern has any of Match's special characters. */
export function hasMeta(pattern: string): boolean {
  return /[*?[\\]/.test(pattern);
}

function scanChunk(pattern: string[]): [boolean, string[], string[]] {
  let star = false;
  let p = pattern;
  while (p.length > 0 && p[0] === "*") {
    p = p.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case "\\":
        if (i + 1 < p.length) i++;
        break;
      case "[":
        inRange = true;
        break;
      case "]":
        inRange = false;
        break;
      case "*":
        if (!inRange) break scan;
    }
  }
  return [star, p.slice(0, i), p.slice(i)];
}

/** Matches `chunk` against the start of `s`; the rest of `s`, or undefined when it does not match. */
function matchChunk(chunkIn: string[], sIn: string[], full: string): string[] | undefined {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0];
    if (c === "[") {
      let r = -1;
      if (!failed) {
        r = s[0]!.codePointAt(0)!;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk.length > 0 && chunk[0] === "^") {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === "]" && nrange > 0) {
          chunk = chunk.slice(1);
          break;
        }
        let lo: number;
        [lo, chunk] = getEsc(chunk, full);
        let hi = lo;
        if (chunk[0] === "-") [hi, chunk] = getEsc(chunk.slice(1), full);
        if (lo <= r && r <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === "?") {
      if (!failed) {
        if (s[0] === SEPARATOR) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === "\\") {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new BadPatternError(full);
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  return failed ? undefined : s;
}

function getEsc(chunkIn: string[], full: string): [number, string[]] {
  let chunk = chunkIn;
  if (chunk.length === 0 || chunk[0] === "-" || chunk[0] === "]") throw new BadPatternError(full);
  if (chunk[0] === "\\") {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw new BadPatternError(full);
  }
  const r = chunk[0]!.codePointAt(0)!;
  const rest = chunk.slice(1);
  if (rest.length === 0) throw new BadPatternError(full);
  return [r, rest];
}
