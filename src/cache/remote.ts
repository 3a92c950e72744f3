/**
 * Cache in a registry, so CI machines share work.
 *
 * Registry cache (`--cache-to type=registry,ref=…`): an OCI image manifest whose config (media type
 * `application/vnd.build-image.cache.config.v1+json`) is the list of records, `{ key, parent, inputs, result }`,
 * and whose layers are the records' layer blobs. Any OCI registry stores it (it is an artifact manifest), and
 * `mode=min` exports the chain of the final image only, `mode=max` every step of every stage.
 *
 * Inline cache (`--cache-to type=inline`): the same list, as base64 JSON under INLINE_CACHE_FIELD in the
 * pushed image's config; the image's own layers are the blobs.
 *
 * Import (`--cache-from`) puts the records into the local cache — keeping local ones, and ignoring any whose
 * key does not hash from its parent and inputs — and fetches the layer blobs the store lacks, so the solver's
 * hit path unpacks them instead of running the steps.
 */
import { Readable } from "node:stream";
import { canonicalJson, chainIdOf, MediaType, sha256Digest, type Store } from "../layers/index.js";
import type { RegistryClient } from "../registry/index.js";
import type { Cache, CacheInputs, CacheRecord, CacheResult } from "./cache.js";
import { CacheError } from "./errors.js";
import { cacheKey, isCacheKey } from "./key.js";

export const CACHE_CONFIG_MEDIA_TYPE = "application/vnd.build-image.cache.config.v1+json";
/** The image config field inline cache is carried in. */
export const INLINE_CACHE_FIELD = "build-image.cache.v1";

/** One record as exported: what another machine needs to get a hit. */
export interface ExportedRecord {
  key: string;
  parent: string | null;
  inputs: CacheInputs;
  result: CacheResult;
}

export interface ExportCacheOptions {
  client: RegistryClient;
  /** Where to push, e.g. `127.0.0.1:5000/app:buildcache`. */
  ref: string;
  /** `min`: only the steps whose result is part of the final image; `max` (default): every record given. */
  mode?: "min" | "max";
  /** The keys (or records) of every step this build ran or hit, any stage. */
  records: Iterable<string | CacheRecord>;
  /** The final image's `rootfs.diff_ids` (needed for `min`). */
  finalDiffIds?: readonly string[];
  signal?: AbortSignal;
}

export interface ExportCacheResult {
  /** The cache manifest's digest. */
  digest: string;
  records: number;
  layers: number;
}

