import type { Readable } from "node:stream";

/**
 * Snapshots: the union filesystem, after containerd's snapshotter.
 *
 * A committed snapshot is one layer unpacked on disk, named by its OCI chain ID (the layer and all below
 * it). An active snapshot is a writable root made on top of a committed chain (or of nothing) by
 * `prepare`; it ends in exactly one `commit` (it becomes a committed snapshot and a layer blob in the
 * content store) or `abort` (it is thrown away). Mounts never outlive those calls, even when they throw.
 *
 * Lifecycle of a RUN step:
 *
 *     const active = await snapshots.prepare(parentChainId);     // overlay mounted at active.root
 *     try { await runInRoot(active.root) } catch (e) { await active.abort(); throw e }
 *     const layer = await active.commit({ sourceDateEpoch });  // unmounted, diff → tar → gzip → store
 *     // layer.empty: nothing changed, no blob; otherwise layer.digest is the blob, layer.chainId the snapshot
 *
 * Importing a pulled layer: `applyLayer(parent, contentStore.open(digest), { mediaType, diffId })`.
 * Reading a committed chain (COPY --from, RUN --mount=from): `view(chainId)`, then `release()`.
 *
 * On disk (`<root>/snapshots/`): `<id>/fs` per snapshot with short numeric ids, `<id>/meta.json` once
 * committed, `chains/<hex>` → `../<id>` as the chain ID index (one symlink each, made atomically), and
 * `empty/` as the bottom of mounts with no parent. Two implementations share that layout:
 * - overlay: `fs` is an overlay upper dir (whiteouts 0/0 char devices, opaque dirs by xattr); a chain is
 *   mounted with its layers as `lowerdir`, relative to `snapshots/`, flattened into one snapshot before
 *   the lower dir count or the option string would reach overlay's limits.
 * - copy (no overlayfs, e.g. an unprivileged container): `fs` is the whole tree; `prepare` copies the
 *   parent (reflinks when the filesystem has them) and `commit` finds the diff by walking both trees.
 */
export interface Snapshotter {
  readonly kind: "overlay" | "copy";
  /** A writable root on top of `parent` (a committed chain ID, or null for an empty root). */
  prepare(parent: string | null, opts?: { signal?: AbortSignal }): Promise<ActiveSnapshot>;
  /** A read-only root of a committed chain; `release` unmounts it. Throws SNAPSHOT_NOT_FOUND. */
  view(chainId: string, opts?: { signal?: AbortSignal }): Promise<SnapshotView>;
  has(chainId: string): Promise<boolean>;
  /**
   * Unpacks a layer blob (tar, gzip or zstd, by `mediaType`) on top of `parent` into a new committed
   * snapshot, hardened against path escapes (LAYER_* errors naming the entry). With `diffId`, the tar
   * must hash to it (LAYER_DIFF_ID_MISMATCH), and an already present chain is reused without reading.
   */
  applyLayer(parent: string | null, blob: Readable, opts: ApplyLayerOptions): Promise<{ chainId: string; diffId: string }>;
  /** Forgets a chain; its files go once no other snapshot stacks on them. False when it was not there. */
  remove(chainId: string): Promise<boolean>;
  list(): Promise<SnapshotInfo[]>;
}

export interface ApplyLayerOptions {
  mediaType: string;
  diffId?: string;
  signal?: AbortSignal;
}

export interface ActiveSnapshot {
  /** The writable root filesystem: run in it, copy into it. */
  readonly root: string;
  /**
   * The overlay upper dir behind `root` (overlay snapshotter only): the sandbox uses it to remove
   * directories overlayfs copied up only to hold a mountpoint, so an unchanged root diffs empty.
   */
  readonly upperDir?: string;
  readonly parent: string | null;
  /** Ends the snapshot: unmounts, stores the diff as a gzip layer, registers the new chain. */
  commit(opts?: CommitOptions): Promise<CommittedLayer>;
  /** Ends the snapshot: unmounts and removes it. Safe to call after a failed commit. */
  abort(): Promise<void>;
}

export interface CommitOptions {
  /** SOURCE_DATE_EPOCH (seconds): file times in the layer are clamped to it, for reproducible digests. */
  sourceDateEpoch?: number;
  /** gzip level 1–9 for compressible data (default 6, as gzip and Docker); random-looking data is stored. */
  compressionLevel?: number;
  signal?: AbortSignal;
}

export type CommittedLayer =
  | { empty: true; chainId: string | null }
  | {
      empty: false;
      chainId: string;
      /** sha256 of the uncompressed tar (goes into the config's rootfs.diff_ids). */
      diffId: string;
      /** The blob in the content store (goes into the manifest's layers). */
      digest: string;
      size: number;
      mediaType: string;
    };

export interface SnapshotView {
  readonly root: string;
  release(): Promise<void>;
}

export interface SnapshotInfo {
  chainId: string;
  parent: string | null;
  diffId: string;
  /** The short on-disk id (`snapshots/<id>`). */
  id: number;
}
