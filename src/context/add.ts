// ADD of local sources: like COPY, except that a source file which is a tar archive (plain,
// gzip, bzip2, xz or zstd, detected by content) is extracted into the destination directory.
// Only sources named by the instruction are extracted, never archives inside a copied directory.
// Docker extracts local archives with or without --link; `unpack: false` is ADD --unpack=false.
import { detectArchive, extractArchive } from "./archive.js";
import { copyIntoRoot, type CopyOptions } from "./copy.js";
import { ensureDirInRoot, resolveDestination } from "./dest.js";
import type { Selection } from "./select.js";

export interface AddOptions extends CopyOptions {
  /** Default true. */
  unpack?: boolean;
}

export async function addIntoRoot(selection: Selection, rootfs: string, dest: string, options: AddOptions = {}): Promise<void> {
  for (const source of selection.sources) {
    options.signal?.throwIfAborted();
    const format = options.unpack !== false && source.kind === "file" ? await detectArchive(source.entries[0]!.path, options.signal) : undefined;
    if (format === undefined) {
      await copyIntoRoot({ ...selection, sources: [source] }, rootfs, dest, options);
      continue;
    }
    // An archive always unpacks into a directory, whether or not the destination ends in "/".
    const destination = await resolveDestination(rootfs, dest, options);
    const destAbs = await ensureDirInRoot(rootfs, destination.path, options.chown);
    await extractArchive(source.entries[0]!.path, format, destAbs, { chown: options.chown, signal: options.signal });
  }
}
