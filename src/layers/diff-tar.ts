import { closeSync, openSync, readSync } from "node:fs";
import { Readable } from "node:stream";
import { upperDirChanges, OPAQUE_MARKER, WHITEOUT_PREFIX, type Change } from "./diff-changes.js";
import { encodeHeader, endOfArchive, padding, type TarHeader } from "./tar-header.js";
import { StoreError } from "./store-errors.js";

export interface DiffTarOptions {
  /** SOURCE_DATE_EPOCH in seconds: every time later than it is written as it. */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
}

const CHUNK = 1 << 20;

/**
 * An overlay upper dir as an OCI layer tar (a stream, never whole in memory): entries sorted, numeric
 * uid/gid without names, PAX for long names and xattrs, hardlinks as hardlinks, symlinks as they are,
 * 0/0 char devices as `.wh.<name>` and opaque dirs as `.wh..wh..opq`, times clamped to SOURCE_DATE_EPOCH.
 */
export function diffToTar(upperDir: string, opts: DiffTarOptions = {}): Readable {
  return Readable.from(changesToTar(upperDirChanges(upperDir, opts.signal), opts));
}

/** The tar bytes of a change list, in chunks of about 1 MiB. */
export async function* changesToTar(changes: Change[] | Promise<Change[]>, opts: DiffTarOptions = {}): AsyncGenerator<Buffer> {
  const clamp = (t: number) => (opts.sourceDateEpoch === undefined ? t : Math.min(t, opts.sourceDateEpoch));
  const firstPathOfInode = new Map<string, string>();
  let pending: Buffer[] = [];
  let pendingSize = 0;
  const push = (b: Buffer) => {
    pending.push(b);
    pendingSize += b.length;
  };
  const take = () => {
    const out = Buffer.concat(pending, pendingSize);
    pending = [];
    pendingSize = 0;
    return out;
  };

  for (const change of await changes) {
    opts.signal?.throwIfAborted();
    if (change.kind !== "entry") {
      const slash = change.path.lastIndexOf("/");
      const dir = slash < 0 ? "" : change.path.slice(0, slash + 1);
      const name = change.kind === "opaque" ? `${change.path}/${OPAQUE_MARKER}` : `${dir}${WHITEOUT_PREFIX}${change.path.slice(slash + 1)}`;
      push(encodeHeader({ name, type: "file", mode: 0, uid: 0, gid: 0, size: 0, mtime: clamp(change.mtime) }));
    } else {
      const { stat } = change;
      const header: TarHeader = {
        name: change.path,
        type: "file",
        mode: Number(stat.mode & 0o7777n),
        uid: Number(stat.uid),
        gid: Number(stat.gid),
        size: 0,
        mtime: clamp(Number(stat.mtimeNs / 1_000_000_000n)),
        ...(change.xattrs ? { xattrs: change.xattrs } : {}),
      };
      const inode = `${stat.dev}:${stat.ino}`;
      if (stat.isDirectory()) header.type = "dir";
      else if (stat.isSymbolicLink()) Object.assign(header, { type: "symlink", linkname: change.linkTarget });
      else if (stat.isCharacterDevice() || stat.isBlockDevice()) {
        const rdev = Number(stat.rdev);
        Object.assign(header, {
          type: stat.isCharacterDevice() ? "char" : "block",
          devmajor: (rdev >> 8) & 0xfff,
          devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
        });
      } else if (stat.isFIFO()) header.type = "fifo";
      else if (stat.isSocket()) continue; // sockets cannot be archived; tar skips them too
      else if (stat.nlink > 1n && firstPathOfInode.has(inode)) {
        Object.assign(header, { type: "hardlink", linkname: firstPathOfInode.get(inode) });
      } else {
        header.size = Number(stat.size);
        if (stat.nlink > 1n) firstPathOfInode.set(inode, change.path);
      }
      push(encodeHeader(header));
      if (header.type === "file" && header.size > 0) {
        yield* fileContent(change.abs, header.size, change.path, push, take, () => pendingSize);
        push(Buffer.alloc(padding(header.size)));
      }
    }
    if (pendingSize >= CHUNK) yield take();
  }
  push(endOfArchive());
  yield take();
}

/** A file's bytes into the tar: small files join the pending chunk, big ones stream in 1 MiB reads. */
async function* fileContent(
  abs: string,
  size: number,
  path: string,
  push: (b: Buffer) => void,
  take: () => Buffer,
  pendingSize: () => number,
): AsyncGenerator<Buffer> {
  const fd = openSync(abs, "r");
  try {
    let left = size;
    while (left > 0) {
      const want = Math.min(left, CHUNK);
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, null);
        if (n === 0) {
          throw new StoreError("DIFF_FILE_CHANGED", `${path} shrank while it was being archived`, {
            hint: "Nothing may write to a snapshot while it is committed; retry the step.",
          });
        }
        got += n;
      }
      left -= want;
      push(buf);
      if (pendingSize() >= CHUNK) yield take();
    }
  } finally {
    closeSync(fd);
  }
}
