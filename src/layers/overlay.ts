import { execFile } from "node:child_process";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ownedName } from "./process-owner.js";
import { StoreError } from "./store-errors.js";

// overlayfs mounts through util-linux mount(8): Node has no mount(2). Layer paths are given relative to
// `cwd` (the snapshots dir) because the whole option string must fit in one page (DESIGN.md).

const run = promisify(execFile);

/** The kernel's limit on lower dirs per overlay mount (measured on this kernel; see DESIGN.md). */
const KERNEL_MAX_LOWERS = 500;
/** Chains are flattened before they stack more than this: well under the kernel's limit, and cheap. */
export const MAX_LOWERS = 128;
/** The option string must fit in a page (4096 bytes including the NUL); keep a margin for the rest. */
export const MAX_OPTIONS = 3800;

export interface OverlaySpec {
  /** Lower dirs, top first, relative to `cwd`. */
  lowers: string[];
  /** Upper and work dir, relative to `cwd`; without them the mount is read-only. */
  upper?: string;
  work?: string;
  /** Absolute mount point. */
  target: string;
  cwd: string;
}

/**
 * The option string: redirect_dir, metacopy and index are off so that the upper dir always holds whole
 * files and real directories — exactly the layer diff, nothing that points back into a lower dir.
 */
export function overlayOptions(spec: OverlaySpec): string {
  const opts = [`lowerdir=${spec.lowers.join(":")}`];
  if (spec.upper && spec.work) opts.push(`upperdir=${spec.upper}`, `workdir=${spec.work}`);
  opts.push("redirect_dir=off", "metacopy=off", "index=off");
  return opts.join(",");
}

export async function mountOverlay(spec: OverlaySpec): Promise<void> {
  const options = overlayOptions(spec);
  if (options.length > MAX_OPTIONS || spec.lowers.length > KERNEL_MAX_LOWERS) {
    throw new StoreError("SNAPSHOT_MOUNT_FAILED", `overlay of ${spec.lowers.length} layers exceeds the mount limits`, {
      hint: "This is a bug: the snapshotter flattens chains before the limits.",
    });
  }
  await run("mount", ["-t", "overlay", "overlay", "-o", options, spec.target], { cwd: spec.cwd }).catch((err: { stderr?: string }) => {
    throw new StoreError("SNAPSHOT_MOUNT_FAILED", `mount overlay on ${spec.target} failed: ${String(err.stderr ?? err).trim()}`, {
      hint: "Overlay mounts need root (or CAP_SYS_ADMIN) and overlayfs; use the copy snapshotter otherwise.",
      cause: err,
    });
  });
}

/** Unmounts; a busy mount is detached lazily so that it never outlives the operation that made it. */
export async function unmount(target: string): Promise<void> {
  try {
    await run("umount", [target]);
  } catch (err) {
    if (!(await isMounted(target))) return;
    await run("umount", ["-l", target]).catch((lazyErr: { stderr?: string }) => {
      throw new StoreError("SNAPSHOT_MOUNT_FAILED", `umount ${target} failed: ${String(lazyErr.stderr ?? lazyErr).trim()}`, { cause: err });
    });
  }
}

/** Mount points at or below `dir`, deepest first (so that nested ones go first). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const points = info
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(prefix));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/**
 * Snapshot ids that mounts under `snapshotsDir` use as lower or upper dirs. Our mount options name layers
 * relative to the snapshots dir ("17/fs"), so mountinfo's super options say which snapshots are busy.
 */
export async function snapshotIdsInUse(root: string): Promise<Set<number>> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  const ids = new Set<number>();
  for (const line of info.split("\n")) {
    const [before, after] = line.split(" - ");
    const point = before?.split(" ")[4];
    if (!after?.startsWith("overlay ") || !point || !(point === root || point.startsWith(`${root}/`))) continue;
    for (const m of after.matchAll(/(?:lowerdir=|upperdir=|:)(\d+)\/fs/g)) ids.add(Number(m[1]));
  }
  return ids;
}

export async function isMounted(target: string): Promise<boolean> {
  return (await mountsUnder(target)).includes(target);
}

/** Whether this process can mount overlayfs, found by trying it once in `tmpDir`. */
export async function canMountOverlay(tmpDir: string): Promise<boolean> {
  const dir = join(tmpDir, ownedName(".probe"));
  const spec = { lowers: ["lower", "lower2"], upper: "upper", work: "work", target: join(dir, "merged"), cwd: dir };
  try {
    for (const sub of ["lower", "lower2", "upper", "work", "merged"]) await mkdir(join(dir, sub), { recursive: true });
    await mountOverlay(spec);
    await unmount(spec.target);
    return true;
  } catch {
    return false;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
