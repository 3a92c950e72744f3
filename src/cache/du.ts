import { stat } from "node:fs/promises";
import { join } from "node:path";
import { readLocalIndex, type GcStore } from "../layers/index.js";
import { bytesHeld, cacheAccounting, treeBytes } from "./disk-usage.js";
import { listCacheMounts } from "./mounts.js";
import { openCache, recordFileBytes } from "./record-store.js";

export interface DiskUsage {
  root: string;
  /** Entries of index.json (tags and kept untagged images). */
  images: { count: number };
  blobs: { count: number; bytes: number };
  snapshots: { count: number; bytes: number };
  /** `bytes`: the record files; `reclaimableBytes`: what `prune --all` would free of records, blobs and snapshots. */
  cacheRecords: { count: number; bytes: number; reclaimableBytes: number };
  cacheMounts: { count: number; bytes: number; mounts: { name: string; bytes: number }[] };
  /** Blobs + snapshots + cache records + cache mounts. */
  totalBytes: number;
}

/** What the store at `store.root` holds, with sizes (apparent sizes; hard links counted once). */
export async function du(store: GcStore, options: { signal?: AbortSignal } = {}): Promise<DiskUsage> {
  const { signal } = options;
  const blobs = await store.content.list();
  let blobBytes = 0;
  for (const digest of blobs) blobBytes += (await stat(store.content.path(digest)).catch(() => undefined))?.size ?? 0;
  const snapshots = await store.snapshots.list();
  const snapshotBytes = await treeBytes(join(store.root, "snapshots"), signal);
  const records = await (await openCache(store.root)).list();
  const fileBytes = await recordFileBytes(store.root);
  const accounting = await cacheAccounting(store, records, (key) => fileBytes.get(key) ?? 0, signal);
  const mounts = [];
  for (const mount of await listCacheMounts(store.root)) mounts.push({ name: mount.name, bytes: await treeBytes(mount.dir, signal) });
  const recordBytes = [...fileBytes.values()].reduce((a, b) => a + b, 0);
  const mountBytes = mounts.reduce((n, m) => n + m.bytes, 0);
  return {
    root: store.root,
    images: { count: (await readLocalIndex(store.root)).manifests.length },
    blobs: { count: blobs.length, bytes: blobBytes },
    snapshots: { count: snapshots.length, bytes: snapshotBytes },
    cacheRecords: { count: records.length, bytes: recordBytes, reclaimableBytes: bytesHeld(accounting, records) },
    cacheMounts: { count: mounts.length, bytes: mountBytes, mounts },
    totalBytes: blobBytes + snapshotBytes + recordBytes + mountBytes,
  };
}
