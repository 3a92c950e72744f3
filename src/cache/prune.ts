import { join } from "node:path";
import { gc, type Digest, type GcStore } from "../layers/index.js";
import type { CacheRecord } from "./cache.js";
import { cacheAccounting, treeBytes, type CacheAccounting } from "./disk-usage.js";
import { CacheError } from "./errors.js";
import { removeCacheMounts } from "./mounts.js";
import { openCache, recordFileBytes, removeDanglingSlots } from "./record-store.js";

export interface PruneOptions {
  /** Also records whose result is part of a local image, and (without the other filters) every idle cache mount. */
  all?: boolean;
  /** Remove oldest records only until the cache holds at most this many bytes (beyond what images hold). */
  keepStorage?: number;
  /** Remove only records last used more than this many ms ago. */
  until?: number;
  /**
   * Spare blobs written less than this long ago, so a build running at the same time keeps the layers it has
   * written but not yet recorded. Default 60 s.
   */
  gracePeriodMs?: number;
  signal?: AbortSignal;
}

export interface PruneResult {
  /** Keys of the removed cache records, oldest first. */
  records: string[];
  blobs: Digest[];
  snapshots: Digest[];
  /** Cache mount directories removed (`--all`), and those kept because a RUN is using them. */
  mounts: string[];
  mountsInUse: string[];
  /** Bytes freed: records, blobs, snapshot files and cache mounts. */
  freedBytes: number;
}

/**
 * Removes cache records, oldest `lastUsedAt` first, then every blob and snapshot nothing references any
 * more (layers' `gc`, with the remaining records' layers and chains as extra roots, read under the index
 * lock so a record put meanwhile keeps its layer).
 *
 * Which records go: those not used by a local image (all of them with `all`), last used before `until`
 * when given; with `keepStorage`, only as many of those, oldest first, as it takes to bring what the cache
 * holds down to `keepStorage` bytes.
 */
export async function prune(store: GcStore, options: PruneOptions = {}): Promise<PruneResult> {
  const { signal } = options;
  for (const [name, value] of [["keepStorage", options.keepStorage], ["until", options.until]] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new CacheError("CACHE_PRUNE_INVALID", `prune ${name} must be a number ≥ 0, got ${value}`, { hint: "e.g. keepStorage: 10e9 (bytes), until: 86_400_000 (ms)" });
    }
  }
  const cache = await openCache(store.root);
  const records = await cache.list();
  const fileBytes = await recordFileBytes(store.root);
  const accounting = await cacheAccounting(store, records, (key) => fileBytes.get(key) ?? 0, signal);
  const cutoff = options.until === undefined ? Infinity : Date.now() - options.until;
  const ordered = inPruneOrder(records);
  const eligible = ordered.filter(({ record, lastUsedAt }) => (options.all || !accounting.usedByImages(record)) && lastUsedAt < cutoff).map((o) => o.record);
  const chosen = options.keepStorage === undefined ? eligible : oldestOverBudget(records, eligible, accounting, options.keepStorage);
  const going = withoutAncestorsOfKept(records, chosen);

  const snapshotsDir = join(store.root, "snapshots");
  const snapshotBytesBefore = await treeBytes(snapshotsDir, signal);
  await cache.remove(going.map((r) => r.key));
  await removeDanglingSlots(store.root);
  const recordBytes = going.reduce((n, r) => n + (fileBytes.get(r.key) ?? 0), 0);

  const removedMounts = { removed: [] as string[], inUse: [] as string[] };
  let mountBytes = 0;
  if (options.all && options.until === undefined && options.keepStorage === undefined) {
    mountBytes = await treeBytes(join(store.root, "cache", "mounts"), signal);
    Object.assign(removedMounts, await removeCacheMounts(store.root));
    mountBytes -= await treeBytes(join(store.root, "cache", "mounts"), signal);
  }

  const collected = await gc(store, {
    roots: async () => {
      const kept = await cache.list();
      return {
        blobs: kept.flatMap((r) => (r.result.layer ? [r.result.layer.digest] : [])),
        chainIds: kept.flatMap((r) => (r.result.chainId ? [r.result.chainId] : [])),
      };
    },
    gracePeriodMs: options.gracePeriodMs ?? 60_000,
    ...(signal ? { signal } : {}),
  });
  const snapshotBytesFreed = Math.max(0, snapshotBytesBefore - (await treeBytes(snapshotsDir, signal)));
  return {
    records: going.map((r) => r.key),
    blobs: collected.removedBlobs,
    snapshots: collected.removedSnapshots,
    mounts: removedMounts.removed,
    mountsInUse: removedMounts.inUse,
    freedBytes: recordBytes + collected.freedBytes + snapshotBytesFreed + Math.max(0, mountBytes),
  };
}

/**
 * Records in the order they may go: a record counts as used when any step built on it was (a hit on step 5
 * needs steps 1–4's layers for the image), and at equal times the later step goes first, so a record never
 * goes while one that stacks on it stays.
 */
function inPruneOrder(records: CacheRecord[]): { record: CacheRecord; lastUsedAt: number }[] {
  const byKey = new Map(records.map((r) => [r.key, r]));
  const lastUsed = new Map(records.map((r) => [r.key, r.lastUsedAt]));
  const depth = new Map<string, number>();
  for (const record of records) {
    let d = 0;
    for (let p = byKey.get(record.parent ?? ""); p; p = byKey.get(p.parent ?? "")) {
      lastUsed.set(p.key, Math.max(lastUsed.get(p.key)!, record.lastUsedAt));
      if (++d > records.length) break; // a cycle cannot happen with hashed keys; guard anyway
    }
    depth.set(record.key, d);
  }
  return records
    .map((record) => ({ record, lastUsedAt: lastUsed.get(record.key)! }))
    .sort((a, b) => a.lastUsedAt - b.lastUsedAt || depth.get(b.record.key)! - depth.get(a.record.key)! || a.record.key.localeCompare(b.record.key));
}

/** `going` minus every record a remaining record stacks on: those stay with it. */
function withoutAncestorsOfKept(records: CacheRecord[], going: CacheRecord[]): CacheRecord[] {
  const byKey = new Map(records.map((r) => [r.key, r]));
  const goingKeys = new Set(going.map((r) => r.key));
  const needed = new Set<string>();
  for (const record of records) {
    if (goingKeys.has(record.key)) continue;
    for (let p = byKey.get(record.parent ?? ""); p && !needed.has(p.key); p = byKey.get(p.parent ?? "")) needed.add(p.key);
  }
  return going.filter((r) => !needed.has(r.key));
}

/** The oldest of `eligible` whose removal brings what all records hold down to `budget` bytes. */
function oldestOverBudget(all: CacheRecord[], eligible: CacheRecord[], accounting: CacheAccounting, budget: number): CacheRecord[] {
  const refs = new Map<string, number>();
  let total = 0;
  for (const record of all) {
    total += accounting.recordBytes(record);
    for (const item of accounting.holdings(record)) {
      const n = refs.get(item) ?? 0;
      if (n === 0) total += accounting.sizeOf(item);
      refs.set(item, n + 1);
    }
  }
  const going: CacheRecord[] = [];
  for (const record of eligible) {
    if (total <= budget) break;
    going.push(record);
    total -= accounting.recordBytes(record);
    for (const item of accounting.holdings(record)) {
      const n = refs.get(item)! - 1;
      refs.set(item, n);
      if (n === 0) total -= accounting.sizeOf(item);
    }
  }
  return going;
}
