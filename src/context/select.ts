// Choosing what a COPY/ADD copies, with Docker's (BuildKit's) rules: paths are relative to the
// source root and cannot leave it (`..` stops at the root, symlinks on the way are followed as if
// the root were `/`); wildcards follow Go's filepath.Match per path component, plus `**` for any
// number of directories; a directory means its contents; a symlink given as the source is
// followed inside the root (BuildKit's FollowSymlinks), symlinks inside a copied directory stay
// links; ignored files (.dockerignore) do not exist; --exclude drops matches; --parents keeps the
// path of each source (below a `/./` pivot when the pattern has one).
import { lstat, readdir } from "node:fs/promises";
import type { Stats } from "node:fs";
import { readlink } from "node:fs/promises";
import { basename, join } from "node:path";
import type { BuildContext } from "./context.js";
import { ContextError } from "./errors.js";
import { BadPatternError, checkGoPattern, goMatch, hasMeta } from "./go-match.js";
import { ContentHasher } from "./hash.js";
import { cleanRelative, resolveInRoot } from "./in-root.js";
import { compilePatterns, InvalidPatternError, type PatternMatcher } from "./patterns.js";

/** A source that is not the build context: a stage's root filesystem, an image, a bind mount. */
export interface PlainSource {
  dir: string;
  ignore?: false;
  /** Keep the files' uid/gid when copying without --chown (true for stages, as BuildKit does). */
  preserveOwner?: boolean;
  /** A hasher to share between selections of this directory (its memo); default: a fresh one. */
  hasher?: ContentHasher;
}

export type SourceRoot = BuildContext | PlainSource;

export interface SelectOptions {
  /** `COPY --exclude`: patternmatcher patterns matched against paths inside each source. */
  exclude?: readonly string[];
  /** `COPY --parents`: keep each source's path (below a `/./` pivot) under the destination. */
  parents?: boolean;
  /** false: a source that is a symlink is copied as the link. Default true, as BuildKit. */
  followSymlinks?: boolean;
  /** A wildcard that matches nothing is never an error (BuildKit's AllowEmptyWildcard). Default false. */
  allowEmptyWildcard?: boolean;
  signal?: AbortSignal;
}

export type EntryKind = "file" | "dir" | "symlink";

export interface SelectedEntry {
  /** Path relative to its source; "" is the source itself. */
  rel: string;
  /** Host path to read from (inside the source root). */
  path: string;
  kind: EntryKind;
  /** Permission bits, with setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  atimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  nlink: number;
  linkTarget?: string;
}

export interface SelectedSource {
  /** The pattern as written in the Dockerfile. */
  pattern: string;
  /** The matched path relative to the source root ("" for the root). */
  rootRel: string;
  /** Where the source goes below a directory destination: "" means its contents go to the destination itself. */
  prefix: string;
  kind: EntryKind;
  /** The source itself first, then its contents, parents before children, sorted by name. */
  entries: SelectedEntry[];
}

export interface Selection {
  root: string;
  fromContext: boolean;
  preserveOwner: boolean;
  parents: boolean;
  /** How many sources matched (patterns and wildcard matches counted together, --exclude'd ones too). */
  matchedCount: number;
  /** More than one source matched: the destination must be a directory. */
  needsDirDest: boolean;
  sources: SelectedSource[];
  hasher: ContentHasher;
}

/**
 * Resolves COPY/ADD source patterns against a source root. A path that does not exist is an error
 * (COPY_SOURCE_NOT_FOUND); a wildcard that matches nothing is not, as long as some other pattern
 * matched (Docker's `COPY package.json yarn.lock* ./` idiom), otherwise it is the same error
 * (as the classic builder's "no source files were specified"; BuildKit allows it:
 * `allowEmptyWildcard`).
 */
