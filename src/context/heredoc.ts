// `COPY <<EOF /path` / `ADD <<EOF /path`: a file made from the heredoc body, with the same
// destination rules as any other source.
import { chmod, lchown, writeFile } from "node:fs/promises";
import { basename, join, posix } from "node:path";
import type { Owner } from "./copy.js";
import { clearTarget, ensureDirInRoot, resolveDestination, type DestinationOptions } from "./dest.js";

export interface ContentOptions extends DestinationOptions {
  /** The file name when the destination is a directory (the heredoc's name, e.g. "EOF"). */
  name: string;
  chown?: Owner;
  /** Default 0o644, as BuildKit creates heredoc files. */
  chmod?: number;
}

/** Writes `content` at `dest` in the rootfs; returns the destination path inside the rootfs. */
export async function writeContentIntoRoot(content: string | Uint8Array, rootfs: string, dest: string, options: ContentOptions): Promise<string> {
  const destination = await resolveDestination(rootfs, dest, options);
  const path = destination.isDir ? posix.join(destination.path, options.name) : destination.path;
  const parent = await ensureDirInRoot(rootfs, posix.dirname(path), options.chown);
  const target = join(parent, basename(path));
  await clearTarget(target, false);
  await writeFile(target, content, { flag: "wx" });
  await lchown(target, options.chown?.uid ?? 0, options.chown?.gid ?? 0);
  await chmod(target, options.chmod ?? 0o644);
  return path;
}
