import { lstat, mkdir, readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { openContentStore, type ContentStore } from "./content-store.js";
import { canMountOverlay, mountsUnder, unmount } from "./overlay.js";
import { isOwnedName, ownerAlive } from "./process-owner.js";
import { copySnapshotter } from "./snapshots-copy.js";
import { prune, type SnapshotDirs } from "./snapshots-common.js";
import { overlaySnapshotter } from "./snapshots-overlay.js";
import type { Snapshotter } from "./snapshots.js";
import { StoreError } from "./store-errors.js";

/**
 * The store on disk (DESIGN.md, "The store on disk"): one root holding the content store, the
 * snapshots and the OCI layout's index.json (written with oci-layout by the image functions, when the
 * first image is tagged).
 */
export interface Store {
  readonly root: string;
  readonly content: ContentStore;
  readonly snapshots: Snapshotter;
  /** Nothing stays open between calls; kept so callers can say when they are done. */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** "auto" (default): overlay when this process can mount it, else copy. */
  snapshotter?: "auto" | "overlay" | "copy";
  /** Flatten overlay chains deeper than this (default 128; tests set it low). */
  maxLowers?: number;
}

/**
 * Opens (creating when missing) the store at `root`: makes the layout, then cleans what a killed process
 * left — its temporary files, its mounts and its half-made or active snapshots — and picks a snapshotter.
 * Another live process's work is left alone (every such entry names its owner).
 */
export async function openStore(root: string, opts: OpenStoreOptions = {}): Promise<Store> {
  root = resolve(root);
  const dirs: SnapshotDirs = { dir: join(root, "snapshots"), tmp: join(root, "tmp") };
  for (const sub of ["blobs/sha256", "tmp", "snapshots", "cache"]) await mkdir(join(root, sub), { recursive: true });
  await cleanTmp(dirs.tmp);
  const content = await openContentStore(root);
  const kind = opts.snapshotter ?? "auto";
  const overlay = kind !== "copy" && (await canMountOverlay(dirs.tmp));
  if (kind === "overlay" && !overlay) {
    throw new StoreError("SNAPSHOT_MOUNT_FAILED", "overlayfs cannot be mounted here", {
      hint: "Run as root on a kernel with overlayfs, or use the copy snapshotter (--snapshotter copy).",
    });
  }
  const snapshots = overlay
    ? await overlaySnapshotter(dirs, content, opts.maxLowers === undefined ? {} : { maxLowers: opts.maxLowers })
    : await copySnapshotter(dirs, content);
  await prune(dirs);
  return { root, content, snapshots, close: async () => undefined };
}

/** Entries in tmp/ without an owner tag are left this long: their writer cannot be asked whether it lives. */
const FOREIGN_TMP_MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * Removes tmp/ entries whose owner process is gone, unmounting any view left mounted there. Names that
 * carry no owner tag (see process-owner.ts) are removed only once they are a day old.
 */
async function cleanTmp(tmp: string): Promise<void> {
  for (const name of await readdir(tmp)) {
    const path = join(tmp, name);
    if (!(await isStale(path, name))) continue;
    for (const mount of await mountsUnder(path)) await unmount(mount);
    await rm(path, { recursive: true, force: true });
  }
}

async function isStale(path: string, name: string): Promise<boolean> {
  if (isOwnedName(name)) return !ownerAlive(name);
  const info = await lstat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > FOREIGN_TMP_MAX_AGE_MS;
}