export async function selectSources(source: SourceRoot, patterns: readonly string[], options: SelectOptions = {}): Promise<Selection> {
  const isContext = "kind" in source && source.kind === "context";
  const ignore = isContext ? (source as BuildContext).matcher : undefined;
  const exclude = compileExclude(options.exclude ?? []);
  const follow = options.followSymlinks ?? true;
  const root = source.dir;
  const sources: SelectedSource[] = [];
  let matched = 0;
  const emptyWildcards: string[] = [];
  for (const pattern of patterns) {
    options.signal?.throwIfAborted();
    const rel = cleanRelative(pattern);
    const components = rel === "" ? [] : rel.split("/");
    const wildcard = components.some(hasMeta);
    for (const component of components) {
      try {
        checkGoPattern(component);
      } catch (err) {
        if (!(err instanceof BadPatternError)) throw err;
        throw new ContextError("COPY_INVALID_PATTERN", `invalid source pattern ${JSON.stringify(pattern)}: syntax error`, {
          hint: "Sources follow Go's filepath.Match: close every [ and escape a literal [, * or ? with a backslash.",
        });
      }
    }
    const matches = wildcard ? await glob(root, components, ignore) : [rel];
    const pivot = options.parents ? pivotDepth(pattern) : 0;
    let found = 0;
    for (const match of matches) {
      const selected = await selectOne(root, pattern, match, { signal: options.signal, ignore, exclude, follow, parents: options.parents ?? false, pivot });
      if (selected === undefined) continue;
      if (selected !== "excluded") {
        sources.push(selected);
      }
      found++;
    }
    if (found === 0) {
      if (!wildcard) throw notFound(pattern);
      emptyWildcards.push(pattern);
    }
    matched += found;
  }
  if (sources.length === 0 && emptyWildcards.length > 0 && !options.allowEmptyWildcard) throw notFound(emptyWildcards[0]!);
  const hasher = isContext ? (source as BuildContext).hasher : ((source as PlainSource).hasher ?? ContentHasher.inMemory());
  return {
    root,
    fromContext: isContext,
    preserveOwner: isContext ? false : ((source as PlainSource).preserveOwner ?? true),
    parents: options.parents ?? false,
    matchedCount: matched,
    needsDirDest: matched > 1,
    sources,
    hasher,
  };
}

function notFound(pattern: string): ContextError {
  return new ContextError("COPY_SOURCE_NOT_FOUND", `source ${JSON.stringify(pattern)} not found`, {
    hint: "Check the path relative to the build context (and .dockerignore, which removes files from it).",
  });
}

function compileExclude(list: readonly string[]): PatternMatcher | undefined {
  if (list.length === 0) return undefined;
  try {
    return compilePatterns(list);
  } catch (err) {
    if (!(err instanceof InvalidPatternError)) throw err;
    throw new ContextError("COPY_INVALID_PATTERN", `--exclude: ${err.message}`, {
      hint: "--exclude patterns follow .dockerignore syntax.",
    });
  }
}

/** Number of leading components dropped by `--parents` when the pattern has a `/./` pivot. */
function pivotDepth(pattern: string): number {
  const at = pattern.indexOf("/./");
  if (at < 0) return 0;
  const before = cleanRelative(pattern.slice(0, at));
  return before === "" ? 0 : before.split("/").length;
}

interface SelectContext {
  signal: AbortSignal | undefined;
  ignore: PatternMatcher | undefined;
  exclude: PatternMatcher | undefined;
  follow: boolean;
  parents: boolean;
  pivot: number;
}

async function selectOne(root: string, pattern: string, match: string, ctx: SelectContext): Promise<SelectedSource | "excluded" | undefined> {
  const where = await resolveInRoot(root, match, { followFinal: ctx.follow });
  if (ctx.ignore && match !== "" && (ctx.ignore.matches(match) || ctx.ignore.matches(where.rel))) {
    // An ignored directory still exists in the context when a `!` pattern re-includes something below it.
    if (!ctx.ignore.mayIncludeBelow(where.rel)) return undefined;
    const info = await lstatOrUndefined(where.abs);
    if (!info?.isDirectory()) return undefined;
  }
  const info = await lstatOrUndefined(where.abs);
  if (info === undefined) return undefined;
  const kind = kindOf(info);
  if (kind === undefined) return undefined;
  const name = match === "" ? "" : basename(match);
  const parentsPath = match.split("/").slice(ctx.pivot).join("/");
  const prefix = ctx.parents ? parentsPath : kind === "dir" ? "" : name;
  const self = await entryOf("", where.abs, info);
  if (kind !== "dir") {
    if (ctx.exclude?.matches(ctx.parents ? parentsPath : name)) return "excluded";
    return { pattern, rootRel: where.rel, prefix, kind, entries: [self] };
  }
  const entries = [self];
  await walk(where.abs, where.rel, "", ctx, entries);
  if (ctx.ignore?.matches(where.rel) && entries.length === 1) return undefined;
  return { pattern, rootRel: where.rel, prefix, kind, entries };
}

