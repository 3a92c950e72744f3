import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { chainIdOf, walkImages, readLocalIndex, type Digest, type GcStore } from "../layers/index.js";
import type { CacheRecord } from "./cache.js";

/** Bytes of the files under `dir` (apparent sizes, each hard-linked inode once); 0 when it is missing. */
export async function treeBytes(dir: string, signal?: AbortSignal): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  const stack = [dir];
  for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
    signal?.throwIfAborted();
    const info = await lstat(path).catch(() => undefined);
    if (!info) continue;
    if (info.isDirectory()) {
      for (const name of await readdir(path).catch(() => [] as string[])) stack.push(join(path, name));
      continue;
    }
    if (info.nlink > 1) {
      if (seen.has(info.ino)) continue;
      seen.add(info.ino);
    }
    total += info.size;
  }
  return total;
}

/**
 * What the cache costs on disk beyond what local images need anyway: a record holds its record file, its
 * layer blob and the snapshots of its chain (with their parents), unless an image holds them too. Items a
 * record holds are named `blob <digest>` / `snapshot <chainId>`, so records sharing one count it once.
 */
export interface CacheAccounting {
  /** True for a record whose result is part of a local image (its chain or its layer). */
  usedByImages(record: CacheRecord): boolean;
  /** The blobs and snapshots the record keeps alive that no image keeps. */
  holdings(record: CacheRecord): string[];
  sizeOf(item: string): number;
  /** Bytes of the record's own files. */
  recordBytes(record: CacheRecord): number;
}

export async function cacheAccounting(store: GcStore, records: CacheRecord[], recordBytes: (key: string) => number, signal?: AbortSignal): Promise<CacheAccounting> {
  const index = await readLocalIndex(store.root);
  const graph = await walkImages(store, index.manifests, signal);
  const imageChains = new Set<Digest>();
  for (const image of graph.images) {
    const diffIds = image.config?.rootfs.diff_ids ?? [];
    for (let i = 1; i <= diffIds.length; i++) imageChains.add(chainIdOf(diffIds.slice(0, i)));
  }
  const snapshots = await store.snapshots.list();
  const parentOf = new Map(snapshots.map((s) => [s.chainId, s.parent]));
  const snapshotBytes = new Map<Digest, number>();
  for (const s of snapshots) snapshotBytes.set(s.chainId, await treeBytes(join(store.root, "snapshots", String(s.id), "fs"), signal));
  const blobBytes = new Map<Digest, number>();
  for (const record of records) {
    const layer = record.result.layer;
    if (layer && !blobBytes.has(layer.digest)) blobBytes.set(layer.digest, await store.content.size(layer.digest).catch(() => 0));
  }
  return {
    usedByImages: (record) => (record.result.chainId !== null && imageChains.has(record.result.chainId)) || (record.result.layer !== undefined && graph.blobs.has(record.result.layer.digest)),
    holdings(record) {
      const held: string[] = [];
      const layer = record.result.layer;
      if (layer && !graph.blobs.has(layer.digest) && blobBytes.get(layer.digest)) held.push(`blob ${layer.digest}`);
      for (let chain = record.result.chainId; chain; chain = parentOf.get(chain) ?? null) {
        if (!imageChains.has(chain) && snapshotBytes.has(chain)) held.push(`snapshot ${chain}`);
      }
      return held;
    },
    sizeOf: (item) => (item.startsWith("blob ") ? (blobBytes.get(item.slice(5)) ?? 0) : (snapshotBytes.get(item.slice(9)) ?? 0)),
    recordBytes: (record) => recordBytes(record.key),
  };
}

/** Bytes `records` hold together (shared items once). */
export function bytesHeld(accounting: CacheAccounting, records: CacheRecord[]): number {
  const items = new Set(records.flatMap((r) => accounting.holdings(r)));
  let bytes = records.reduce((n, r) => n + accounting.recordBytes(r), 0);
  for (const item of items) bytes += accounting.sizeOf(item);
  return bytes;
}
