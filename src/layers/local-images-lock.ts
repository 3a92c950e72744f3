/**
 * A lock file beside index.json, so two processes updating the local image index do not lose each
 * other's tags. `open(…, "wx")` is atomic; the file holds the owner's tag (pid and start time) so a lock left by a killed
 * process is taken over instead of blocking forever.
 */
import { open, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ImageError } from "./image-errors.js";
import { ownerAlive, ownerTag } from "./process-owner.js";

export interface LockOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A lock whose file is still empty this long after creation belongs to a process that died mid-write. */
const EMPTY_LOCK_GRACE_MS = 5_000;

export async function withIndexLock<T>(root: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = join(root, "index.json.lock");
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let delay = 2;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await tryCreate(lockPath)) break;
    if (await isStale(lockPath)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new ImageError("IMAGE_INDEX_LOCKED", `the image index of ${root} is locked by another process`, {
        hint: `wait for the other build-image process to finish; if none runs, remove ${lockPath}`,
      });
    }
    await sleep(delay, undefined, { signal: options.signal });
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function tryCreate(lockPath: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, "wx");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    await handle.writeFile(`${ownerTag()}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

async function isStale(lockPath: string): Promise<boolean> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, { mtimeMs }] = await Promise.all([readFile(lockPath, "utf8"), stat(lockPath)]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false; // released meanwhile: just retry
    throw err;
  }
  const owner = text.trim();
  if (owner === "") return Date.now() - mtimeMs > EMPTY_LOCK_GRACE_MS;
  return !ownerAlive(owner);
}
