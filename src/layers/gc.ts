/**
 * Garbage collection: removes blobs and snapshots nothing references. Roots are every entry of the
 * root's index.json (tagged or kept untagged) plus what the caller adds (cache records, a build in
 * progress); from them the walk reaches indexes, manifests, configs and layers, and each image's layer
 * stack names the snapshots it keeps (the chain IDs of every prefix of its diff IDs).
 *
 * It holds the index lock while it marks and sweeps, so no tag lands in between. Blobs a concurrent
 * build has written but not yet referenced are not protected by the lock: pass them as roots, or a
 * `gracePeriodMs` that spares anything younger.
 */
import { stat } from "node:fs/promises";
import { chainIdOf, type Digest } from "./digest.js";
import type { ImageStore } from "./image-store.js";
import { walkImages } from "./image-walk.js";
import { withIndexLock } from "./local-images-lock.js";
import { readLocalIndex } from "./local-images.js";
import type { Snapshotter } from "./snapshots.js";

export interface GcRoots {
  /** Blob digests to keep; a manifest or index among them keeps everything it references. */
  digests?: Iterable<Digest>;
  /** Blob digests to keep as they are, never read (layers: reading them to look for a manifest would be waste). */
  blobs?: Iterable<Digest>;
  /** Snapshot chain IDs to keep (each keeps its parents). */
  chainIds?: Iterable<Digest>;
}

export interface GcOptions {
  /** Extra roots, or a function asked for them under the lock (e.g. the cache's records). */
  roots?: GcRoots | (() => Promise<GcRoots>);
  /** Spare blobs modified less than this long ago. Default 0. */
  gracePeriodMs?: number;
  /** Report what would go, remove nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface GcResult {
  removedBlobs: Digest[];
  removedSnapshots: Digest[];
  /** Bytes of the removed blobs (snapshot files not counted). */
  freedBytes: number;
}

export interface GcStore extends ImageStore {
  snapshots: Pick<Snapshotter, "list" | "remove">;
}

export async function gc(store: GcStore, options: GcOptions = {}): Promise<GcResult> {
  return withIndexLock(store.root, () => collect(store, options), options.signal ? { signal: options.signal } : {});
}

async function collect(store: GcStore, options: GcOptions): Promise<GcResult> {
  const { signal } = options;
  const extra = typeof options.roots === "function" ? await options.roots() : (options.roots ?? {});
  const index = await readLocalIndex(store.root);
  const graph = await walkImages(store, [...index.manifests, ...[...(extra.digests ?? [])].map((digest) => ({ digest }))], signal);

  for (const digest of extra.blobs ?? []) graph.blobs.add(digest);
  const keptChains = new Set<Digest>(extra.chainIds ?? []);
  for (const image of graph.images) {
    const diffIds = image.config?.rootfs.diff_ids ?? [];
    for (let i = 1; i <= diffIds.length; i++) keptChains.add(chainIdOf(diffIds.slice(0, i)));
  }
  const snapshots = await store.snapshots.list();
  // A kept chain keeps its parents even when no image names that prefix (a cache record's chain).
  const byChain = new Map(snapshots.map((s) => [s.chainId, s]));
  for (const chainId of [...keptChains]) {
    for (let parent = byChain.get(chainId)?.parent; parent; parent = byChain.get(parent)?.parent) keptChains.add(parent);
  }

  const result: GcResult = { removedBlobs: [], removedSnapshots: [], freedBytes: 0 };
  const youngest = Date.now() - (options.gracePeriodMs ?? 0);
  for (const digest of await store.content.list()) {
    signal?.throwIfAborted();
    if (graph.blobs.has(digest)) continue;
    const info = await stat(store.content.path(digest)).catch(() => undefined);
    if (!info || info.mtimeMs > youngest) continue;
    if (!options.dryRun) await store.content.delete(digest);
    result.removedBlobs.push(digest);
    result.freedBytes += info.size;
  }
  for (const snapshot of snapshots) {
    signal?.throwIfAborted();
    if (keptChains.has(snapshot.chainId)) continue;
    if (!options.dryRun) await store.snapshots.remove(snapshot.chainId);
    result.removedSnapshots.push(snapshot.chainId);
  }
  return result;
}
