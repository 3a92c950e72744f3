// Docker's pattern matching for .dockerignore and COPY --exclude: a port of
// moby/patternmatcher (New, MatchesOrParentMatches, Pattern.compile) and
// moby/patternmatcher/ignorefile (ReadAll). Replaces @balena/dockerignore, which differs from
// Docker (see test/context/dockerignore.test.ts): it matches case-insensitively, does not escape
// `+ ( ) | { }`, never reports malformed patterns, and only tries one parent depth.
import { goClean } from "./clean-path.js";
import { BadPatternError, checkGoPattern } from "./go-match.js";

type MatchKind = "exact" | "prefix" | "suffix" | "regexp";

interface Pattern {
  readonly source: string;
  readonly cleaned: string;
  readonly dirs: readonly string[];
  readonly exclusion: boolean;
  readonly kind: MatchKind;
  readonly regexp: RegExp | undefined;
}

/** A compiled list of patterns: last match wins, `!` re-includes. Immutable, safe to share. */
export interface PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** True when some pattern starts with `!`, so an excluded directory may still hold included files. */
  readonly hasExclusions: boolean;
  /** moby's MatchesOrParentMatches: `file` (slash path relative to the root) or one of its parents matches. */
  matches(file: string): boolean;
  /** Whether a file below excluded directory `dir` could be re-included by a `!` pattern. */
  mayIncludeBelow(dir: string): boolean;
}

/** A pattern Docker would reject; `index` is its position in the list given to compilePatterns. */
export class InvalidPatternError extends Error {
  constructor(
    readonly pattern: string,
    readonly index: number,
    reason: string,
  ) {
    super(`invalid pattern ${JSON.stringify(pattern)}: ${reason}`);
  }
}

/** moby's patternmatcher.New. Throws InvalidPatternError as Docker would fail the build. */
export function compilePatterns(list: readonly string[]): PatternMatcher {
  const patterns: Pattern[] = [];
  list.forEach((raw, index) => {
    let p = raw.trim();
    if (p === "") return;
    p = goClean(p);
    let exclusion = false;
    if (p[0] === "!") {
      if (p.length === 1) throw new InvalidPatternError(raw, index, 'illegal exclusion pattern: "!"');
      exclusion = true;
      p = p.slice(1);
    }
    try {
      checkGoPattern(p);
      patterns.push({ source: raw, cleaned: p, dirs: p.split("/"), exclusion, ...compile(p) });
    } catch (err) {
      if (err instanceof BadPatternError) throw new InvalidPatternError(raw, index, "syntax error in pattern");
      throw err;
    }
  });
  const hasExclusions = patterns.some((p) => p.exclusion);
  return {
    patterns,
    hasExclusions,
    matches: (file) => matchesOrParentMatches(patterns, file),
    mayIncludeBelow: (dir) => hasExclusions && patterns.some((p) => p.exclusion && couldMatchBelow(p, dir)),
  };
}

/** moby's ignorefile.ReadAll: one pattern per line, `#` comments, `!` kept, leading `/` dropped. */
export function parseIgnoreFile(text: string): { pattern: string; line: number }[] {
  const out: { pattern: string; line: number }[] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  lines.forEach((rawLine, i) => {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith("#")) return;
    let pattern = line.trim();
    if (pattern === "") return;
    const invert = pattern[0] === "!";
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern[0] === "/") pattern = pattern.slice(1);
    }
    out.push({ pattern: invert ? `!${pattern}` : pattern, line: i + 1 });
  });
  return out;
}

function matchesOrParentMatches(patterns: readonly Pattern[], fileIn: string): boolean {
  const file = goClean(fileIn);
  if (file === ".") return false;
  const slash = file.lastIndexOf("/");
  const parentDirs = slash < 0 ? [] : file.slice(0, slash).split("/");
  let matched = false;
  for (const pattern of patterns) {
    // Only a pattern that could change the answer is evaluated, as in moby.
    if (pattern.exclusion !== matched) continue;
    let match = matchOne(pattern, file);
    for (let i = 0; !match && i < parentDirs.length; i++) match = matchOne(pattern, parentDirs.slice(0, i + 1).join("/"));
    if (match) matched = !pattern.exclusion;
  }
  return matched;
}

function matchOne(p: Pattern, path: string): boolean {
  switch (p.kind) {
    case "exact":
      return path === p.cleaned;
    case "prefix":
      return path.startsWith(p.cleaned.slice(0, -2));
    case "suffix": {
      const suffix = p.cleaned.slice(2);
      if (path.endsWith(suffix)) return true;
      return suffix[0] === "/" && path === suffix.slice(1);
    }
    case "regexp":
      return p.regexp!.test(path);
  }
}

/** Conservative: false only when a leading literal part of the pattern rules `dir/…` out. */
function couldMatchBelow(p: Pattern, dir: string): boolean {
  const parts = dir.split("/");
  for (let i = 0; i < parts.length; i++) {
    const component = p.dirs[i];
    if (component === undefined) return false;
    if (component.includes("**")) return true;
    try {
      if (!matchComponent(component, parts[i]!)) return false;
    } catch {
      return true;
    }
  }
  return true;
}

function matchComponent(component: string, name: string): boolean {
  const { kind, regexp } = compile(component);
  return kind === "regexp" ? regexp!.test(name) : component === name;
}

// Characters that are special in a regexp but literal in a filepath pattern (moby's shouldEscape).
const ESCAPED = new Set([".", "+", "(", ")", "|", "{", "}", "$"]);
// After a backslash Go's regexp accepts punctuation and these letters; JS needs `\a` spelled out.
const REGEXP_ESCAPES: Record<string, string> = {
  d: "\\d", D: "\\D", s: "\\s", S: "\\S", w: "\\w", W: "\\W", b: "\\b", B: "\\B",
  t: "\\t", n: "\\n", r: "\\r", f: "\\f", v: "\\v", a: "\\x07", A: "^", z: "$",
};

/** moby's Pattern.compile: the match kind, and the regexp when the kind needs one. */
function compile(pattern: string): { kind: MatchKind; regexp: RegExp | undefined } {
  const chars = [...pattern];
  let re = "^";
  let kind: MatchKind = "exact";
  for (let i = 0, step = 0; i < chars.length; i++, step++) {
    const ch = chars[i]!;
    if (ch === "*") {
      if (chars[i + 1] === "*") {
        i++;
        if (chars[i + 1] === "/") i++;
        if (i + 1 >= chars.length) {
          if (kind === "exact") kind = "prefix";
          else {
            re += ".*";
            kind = "regexp";
          }
        } else {
          re += "(.*/)?";
          kind = "regexp";
        }
        if (step === 0) kind = "suffix";
      } else {
        re += "[^/]*";
        kind = "regexp";
      }
    } else if (ch === "?") {
      re += "[^/]";
      kind = "regexp";
    } else if (ESCAPED.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === "\\") {
      const next = chars[i + 1];
      if (next === undefined) re += "\\\\";
      else {
        i++;
        re += regexpEscape(next, pattern);
        kind = "regexp";
      }
    } else if (ch === "[" || ch === "]") {
      re += ch;
      kind = "regexp";
    } else {
      re += ch;
    }
  }
  if (kind !== "regexp") return { kind, regexp: undefined };
  try {
    return { kind, regexp: new RegExp(`${re}$`) };
  } catch {
    throw new BadPatternError(pattern);
  }
}

function regexpEscape(ch: string, pattern: string): string {
  if (/^[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/.test(ch)) return `\\${ch}`;
  const mapped = REGEXP_ESCAPES[ch];
  if (mapped === undefined) throw new BadPatternError(pattern);
  return mapped;
}
