import { posix } from "node:path";
import { StoreError } from "./store-errors.js";

// The rules a layer entry's path must follow, one function each, all applied by apply.ts at one place.
// Every violation is its own code, names the entry, and leaves nothing written outside the snapshot.

export class LayerEntryError extends StoreError {
  /** The offending entry's archive path, as it was in the tar. */
  readonly entry: string;
  constructor(code: string, entry: string, message: string, hint: string) {
    super(code, `layer entry "${entry}" ${message}`, { hint });
    this.name = "LayerEntryError";
    this.entry = entry;
  }
}

const unsafeHint = "The layer is malformed or hostile; nothing was unpacked outside the snapshot. Rebuild it or use another image.";

/**
 * The components of an archive path, or [] for the root itself. Rejects absolute paths
 * (LAYER_ABSOLUTE_PATH) and any ".." component (LAYER_PATH_ESCAPE); "." and empty components are dropped.
 */
export function entryPathParts(raw: string): string[] {
  if (raw.startsWith("/")) {
    throw new LayerEntryError("LAYER_ABSOLUTE_PATH", raw, "has an absolute path", unsafeHint);
  }
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) {
    throw new LayerEntryError("LAYER_PATH_ESCAPE", raw, 'has a ".." component that would leave the snapshot', unsafeHint);
  }
  return parts;
}

/** A hardlink's target must itself be a path inside the layer (LAYER_HARDLINK_ESCAPE). */
export function hardlinkTargetParts(entry: string, linkname: string): string[] {
  const parts = linkname.split("/").filter((p) => p !== "" && p !== ".");
  if (linkname.startsWith("/") || parts.includes("..") || parts.length === 0) {
    throw new LayerEntryError("LAYER_HARDLINK_ESCAPE", entry, `is a hardlink to "${linkname}", outside the layer`, unsafeHint);
  }
  return parts;
}

export function hardlinkTargetMissing(entry: string, linkname: string, why: string): LayerEntryError {
  return new LayerEntryError(
    "LAYER_HARDLINK_TARGET_MISSING",
    entry,
    `is a hardlink to "${linkname}", which ${why}`,
    "A hardlink may only point at a regular file that comes earlier in the same layer.",
  );
}

/**
 * An entry whose parent is a symlink the layer itself planted: writing through it is refused. When the
 * symlink (followed lexically, as the kernel would from `symlinkDir`) leads outside the snapshot the code
 * is LAYER_SYMLINK_ESCAPE, otherwise LAYER_THROUGH_SYMLINK.
 */
export function throughSymlink(entry: string, symlinkPath: string, target: string, readLink: (parts: string[]) => string | undefined): LayerEntryError {
  if (leavesRoot(symlinkPath.split("/").slice(0, -1), target, readLink, 0)) {
    return new LayerEntryError(
      "LAYER_SYMLINK_ESCAPE",
      entry,
      `goes through symlink "${symlinkPath}" -> "${target}", which leads outside the snapshot`,
      unsafeHint,
    );
  }
  return new LayerEntryError(
    "LAYER_THROUGH_SYMLINK",
    entry,
    `goes through symlink "${symlinkPath}" -> "${target}" planted by the same layer`,
    "A layer must name real directories for its entries, not paths through its own symlinks; rebuild it.",
  );
}

/** Whether a relative symlink target climbs above the root, following further symlinks up to 40 hops. */
function leavesRoot(dirParts: string[], target: string, readLink: (parts: string[]) => string | undefined, hops: number): boolean {
  if (hops > 40 || target.startsWith("/")) return false; // absolute targets resolve inside a root filesystem
  const stack = [...dirParts];
  const parts = target.split("/").filter((p) => p !== "" && p !== ".");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === "..") {
      if (stack.length === 0) return true;
      stack.pop();
      continue;
    }
    stack.push(part);
    const next = readLink(stack);
    if (next !== undefined) {
      const rest = parts.slice(i + 1).join("/");
      return leavesRoot(stack.slice(0, -1), rest ? posix.join(next, rest) : next, readLink, hops + 1);
    }
  }
  return false;
}
