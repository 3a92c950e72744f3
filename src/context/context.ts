import { readFile, realpath, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ContextError } from "./errors.js";
import { ContentHasher, type HashOptions } from "./hash.js";
import { cleanRelative } from "./in-root.js";
import { compilePatterns, InvalidPatternError, parseIgnoreFile, type PatternMatcher } from "./patterns.js";
import { selectSources, type SelectOptions, type Selection } from "./select.js";

/**
 * The build context of one build. `.dockerignore` is read and compiled once, here; every
 * COPY/ADD of the build asks the same object. The content memo lives as long as the object and
 * is saved to `memoPath` (when given) after each hash.
 */
export interface BuildContext {
  readonly kind: "context";
  /** Real path of the context directory. */
  readonly dir: string;
  /** The ignore file that was read, or undefined when there is none. */
  readonly ignoreFile: string | undefined;
  /** The patterns as Docker cleans them (ignorefile.ReadAll). */
  readonly ignorePatterns: readonly string[];
  readonly matcher: PatternMatcher;
  readonly hasher: ContentHasher;
  /** Whether `relPath` (slash path relative to the context) is left out of the context. */
  isIgnored(relPath: string): boolean;
  select(patterns: readonly string[], options?: SelectOptions): Promise<Selection>;
  hash(selection: Selection, options?: HashOptions): Promise<string>;
}

export interface OpenContextOptions {
  /** Path of the Dockerfile, for `<Dockerfile name>.dockerignore` next to it (which wins, as in BuildKit). */
  dockerfile?: string;
  /** Where the content memo persists between builds (a JSON file, written atomically). */
  memoPath?: string;
  signal?: AbortSignal;
}

export async function openContext(dir: string, options: OpenContextOptions = {}): Promise<BuildContext> {
  options.signal?.throwIfAborted();
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ContextError("CONTEXT_NOT_FOUND", `build context ${dir} is not a directory`, {
      hint: "Pass the directory that holds the files your Dockerfile copies (often \".\").",
    });
  }
  const real = await realpath(dir);
  const candidates = [
    ...(options.dockerfile ? [join(dirname(resolve(options.dockerfile)), `${basename(options.dockerfile)}.dockerignore`)] : []),
    join(real, ".dockerignore"),
  ];
  let ignoreFile: string | undefined;
  let text = "";
  for (const candidate of candidates) {
    const content = await readFile(candidate, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (content !== undefined) {
      ignoreFile = candidate;
      text = content;
      break;
    }
  }
  const lines = parseIgnoreFile(text);
  const matcher = compileIgnore(lines, ignoreFile);
  const hasher = await ContentHasher.open(options.memoPath);
  const context: BuildContext = {
    kind: "context",
    dir: real,
    ignoreFile,
    ignorePatterns: lines.map((l) => l.pattern),
    matcher,
    hasher,
    isIgnored: (relPath) => matcher.matches(cleanRelative(relPath)),
    select: (patterns, selectOptions) => selectSources(context, patterns, selectOptions),
    hash: (selection, hashOptions) => hasher.hashSelection(selection, hashOptions),
  };
  return context;
}

function compileIgnore(lines: { pattern: string; line: number }[], file: string | undefined): PatternMatcher {
  try {
    return compilePatterns(lines.map((l) => l.pattern));
  } catch (err) {
    if (!(err instanceof InvalidPatternError)) throw err;
    const line = lines[err.index]!.line;
    throw new ContextError("DOCKERIGNORE_INVALID_PATTERN", `${file}:${line}: ${err.message}`, {
      hint: "Fix or remove the pattern; patterns follow Go's filepath.Match (escape a literal [ or \\ with a backslash).",
      location: { file: file ?? ".dockerignore", line, column: 1 },
      cause: err,
    });
  }
}
