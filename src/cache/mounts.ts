/**
 * `RUN --mount=type=cache` directories: kept apart from the layer cache under `<root>/cache/mounts/`, never
 * part of a layer, removed only by `prune --all`. One directory per id (plus extra instances for `private`):
 * - `shared` (the default): every RUN uses the same directory at once;
 * - `locked`: one RUN at a time; a second waits until the first releases it;
 * - `private`: a RUN gets a directory no other running RUN uses: the main one when free, else another
 *   instance (`<id>.private-N`), made on demand and kept for later builds.
 */
import { createHash } from "node:crypto";
import { chown, mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { CacheError } from "./errors.js";
import { lockExclusive, lockShared, type HeldLock } from "./mount-lock.js";

export type CacheMountSharing = "shared" | "private" | "locked";

export interface AcquireCacheMountOptions {
  id: string;
  sharing: CacheMountSharing;
  /** Owner and mode of the directory when it is first made (`uid=`, `gid=`, `mode=` of the mount). */
  uid?: number;
  gid?: number;
  mode?: number;
  signal?: AbortSignal;
  /** For `locked`: give up with CACHE_MOUNT_LOCKED after this long. Default: wait as long as it takes. */
  timeoutMs?: number;
}

export interface CacheMount {
  /** The host directory to bind at the mount's target. */
  dir: string;
  /** Ends this RUN's use of the directory; safe to call twice. */
  release(): Promise<void>;
}

/** A file name made of an id: readable where it can be, with a hash so distinct ids never collide. */
export function safeMountId(id: string): string {
  if (id === "") throw new CacheError("CACHE_MOUNT_INVALID", "a cache mount id is empty", { hint: "give --mount=type=cache an id= or a target=" });
  const readable = id.replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 60) || "id";
  return `${readable}-${createHash("sha256").update(id).digest("hex").slice(0, 12)}`;
}

/** Where instance `instance` (0: the main one) of cache mount `id` lives. */
export function cacheMountDir(root: string, id: string, instance = 0): string {
  const base = join(root, "cache", "mounts", safeMountId(id));
  return instance === 0 ? base : `${base}.private-${instance}`;
}

function lockDirOf(mountDir: string): string {
  return join(mountDir, "..", ".locks", mountDir.slice(mountDir.lastIndexOf("/") + 1));
}

async function ensureDir(dir: string, options: AcquireCacheMountOptions): Promise<void> {
  const existed = await stat(dir).then(() => true, () => false);
  if (existed) return;
  await mkdir(dir, { recursive: true, mode: options.mode ?? 0o755 });
  if (options.uid !== undefined || options.gid !== undefined) await chown(dir, options.uid ?? 0, options.gid ?? 0);
}

function held(dir: string, lock: HeldLock): CacheMount {
  let released = false;
  return {
    dir,
    release: async () => {
      if (released) return;
      released = true;
      await lock.release();
    },
  };
}

/** Takes cache mount `id` for one RUN, with the sharing mode's rules (see the top of this file). */
export async function acquireCacheMount(root: string, options: AcquireCacheMountOptions): Promise<CacheMount> {
  const { id, sharing, signal } = options;
  if (!["shared", "private", "locked"].includes(sharing)) {
    throw new CacheError("CACHE_MOUNT_INVALID", `cache mount sharing '${sharing}' is not shared, private or locked`, { hint: "use sharing=shared, sharing=private or sharing=locked" });
  }
  const wait = signal === undefined ? {} : { signal };
  if (sharing === "private") {
    for (let instance = 0; ; instance++) {
      const dir = cacheMountDir(root, id, instance);
      const lock = await lockExclusive(lockDirOf(dir), { ...wait, timeoutMs: 0 });
      if (!lock) continue;
      await ensureDir(dir, options);
      return held(dir, lock);
    }
  }
  const dir = cacheMountDir(root, id);
  const lock =
    sharing === "shared"
      ? await lockShared(lockDirOf(dir), wait)
      : await lockExclusive(lockDirOf(dir), options.timeoutMs === undefined ? wait : { ...wait, timeoutMs: options.timeoutMs });
  if (!lock) {
    throw new CacheError("CACHE_MOUNT_LOCKED", `cache mount '${id}' stayed locked by another build for ${options.timeoutMs} ms`, {
      hint: "another RUN with sharing=locked holds it; wait for that build, or use sharing=shared or private",
    });
  }
  await ensureDir(dir, options);
  return held(dir, lock);
}

export interface StoredCacheMount {
  /** The directory's name under cache/mounts/ (the id made safe, plus `.private-N` for extra instances). */
  name: string;
  dir: string;
}

export async function listCacheMounts(root: string): Promise<StoredCacheMount[]> {
  const base = join(root, "cache", "mounts");
  const names = await readdir(base).catch(() => [] as string[]);
  return names.filter((n) => n !== ".locks").sort().map((name) => ({ name, dir: join(base, name) }));
}

/** Removes every cache mount no RUN is using now; returns the names removed and those skipped as in use. */
export async function removeCacheMounts(root: string): Promise<{ removed: string[]; inUse: string[] }> {
  const removed: string[] = [];
  const inUse: string[] = [];
  for (const mount of await listCacheMounts(root)) {
    const lock = await lockExclusive(lockDirOf(mount.dir), { timeoutMs: 0 });
    if (!lock) {
      inUse.push(mount.name);
      continue;
    }
    try {
      await rm(mount.dir, { recursive: true, force: true });
      removed.push(mount.name);
    } finally {
      await lock.release();
    }
  }
  return { removed, inUse };
}
