/**
 * The build cache: what a step's result was the last time the same inputs were built.
 *
 * Vocabulary
 * - A **step** is one Dockerfile instruction of one stage, as the solver runs it.
 * - Its **inputs** (`CacheInputs`) are everything that decides its result, normalised by the solver: for RUN the
 *   expanded command, env, build args in scope, user, workdir, shell, network, mounts (secret ids, never values),
 *   security mode; for COPY/ADD the Merkle digest of exactly the selected sources plus flags and destination;
 *   for FROM the resolved manifest digest and platform; for metadata instructions the instruction's values.
 * - Its **key** is `cacheKey(parentKey, inputs)`: `sha256:<hex>` of a canonical encoding (sorted keys, a format
 *   version) that chains the key of the step before it, so a change anywhere changes every later key.
 *   A FROM step has no parent (`null`).
 * - A **record** (`CacheRecord`) is what a key produced: an empty (config-only) step, or a layer whose
 *   snapshot has chain ID `chainId` and whose compressed blob is `layer`.
 * - A **slot** names "the same step" across rebuilds, whatever its inputs are now
 *   (`<context dir>|<dockerfile path>|<stage>|<step index>`): it is how a miss finds what it is a miss against.
 *
 * Lifecycle, as the solver uses it
 * 1. `key = cacheKey(parent, inputs)`; `record = await cache.get(key)`.
 * 2. Hit (record present, and its snapshot and blob are still in the store): reuse `record.result`, nothing runs;
 *    `await cache.touch(key)` so prune sees it as recently used.
 *    The cache does not check the store on `get`: the solver that finds a snapshot or blob gone treats it as a miss.
 * 3. Miss: `reason = await cache.explainMiss(slot, parent, inputs)` for the progress output; run the step;
 *    `await cache.put(key, { parent, inputs, result, slot })`.
 *    With `--no-cache` the solver skips 1–2, says `--no-cache` itself, and still puts.
 *
 * Contracts
 * - `put` is atomic: the record is written under `<root>/tmp/` and renamed to `<root>/cache/records/<hex>.json`,
 *   so a reader sees the whole old record, the whole new one, or none. Two processes putting the same or
 *   different keys at once are safe; for the same key the last rename wins (both describe the same inputs).
 *   Records are not fsynced: after a power loss a torn record reads as absent (a miss), never as a wrong hit.
 * - `get` returns `undefined` for a missing or unreadable record; it never throws for a record's content.
 *   The record's `inputs` lack explanation-only fields (`files`), which live beside it and are read only by
 *   `explainMiss`, so a hit stays cheap for a 10,000-file COPY.
 * - `touch` sets `lastUsedAt` to now by changing the record file's mtime: one syscall, no rewrite.
 * - `explainMiss` never throws and never returns an empty string; its words are for people
 *   (`RUN: build arg VERSION changed`, `COPY src/: src/app.ts changed`, `parent step changed`,
 *   `no cache record (first build of this step)`).
 * - Keys are stable across processes, machines and versions of this package until `KEY_FORMAT` changes.
 */

/** What the solver keys a step on. Field values are strings, lists of strings, or string records. */
export interface CacheInputs {
  kind: "from" | "run" | "copy" | "add" | "workdir" | "meta";
  fields: Record<string, CacheField>;
}

export type CacheField = string | string[] | Record<string, string>;

/**
 * Fields that help explain a miss but are not part of the key: `files` (path → per-file digest of a COPY's
 * selection) is already covered by the Merkle digest in `sources`.
 */
export const EXPLAIN_ONLY_FIELDS: ReadonlySet<string> = new Set(["files"]);

export interface CacheLayer {
  /** The compressed layer blob in the content store. */
  digest: string;
  size: number;
  mediaType: string;
  /** The uncompressed tar's digest (the config's rootfs.diff_ids entry). */
  diffId: string;
}

export interface CacheResult {
  /** True for a step that made no layer (ENV, LABEL, WORKDIR of an existing dir, …). */
  empty: boolean;
  /** The chain ID of the snapshot after this step (the parent's for an empty step; null on `scratch`). */
  chainId: string | null;
  layer?: CacheLayer;
}

export interface CacheRecord {
  key: string;
  parent: string | null;
  inputs: CacheInputs;
  result: CacheResult;
  /** ms since the epoch. */
  createdAt: number;
  lastUsedAt: number;
  slot: string;
}

/** What `put` needs; `key`, `createdAt` and `lastUsedAt` are filled in. */
export interface NewCacheRecord {
  parent: string | null;
  inputs: CacheInputs;
  result: CacheResult;
  slot: string;
}

export interface Cache {
  /** The store root this cache lives in (`<root>/cache/`). */
  readonly root: string;
  get(key: string): Promise<CacheRecord | undefined>;
  put(key: string, record: NewCacheRecord): Promise<CacheRecord>;
  /** Marks a record used at `time` (default now); nothing happens for a missing key. */
  touch(key: string, time?: number): Promise<void>;
  explainMiss(slot: string, parent: string | null, inputs: CacheInputs): Promise<string>;
  /** Every record, oldest `lastUsedAt` first (for prune and du). */
  list(): Promise<CacheRecord[]>;
  /** Removes records (and their explanation sidecars and index entries); returns how many existed. */
  remove(keys: Iterable<string>): Promise<number>;
}