/** Pushes the build's cache records and their layers to `ref` as one artifact manifest. */
export async function exportCache(store: Store, cache: Cache, options: ExportCacheOptions): Promise<ExportCacheResult> {
  const records = await selectForExport(store, cache, options);
  const config = Buffer.from(canonicalJson({ version: 1, records: records.map(exported) }));
  const layers = uniqueLayers(records);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: sha256Digest(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    annotations: { "org.opencontainers.image.description": `build-image cache (${records.length} records)` },
  };
  const bytes = Buffer.from(canonicalJson(manifest));
  const pushed = await options.client.pushImage(options.ref, {
    manifest: { bytes, mediaType: MediaType.ociManifest },
    blobs: [
      { digest: manifest.config.digest, size: config.length, open: () => Readable.from([config]) },
      ...layers.map((l) => ({ digest: l.digest, size: l.size, open: () => store.content.open(l.digest) })),
    ],
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { digest: pushed.digest, records: records.length, layers: layers.length };
}

/**
 * The records to carry in an image's config for `type=inline`: the final image's chain (inline cache is
 * `mode=min` by nature: the image holds only its own layers). Returns the value for INLINE_CACHE_FIELD.
 */
export async function inlineCacheValue(store: Store, cache: Cache, options: { records: Iterable<string | CacheRecord>; finalDiffIds: readonly string[] }): Promise<string> {
  const records = await selectForExport(store, cache, { ...options, mode: "min" });
  return Buffer.from(canonicalJson({ version: 1, records: records.map(exported) })).toString("base64");
}

export interface ImportCacheOptions {
  client: RegistryClient;
  signal?: AbortSignal;
  /** Blobs fetched at once. Default 3. */
  concurrency?: number;
}

export interface ImportCacheResult {
  /** Records added to the local cache (records it already had are kept as they are). */
  records: number;
  /** Layer blobs fetched into the content store. */
  layers: number;
  /** Records left out because their key does not follow from their inputs. */
  rejected: number;
}

/**
 * Imports cache from `ref`: a registry cache manifest (exportCache), or an image whose config carries inline
 * cache. A reference that names neither is an error (CACHE_IMPORT_INVALID).
 */
export async function importCache(store: Store, cache: Cache, ref: string, options: ImportCacheOptions): Promise<ImportCacheResult> {
  const { client, signal } = options;
  const manifest = await client.getManifest(ref, signal ? { signal } : {});
  const body = manifest.manifest as { config?: { mediaType?: string; digest?: string; size?: number }; layers?: { digest: string; size: number; mediaType: string }[] };
  const configDesc = body.config;
  if (!configDesc?.digest) throw invalidImport(ref, "its manifest has no config");
  const configBytes = await readAll(client.fetchBlob(ref, configDesc.digest, { ...(configDesc.size === undefined ? {} : { size: configDesc.size }), ...(signal ? { signal } : {}) }));
  let list: unknown;
  if (configDesc.mediaType === CACHE_CONFIG_MEDIA_TYPE) list = parseJson(configBytes, ref);
  else {
    const inline = (parseJson(configBytes, ref) as Record<string, unknown>)[INLINE_CACHE_FIELD];
    if (typeof inline !== "string") throw invalidImport(ref, "it is neither a build-image cache nor an image with inline cache");
    list = parseJson(Buffer.from(inline, "base64"), ref);
  }
  const records = (list as { records?: unknown }).records;
  if (!Array.isArray(records)) throw invalidImport(ref, "its cache config lists no records");

  let added = 0;
  let rejected = 0;
  const wanted = new Map<string, { digest: string; size: number }>();
  for (const raw of records as ExportedRecord[]) {
    if (!isConsistent(raw)) {
      rejected++;
      continue;
    }
    const layer = raw.result.layer;
    if (layer && !(await store.content.has(layer.digest))) wanted.set(layer.digest, layer);
    if (await cache.get(raw.key)) continue;
    await cache.put(raw.key, { parent: raw.parent, inputs: raw.inputs, result: raw.result, slot: `imported|${ref}` });
    added++;
  }
  await fetchBlobs(store, client, ref, [...wanted.values()], options);
  return { records: added, layers: wanted.size, rejected };
}

async function fetchBlobs(store: Store, client: RegistryClient, ref: string, blobs: { digest: string; size: number }[], options: ImportCacheOptions): Promise<void> {
  const queue = [...blobs];
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    // After a failure no new blob starts, and the import settles once those in flight have finished.
    for (let blob = queue.shift(); blob && !failure; blob = queue.shift()) {
      const signal = options.signal ? { signal: options.signal } : {};
      try {
        // The content store checks the digest as it writes: no second hash in the client.
        await store.content.write(client.fetchBlob(ref, blob.digest, { size: blob.size, verify: false, ...signal }), { expected: blob.digest, size: blob.size, ...signal });
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 3, queue.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * The records to export: those given whose layer blob the store has; for `min`, only those whose snapshot is
 * one of the final image's chain prefixes (metadata steps make no record, so the image's chain, not the
 * records' parent links, says what belongs to it).
 */
async function selectForExport(store: Store, cache: Cache, options: { records: Iterable<string | CacheRecord>; mode?: "min" | "max"; finalDiffIds?: readonly string[] }): Promise<CacheRecord[]> {
  let chains: Set<string> | undefined;
  if (options.mode === "min") {
    if (!options.finalDiffIds) throw new CacheError("CACHE_EXPORT_INVALID", "mode=min cache export needs the final image's diff IDs", { hint: "pass finalDiffIds, or export with mode=max" });
    chains = new Set(options.finalDiffIds.map((_, i) => chainIdOf(options.finalDiffIds!.slice(0, i + 1))));
  }
  const out = new Map<string, CacheRecord>();
  for (const item of options.records) {
    const record = typeof item === "string" ? await cache.get(item) : item;
    if (!record || out.has(record.key)) continue;
    if (chains && !(record.result.chainId !== null && chains.has(record.result.chainId))) continue;
    if (!record.result.layer || (await store.content.has(record.result.layer.digest))) out.set(record.key, record);
  }
  return [...out.values()];
}

function exported(record: CacheRecord): ExportedRecord {
  return { key: record.key, parent: record.parent, inputs: record.inputs, result: record.result };
}

function uniqueLayers(records: CacheRecord[]) {
  const seen = new Map<string, NonNullable<CacheResult["layer"]>>();
  for (const r of records) if (r.result.layer && !seen.has(r.result.layer.digest)) seen.set(r.result.layer.digest, r.result.layer);
  return [...seen.values()];
}

/** A record is used only when its key is what its parent and inputs hash to, and its result is well formed. */
function isConsistent(raw: ExportedRecord): boolean {
  try {
    if (!isCacheKey(raw?.key) || (raw.parent !== null && !isCacheKey(raw.parent))) return false;
    if (typeof raw.inputs?.kind !== "string" || typeof raw.inputs.fields !== "object" || typeof raw.result?.empty !== "boolean") return false;
    const layer = raw.result.layer;
    if (layer && !(/^sha256:[0-9a-f]{64}$/.test(layer.digest) && /^sha256:[0-9a-f]{64}$/.test(layer.diffId) && Number.isSafeInteger(layer.size) && typeof layer.mediaType === "string")) return false;
    return cacheKey(raw.parent, raw.inputs) === raw.key;
  } catch {
    return false;
  }
}

function invalidImport(ref: string, why: string): CacheError {
  return new CacheError("CACHE_IMPORT_INVALID", `cannot import cache from ${ref}: ${why}`, {
    hint: "point --cache-from at a ref written by --cache-to type=registry, or at an image pushed with --cache-to type=inline",
  });
}

function parseJson(bytes: Buffer, ref: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new CacheError("CACHE_IMPORT_INVALID", `cannot import cache from ${ref}: its cache config is not JSON`, { hint: "re-export the cache with --cache-to", cause: err });
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
