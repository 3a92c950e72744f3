// Resolving a path inside a root directory as if the root were `/` (like cyphar/filepath-securejoin
// and continuity's fs.RootPath): `..` stops at the root, absolute and relative symlinks are
// followed with the root as `/`, so the result never names anything outside the root.
// The symlink race (a component swapped after resolution) is out of scope, as in securejoin:
// the roots we resolve in belong to this build.
import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";

const MAX_LINKS = 255;

export interface RootPath {
  /** Host path, always `root` or below it. */
  abs: string;
  /** The same path relative to the root, slash separated, "" for the root itself. */
  rel: string;
}

/**
 * Resolves `path` (absolute or relative, any `..`) inside `root`. Components that do not exist are
 * kept as written. With `followFinal: false` a symlink in the last component is not followed
 * (the link itself is meant: to copy it as a link, or to replace it).
 */
export async function resolveInRoot(root: string, path: string, options: { followFinal?: boolean } = {}): Promise<RootPath> {
  const followFinal = options.followFinal ?? true;
  const resolved: string[] = [];
  let queue = splitPath(path);
  let links = 0;
  let missing = false;
  while (queue.length > 0) {
    const component = queue.shift()!;
    if (component === "..") {
      resolved.pop();
      continue;
    }
    if (missing || (queue.length === 0 && !followFinal)) {
      resolved.push(component);
      continue;
    }
    const candidate = join(root, ...resolved, component);
    const info = await lstat(candidate).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") return undefined;
      throw err;
    });
    if (info === undefined) {
      missing = true;
      resolved.push(component);
      continue;
    }
    if (!info.isSymbolicLink()) {
      resolved.push(component);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw Object.assign(new Error(`too many levels of symbolic links: ${path}`), { code: "ELOOP" });
    }
    const target = await readlink(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    queue = [...splitPath(target), ...queue];
  }
  const rel = resolved.join("/");
  return { abs: rel === "" ? root : join(root, rel), rel };
}

/** Path components without "" and "."; ".." kept for the resolver to apply. */
export function splitPath(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/** Lexically cleans a path to root-relative form: no leading "/", no ".", ".." stopped at the root. */
export function cleanRelative(path: string): string {
  const out: string[] = [];
  for (const c of splitPath(path)) {
    if (c === "..") out.pop();
    else out.push(c);
  }
  return out.join("/");
}
