/**
 * Writing an image archive (OCI archive or `docker save` tar) as one tar file: entries are streamed
 * from disk, never held in memory whole, and the file appears under its name only when complete.
 * Headers are fixed (mode 0644, uid/gid 0, mtime 0) so the same images give the same archive.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack as tarPack, type Pack } from "tar-stream";
import { ownedName } from "./process-owner.js";

export interface ArchiveWriter {
  /** Adds a file from a buffer. */
  addBuffer(name: string, data: Uint8Array | string): Promise<void>;
  /** Adds a file streamed from a path on disk. */
  addFile(name: string, path: string): Promise<void>;
}

const FIXED = { mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) } as const;

export async function writeArchive(file: string, fill: (writer: ArchiveWriter) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const tmp = join(dirname(file), `.${ownedName(".tar")}`);
  const pack = tarPack();
  const done = pipeline(pack, createWriteStream(tmp, { flags: "wx" }), { signal });
  try {
    await fill({
      addBuffer: (name, data) => addEntry(pack, name, Buffer.from(data)),
      addFile: async (name, path) => addEntry(pack, name, createReadStream(path), (await stat(path)).size),
    });
    pack.finalize();
    await done;
    await rename(tmp, file);
  } catch (err) {
    pack.destroy();
    await done.catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

async function addEntry(pack: Pack, name: string, source: Buffer | Readable, size = (source as Buffer).length): Promise<void> {
  if (Buffer.isBuffer(source)) {
    await new Promise<void>((resolve, reject) => pack.entry({ ...FIXED, name, size }, source, (err) => (err ? reject(err) : resolve())));
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ ...FIXED, name, size }, (err) => (err ? reject(err) : resolve()));
    source.on("error", (err) => {
      entry.destroy(err);
      reject(err);
    });
    source.pipe(entry);
  });
}
