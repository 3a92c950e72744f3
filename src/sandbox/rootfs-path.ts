import { chmodSync, lstatSync, mkdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { SandboxSpecError } from "./errors.js";

const MAX_LINKS = 255;

export interface Resolved {
  /** Host path of the deepest component that exists, symlinks resolved, always inside the root. */
  existing: string;
  /** The components after `existing` that do not exist yet (no symlinks among them, no `..`). */
  missing: string[];
}

/**
 * Synchronous, as every metadata helper of the sandbox: a run makes a few dozen tiny calls, and the
 * thread-pool round trips of fs/promises would cost more than the calls themselves.
 *
 * Resolves absolute `path` as the kernel would if `root` were "/": symlinks are followed, absolute ones
 * from `root`, and `..` stops at `root` (as securejoin's join.go). The path is cleaned lexically first,
 * as Docker cleans WORKDIR and mount targets. Races with a concurrent writer are out of scope: nothing
 * runs in the rootfs while the sandbox prepares it.
 */
export function resolveInRoot(root: string, path: string): Resolved {
  const queue = posix.normalize(`/${path}`).split("/").filter(Boolean);
  const current: string[] = [];
  let links = 0;
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (name === ".") continue;
    if (name === "..") {
      current.pop();
      continue;
    }
    const host = join(root, ...current, name);
    const stat = lstatSync(host, { throwIfNoEntry: false });
    if (!stat) {
      const missing = [name, ...queue];
      if (missing.includes("..")) return resolveDotDotTail(root, current, missing);
      return { existing: join(root, ...current), missing: missing.filter((m) => m !== ".") };
    }
    if (stat.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new SandboxSpecError(`too many symbolic links in ${path}`, "fix the symlink loop in the image");
      const target = readlinkSync(host);
      if (target.startsWith("/")) current.length = 0;
      queue.unshift(...target.split("/").filter(Boolean));
      continue;
    }
    if (queue.length > 0 && !stat.isDirectory()) {
      throw new SandboxSpecError(`${posix.join("/", ...current, name)} is not a directory (in ${path})`, "use a path whose parents are directories");
    }
    current.push(name);
  }
  return { existing: join(root, ...current), missing: [] };
}

/** A symlink pointed into a missing dir and then `..`: collapse the missing tail lexically, clamped. */
function resolveDotDotTail(root: string, current: string[], missing: string[]): Resolved {
  const tail: string[] = [];
  for (const name of missing) {
    if (name === "..") {
      if (tail.length > 0) tail.pop();
      else current.pop();
    } else if (name !== ".") tail.push(name);
  }
  return { existing: join(root, ...current), missing: tail };
}

/**
 * Creates the missing components of `resolved` (directories 0755 — the last one `lastMode` —,
 * root-owned as we are; a last component of kind "file" as an empty file). Returns the host paths it created, outermost first.
 */
export function createMissing(resolved: Resolved, kind: "dir" | "file", lastMode = 0o755): string[] {
  const created: string[] = [];
  let host = resolved.existing;
  for (const [i, name] of resolved.missing.entries()) {
    host = join(host, name);
    if (kind === "file" && i === resolved.missing.length - 1) {
      writeFileSync(host, "", { flag: "wx", mode: 0o644 });
    } else {
      const mode = i === resolved.missing.length - 1 ? lastMode : 0o755;
      mkdirSync(host, { mode });
      // mkdir's mode passes through the umask: fix it only when the umask got in the way.
      if ((lstatSync(host).mode & 0o7777) !== mode) chmodSync(host, mode);
    }
    created.push(host);
  }
  return created;
}
