// Destination rules shared by COPY, ADD and heredoc sources: where in the root filesystem a
// source lands, with every path resolved inside the rootfs (symlinks on the way followed as if
// the rootfs were `/`), missing parents created 0755 and owned by root (or the --chown user).
import { chown, lstat, mkdir, rm, stat, unlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { ContextError } from "./errors.js";
import { resolveInRoot, splitPath } from "./in-root.js";

export interface DestinationOptions {
  /** The image's WORKDIR, for a relative destination. Default "/". */
  workdir?: string;
  /** Treat the destination as a directory even without a trailing slash (the solver knows better). */
  isDir?: boolean;
  /**
   * How many sources the whole instruction has (local paths matched, URLs, heredocs). More than
   * one needs a directory destination: COPY_DEST_NOT_DIR otherwise, as Docker.
   */
  sourceCount?: number;
}

export interface Destination {
  /** Absolute path inside the rootfs, as written (cleaned, relative to WORKDIR). */
  path: string;
  /** The destination names a directory: a trailing slash, ".", or an existing directory. */
  isDir: boolean;
  /** Host path of the destination resolved inside the rootfs (following symlinks). */
  abs: string;
  exists: boolean;
}

/** Applies Docker's rules for a destination string: trailing slash means directory, relative means below WORKDIR. */
export async function resolveDestination(rootfs: string, dest: string, options: DestinationOptions = {}): Promise<Destination> {
  if (dest === "") throw new ContextError("COPY_DEST_INVALID", "the destination is empty", { hint: "Name a destination path, e.g. /app/." });
  const workdir = options.workdir ?? "/";
  const joined = dest.startsWith("/") ? dest : posix.join(workdir.startsWith("/") ? workdir : `/${workdir}`, dest);
  const path = posix.normalize(joined);
  const slash = dest.endsWith("/") || dest === "." || dest.endsWith("/.") || dest === "..";
  const where = await resolveInRoot(rootfs, path);
  const info = await stat(where.abs).catch(() => undefined);
  const isDir = options.isDir === true || slash || info?.isDirectory() === true;
  if ((options.sourceCount ?? 1) > 1 && !isDir) throw destNotDir(dest);
  return { path: path.length > 1 ? path.replace(/\/$/, "") : path, isDir, abs: where.abs, exists: info !== undefined };
}

export function destNotDir(dest: string): ContextError {
  return new ContextError("COPY_DEST_NOT_DIR", `when copying several sources, the destination ${dest} must be a directory and end with /`, {
    hint: `Write the destination as ${dest.replace(/\/?$/, "/")}`,
  });
}

/**
 * Makes sure the directory at `path` (absolute inside the rootfs) exists, creating missing
 * components 0755, owned by root or by `owner` (--chown; BuildKit chowns the directories it
 * creates for a copy). Returns its host path. A non-directory in the way is an error.
 */
export async function ensureDirInRoot(rootfs: string, path: string, owner?: { uid: number; gid: number }): Promise<string> {
  const where = await resolveInRoot(rootfs, path);
  const info = await stat(where.abs).catch(() => undefined);
  if (info?.isDirectory()) return where.abs;
  // Walk down from the root creating what is missing; each existing part is already resolved.
  let current = rootfs;
  for (const component of splitPath(where.rel)) {
    current = join(current, component);
    const existing = await lstat(current).catch(() => undefined);
    if (existing?.isDirectory()) continue;
    if (existing !== undefined) {
      throw new ContextError("COPY_DEST_INVALID", `cannot create directory ${path}: ${current.slice(rootfs.length) || "/"} is not a directory`, {
        hint: "Remove the file in the way or choose another destination.",
      });
    }
    await mkdir(current, { mode: 0o755 });
    await chown(current, owner?.uid ?? 0, owner?.gid ?? 0);
  }
  return where.abs;
}

/**
 * Clears the way for a new entry at `target` (a host path whose parent is resolved inside the
 * rootfs): an existing non-directory is unlinked, so a symlink is replaced and never written
 * through; an existing directory is kept when `keepDir`, removed otherwise.
 */
export async function clearTarget(target: string, keepDir: boolean): Promise<"dir" | "clear"> {
  const existing = await lstat(target).catch(() => undefined);
  if (existing === undefined) return "clear";
  if (existing.isDirectory()) {
    if (keepDir) return "dir";
    await rm(target, { recursive: true, force: true });
    return "clear";
  }
  await unlink(target);
  return "clear";
}
