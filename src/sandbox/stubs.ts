import { lstatSync, readdirSync, rmdirSync, unlinkSync, utimesSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { createMissing, resolveInRoot } from "./rootfs-path.js";

/**
 * Mountpoint stubs: empty files and directories the sandbox creates only so something can be mounted
 * on them, and removes afterwards. Plain data, so a record on disk can undo them after a crash.
 */
export interface Stubs {
  /** Host paths created, outermost first; removed innermost first, and only while still empty. */
  created: string[];
  /** Existing directories that got a stub entry: their times before, and their mtime right after. */
  parents: { path: string; atimeMs: number; mtimeMs: number; mtimeNsAfter: string }[];
  /** Upper-dir paths (relative) that overlayfs copied up only because of a stub, innermost first. */
  copiedUp: { rel: string; mode: number; uid: number; gid: number; mtimeMs: number }[];
}

export function emptyStubs(): Stubs {
  return { created: [], parents: [], copiedUp: [] };
}

/**
 * Makes sure `target` exists under `base` (resolved inside it), creating what is missing, and returns
 * the host path to mount on. `rootfs`/`upperdir` identify the overlay whose copy-ups may need undoing.
 */
export function ensureMountpoint(
  stubs: Stubs,
  base: string,
  target: string,
  kind: "dir" | "file",
  overlay: { rootfs: string; upperdir: string | undefined },
  mode?: number,
): string {
  const resolved = resolveInRoot(base, target);
  if (resolved.missing.length === 0) return resolved.existing;
  const parent = resolved.existing;
  if (!stubs.parents.some((p) => p.path === parent)) {
    const st = lstatSync(parent);
    stubs.parents.push({ path: parent, atimeMs: st.atimeMs, mtimeMs: st.mtimeMs, mtimeNsAfter: "" });
    if (overlay.upperdir && base === overlay.rootfs) noteCopyUps(stubs, overlay.rootfs, overlay.upperdir, parent);
  }
  const created = createMissing(resolved, kind, mode);
  stubs.created.push(...created);
  return created[created.length - 1]!;
}

/** Records the not-yet-copied-up ancestors of `dir` (inside the rootfs), with the metadata they have now. */
function noteCopyUps(stubs: Stubs, rootfs: string, upperdir: string, dir: string): void {
  const rel = relative(rootfs, dir);
  if (rel === "") return;
  const parts = rel.split(sep);
  const found: Stubs["copiedUp"] = [];
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join("/");
    if (stubs.copiedUp.some((c) => c.rel === sub) || lstatSync(join(upperdir, sub), { throwIfNoEntry: false })) continue;
    const st = lstatSync(join(rootfs, sub));
    found.push({ rel: sub, mode: st.mode, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs });
  }
  stubs.copiedUp.unshift(...found.reverse());
}

/** Call once every stub exists: notes each parent's mtime, to tell later whether the process changed it. */
export function sealStubs(stubs: Stubs): void {
  for (const p of stubs.parents) p.mtimeNsAfter = String(lstatSync(p.path, { bigint: true }).mtimeNs);
}

/**
 * Removes the stubs that are still empty, restores the times of parents the process did not touch,
 * and removes from the upper dir the directories that overlayfs copied up only for the stubs.
 * Safe to call twice and after a crash (missing paths are skipped).
 */
export function removeStubs(stubs: Stubs, upperdir: string | undefined): void {
  const untouched = stubs.parents.filter((p) => String(lstatSync(p.path, { bigint: true, throwIfNoEntry: false })?.mtimeNs) === p.mtimeNsAfter);
  for (const path of [...stubs.created].reverse()) removeIfEmpty(path);
  // A parent that was itself a stub (e.g. /etc of an image without one) is gone by now.
  for (const p of untouched) if (lstatSync(p.path, { throwIfNoEntry: false })) utimesSync(p.path, p.atimeMs / 1000, p.mtimeMs / 1000);
  if (!upperdir) return;
  // Each candidate on its own: empty and as it was before (a directory the process changed kept its new mtime).
  for (const c of stubs.copiedUp) {
    const path = join(upperdir, c.rel);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st || !st.isDirectory() || st.mode !== c.mode || st.uid !== c.uid || st.gid !== c.gid) continue;
    // utimes goes through a double of seconds: allow its rounding, nothing more.
    if (Math.abs(st.mtimeMs - c.mtimeMs) > 0.002) continue;
    if (readdirSync(path).length === 0) rmdirSync(path);
  }
}

function removeIfEmpty(path: string): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory() && readdirSync(path).length === 0) rmdirSync(path);
  else if (st?.isFile() && st.size === 0) unlinkSync(path);
}