async function walk(dirAbs: string, dirRootRel: string, dirRel: string, ctx: SelectContext, out: SelectedEntry[]): Promise<void> {
  ctx.signal?.throwIfAborted();
  const names = (await readdir(dirAbs)).sort(byBytes);
  // One directory's stats at once: the walk of a big context is bound by syscalls, not CPU.
  const infos = await Promise.all(names.map((name) => lstat(join(dirAbs, name))));
  for (const [i, name] of names.entries()) {
    const abs = join(dirAbs, name);
    const rootRel = dirRootRel === "" ? name : `${dirRootRel}/${name}`;
    const rel = dirRel === "" ? name : `${dirRel}/${name}`;
    const info = infos[i]!;
    const kind = kindOf(info);
    if (kind === undefined) continue;
    const ignored = ctx.ignore?.matches(rootRel) ?? false;
    const excluded = ctx.exclude?.matches(rel) ?? false;
    if (kind !== "dir") {
      if (!ignored && !excluded) out.push(await entryOf(rel, abs, info));
      continue;
    }
    if ((ignored && !ctx.ignore!.mayIncludeBelow(rootRel)) || (excluded && !ctx.exclude!.mayIncludeBelow(rel))) continue;
    const children: SelectedEntry[] = [];
    await walk(abs, rootRel, rel, ctx, children);
    // A left-out directory appears only to hold what a `!` pattern brought back.
    if ((ignored || excluded) && children.length === 0) continue;
    out.push(await entryOf(rel, abs, info), ...children);
  }
}

/** Expands wildcard components, one directory level per component; `**` spans any depth. */
async function glob(root: string, components: string[], ignore: PatternMatcher | undefined): Promise<string[]> {
  let bases = [""];
  for (const component of components) {
    const next: string[] = [];
    for (const base of bases) {
      if (component === "**") {
        next.push(base, ...(await descendants(root, base, ignore)));
      } else if (!hasMeta(component)) {
        next.push(base === "" ? component : `${base}/${component}`);
      } else {
        for (const name of await listDir(root, base)) {
          const rel = base === "" ? name : `${base}/${name}`;
          if (goMatch(component, name) && !ignore?.matches(rel)) next.push(rel);
        }
      }
    }
    bases = [...new Set(next)];
  }
  return bases.sort(byBytes);
}

async function descendants(root: string, base: string, ignore: PatternMatcher | undefined): Promise<string[]> {
  const out: string[] = [];
  for (const name of await listDir(root, base)) {
    const rel = base === "" ? name : `${base}/${name}`;
    if (ignore?.matches(rel) && !ignore.mayIncludeBelow(rel)) continue;
    out.push(rel);
    const info = await lstatOrUndefined(join(root, rel));
    if (info?.isDirectory()) out.push(...(await descendants(root, rel, ignore)));
  }
  return out;
}

async function listDir(root: string, rel: string): Promise<string[]> {
  const where = await resolveInRoot(root, rel);
  return readdir(where.abs).catch(() => []);
}

async function entryOf(rel: string, path: string, info: Stats): Promise<SelectedEntry> {
  const kind = kindOf(info)!;
  return {
    rel,
    path,
    kind,
    mode: info.mode & 0o7777,
    uid: info.uid,
    gid: info.gid,
    size: kind === "file" ? info.size : 0,
    mtimeMs: info.mtimeMs,
    atimeMs: info.atimeMs,
    ctimeMs: info.ctimeMs,
    ino: info.ino,
    dev: info.dev,
    nlink: info.nlink,
    ...(kind === "symlink" ? { linkTarget: await readlink(path) } : {}),
  };
}

function kindOf(info: Stats): EntryKind | undefined {
  if (info.isFile()) return "file";
  if (info.isDirectory()) return "dir";
  if (info.isSymbolicLink()) return "symlink";
  return undefined; // sockets, fifos and devices are not copied
}

function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  return lstat(path).catch(() => undefined);
}

export function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
