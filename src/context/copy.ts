// Copying a selection into a root filesystem with Docker's destination rules. Files are copied
// by the kernel (copy_file_range / reflink via fs.copyFile), never read into memory; every
// target's parent is resolved inside the rootfs; hardlinks within the selection stay hardlinks;
// modes are kept unless --chmod; owners are 0:0 (or the source's, for stages) unless --chown;
// mtimes are kept, directory times set last.
import { constants } from "node:fs";
import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, stat, symlink, utimes } from "node:fs/promises";
import { basename, join, posix } from "node:path";
import { clearTarget, destNotDir, ensureDirInRoot, resolveDestination, type DestinationOptions } from "./dest.js";
import { ContextError } from "./errors.js";
import { resolveInRoot } from "./in-root.js";
import type { Chmod } from "./chmod.js";
import { landedMetadata } from "./landed.js";
import type { SelectedEntry, Selection } from "./select.js";

export interface Owner {
  uid: number;
  gid: number;
}

export interface CopyOptions extends DestinationOptions {
  chown?: Owner;
  chmod?: Chmod;
  signal?: AbortSignal;
}

/** What one entry becomes: the host path to create and the metadata to give it. */
interface Placement {
  entry: SelectedEntry;
  /** Destination path (absolute inside the rootfs) of the entry. */
  path: string;
  owner: Owner;
  mode: number;
}

/**
 * COPY's destination rules: a trailing slash (or an existing directory) means "into this
 * directory"; several sources need a directory (COPY_DEST_NOT_DIR otherwise); a directory source
 * copies its contents; a single file to a non-directory destination becomes that file.
 */
export async function copyIntoRoot(selection: Selection, rootfs: string, dest: string, options: CopyOptions = {}): Promise<void> {
  const destination = await resolveDestination(rootfs, dest, options);
  const intoDir = destination.isDir || selection.parents || selection.sources.some((s) => s.kind === "dir");
  if (selection.needsDirDest && !destination.isDir) throw destNotDir(dest);
  const placements: Placement[] = [];
  for (const source of selection.sources) {
    for (const entry of source.entries) {
      const { uid, gid, mode } = landedMetadata(selection, entry, options);
      // One file (or link) to a destination that is not a directory takes the destination's name.
      const path = intoDir ? posix.join(destination.path, source.prefix, entry.rel) : destination.path;
      placements.push({ entry, path, owner: { uid, gid }, mode });
    }
  }
  await writePlacements(rootfs, placements, destination.path, options.chown, options.signal);
}

/** Files copied at once: enough to keep the thread pool busy on a 10,000-file COPY. */
const PARALLEL_FILES = 16;

/**
 * Writes entries in order (parents first), then sets directory times deepest first. Directories and
 * symlinks are made one by one; the files between two directories are copied a batch at a time.
 */
async function writePlacements(rootfs: string, placements: Placement[], destRoot: string, chown: Owner | undefined, signal: AbortSignal | undefined): Promise<void> {
  const parents = new Map<string, string>();
  const links = new Map<string, Promise<string>>();
  const dirTimes: { abs: string; entry: SelectedEntry }[] = [];
  const pending: Promise<unknown>[] = [];
  const flush = async () => {
    await Promise.all(pending.splice(0));
  };
  const parentOf = async (path: string): Promise<string> => {
    const dir = posix.dirname(path);
    let abs = parents.get(dir);
    if (abs === undefined) {
      abs = await ensureDirInRoot(rootfs, dir, chown);
      parents.set(dir, abs);
    }
    return abs;
  };
  for (const { entry, path, owner, mode } of placements) {
    signal?.throwIfAborted();
    if (path === "/" && entry.kind !== "dir") throw new ContextError("COPY_DEST_INVALID", "cannot copy a file onto /", { hint: "Copy into a directory, e.g. /app/." });
    if (entry.kind === "dir") {
      await flush();
      const target = path === "/" ? rootfs : join(await parentOf(path), basename(path));
      const existing = await existingDir(rootfs, path, target);
      const abs = existing ?? target;
      if (existing === undefined) await mkdir(abs);
      parents.set(path, abs);
      if (path === destRoot) {
        // The destination of a directory's contents is not a copy of that directory (BuildKit):
        // an existing one is left alone, a new one is made like any missing parent.
        if (existing === undefined) await setOwnerAndMode(abs, chown ?? { uid: 0, gid: 0 }, 0o755);
        continue;
      }
      await setOwnerAndMode(abs, owner, mode);
      dirTimes.push({ abs, entry });
      continue;
    }
    const target = join(await parentOf(path), basename(path));
    if (entry.kind === "symlink") {
      await flush();
      await clearTarget(target, false);
      await symlink(entry.linkTarget!, target);
      await lchown(target, owner.uid, owner.gid);
      await lutimes(target, entry.atimeMs / 1000, entry.mtimeMs / 1000);
      continue;
    }
    const inode = entry.nlink > 1 ? `${entry.dev}:${entry.ino}` : undefined;
    const first = inode === undefined ? undefined : links.get(inode);
    const task = first
      ? first.then(async (firstTarget) => {
          await clearTarget(target, false);
          await link(firstTarget, target);
          return target;
        })
      : (async () => {
          await clearTarget(target, false);
          await copyFile(entry.path, target, constants.COPYFILE_FICLONE);
          await setOwnerAndMode(target, owner, mode);
          await utimes(target, entry.atimeMs / 1000, entry.mtimeMs / 1000);
          return target;
        })();
    if (inode !== undefined && first === undefined) links.set(inode, task);
    pending.push(task);
    if (pending.length >= PARALLEL_FILES) await flush();
  }
  await flush();
  for (const { abs, entry } of dirTimes.reverse()) await utimes(abs, entry.atimeMs / 1000, entry.mtimeMs / 1000);
}

/** chown before chmod: chown clears setuid/setgid bits the mode may set. */
async function setOwnerAndMode(path: string, owner: Owner, mode: number): Promise<void> {
  await lchown(path, owner.uid, owner.gid);
  await chmod(path, mode);
}

/**
 * The directory to merge into at `target` (host path of `path`): the directory itself, or the
 * directory a symlink there resolves to inside the rootfs. Anything else in the way is removed
 * (a link itself, never what it points to) and undefined returned.
 */
async function existingDir(rootfs: string, path: string, target: string): Promise<string | undefined> {
  const info = await lstat(target).catch(() => undefined);
  if (info?.isDirectory()) return target;
  if (info?.isSymbolicLink()) {
    const resolved = await resolveInRoot(rootfs, path);
    if ((await stat(resolved.abs).catch(() => undefined))?.isDirectory()) return resolved.abs;
  }
  if (info !== undefined) await clearTarget(target, false);
  return undefined;
}
