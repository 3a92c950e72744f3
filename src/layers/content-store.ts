import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { digestHex, type Digest } from "./digest.js";
import { ownedName } from "./process-owner.js";
import { StoreError } from "./store-errors.js";

/**
 * The content store: every blob (compressed layers, configs, manifests, indexes) under
 * `<root>/blobs/sha256/<hex>`, the OCI image layout's own place for them.
 *
 * A blob streams into `<root>/tmp/`, is hashed while it streams, fsynced, checked against the expected
 * digest and size, and only then renamed into place; so a reader never sees a partial or wrong blob, and
 * a crash leaves only garbage in `tmp/` (removed by the next `openStore`). Two writers of the same blob
 * are safe: each writes its own temporary file, and the rename of identical bytes is atomic.
 */
export interface ContentStore {
  readonly root: string;
  /** Streams a blob in. With `expected`, a mismatch throws BLOB_DIGEST_MISMATCH and stores nothing. */
  write(stream: Readable | AsyncIterable<Uint8Array>, opts?: WriteOptions): Promise<BlobInfo>;
  writeBuffer(data: Uint8Array | string, opts?: WriteOptions): Promise<BlobInfo>;
  has(digest: Digest): Promise<boolean>;
  /** The size in bytes; throws BLOB_NOT_FOUND. */
  size(digest: Digest): Promise<number>;
  /** A stream of the blob's bytes; a missing blob makes the stream fail with BLOB_NOT_FOUND. */
  open(digest: Digest): Readable;
  /** The whole blob in memory: for small blobs (JSON documents). Throws BLOB_NOT_FOUND. */
  readBuffer(digest: Digest): Promise<Buffer>;
  /** Where the blob lives (whether or not it exists); the digest is validated first. */
  path(digest: Digest): string;
  /** Removes a blob; false when it was not there. */
  delete(digest: Digest): Promise<boolean>;
  list(): Promise<Digest[]>;
  /** Re-hashes every blob; `bad` lists those whose bytes do not match their name. */
  fsck(opts?: { signal?: AbortSignal }): Promise<{ ok: boolean; bad: Digest[] }>;
}

export interface WriteOptions {
  /** The digest the bytes must have ("sha256:…"). */
  expected?: Digest;
  /** The size the bytes must have. */
  size?: number;
  signal?: AbortSignal;
}

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** A content store in `root` (which holds `blobs/sha256/` and `tmp/`; both are made if missing). */
export async function openContentStore(root: string): Promise<ContentStore> {
  const blobDir = join(root, "blobs", "sha256");
  const tmpDir = join(root, "tmp");
  await mkdir(blobDir, { recursive: true });
  await mkdir(tmpDir, { recursive: true });

  const path = (digest: Digest) => join(blobDir, digestHex(digest));

  const notFound = (digest: Digest, cause?: unknown) =>
    new StoreError("BLOB_NOT_FOUND", `blob ${digest} is not in the content store at ${root}`, {
      hint: "Pull or rebuild the image that needs it; `fsck` lists damaged blobs.",
      cause,
    });

  async function write(source: Readable | AsyncIterable<Uint8Array>, opts: WriteOptions = {}): Promise<BlobInfo> {
    if (opts.expected !== undefined) digestHex(opts.expected);
    const tmp = join(tmpDir, ownedName(".blob"));
    const hasher = new HashingTransform();
    try {
      await pipeline(source, hasher, createWriteStream(tmp, { flags: "wx", mode: 0o644 }), { signal: opts.signal });
      await syncFile(tmp);
      const digest = `sha256:${hasher.hash.digest("hex")}`;
      if (opts.size !== undefined && hasher.size !== opts.size) {
        throw new StoreError("BLOB_SIZE_MISMATCH", `blob ${opts.expected ?? digest} has ${hasher.size} bytes, expected ${opts.size}`, {
          hint: "The source sent a truncated or different blob; try again, and check the source.",
        });
      }
      if (opts.expected !== undefined && digest !== opts.expected) {
        throw new StoreError("BLOB_DIGEST_MISMATCH", `blob expected to be ${opts.expected} hashes to ${digest}`, {
          hint: "The source sent different bytes than its digest promises; nothing was stored.",
        });
      }
      await chmod(tmp, 0o444);
      await rename(tmp, path(digest));
      return { digest, size: hasher.size };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async function size(digest: Digest): Promise<number> {
    try {
      return (await stat(path(digest))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw notFound(digest, err);
      throw err;
    }
  }

  function openBlob(digest: Digest): Readable {
    return wrapNotFound(createReadStream(path(digest)), () => notFound(digest));
  }

  async function readBuffer(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw notFound(digest, err);
      throw err;
    }
  }

  async function list(): Promise<Digest[]> {
    const names = await readdir(blobDir);
    return names.filter((n) => /^[0-9a-f]{64}$/.test(n)).sort().map((n) => `sha256:${n}`);
  }

  async function fsck(opts: { signal?: AbortSignal } = {}): Promise<{ ok: boolean; bad: Digest[] }> {
    const bad: Digest[] = [];
    for (const digest of await list()) {
      opts.signal?.throwIfAborted();
      const hash = createHash("sha256");
      await pipeline(createReadStream(path(digest)), async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) hash.update(chunk);
      }, { signal: opts.signal });
      if (`sha256:${hash.digest("hex")}` !== digest) bad.push(digest);
    }
    return { ok: bad.length === 0, bad };
  }

  return {
    root,
    write,
    writeBuffer: (data, opts) => write(Readable.from([typeof data === "string" ? Buffer.from(data) : data]), opts),
    has: async (digest) => stat(path(digest)).then(() => true, () => false),
    size,
    open: openBlob,
    readBuffer,
    path,
    delete: async (digest) => {
      const file = path(digest);
      const existed = await stat(file).then(() => true, () => false);
      await rm(file, { force: true });
      return existed;
    },
    list,
    fsck,
  };
}

/** Counts and hashes the bytes that pass through. */
class HashingTransform extends Transform {
  readonly hash = createHash("sha256");
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }
}

function wrapNotFound(stream: Readable, makeError: () => Error): Readable {
  const out = new Readable({ read: () => stream.resume() });
  stream.on("data", (chunk: Buffer) => {
    if (!out.push(chunk)) stream.pause();
  });
  stream.on("end", () => out.push(null));
  stream.on("error", (err: NodeJS.ErrnoException) => out.destroy(err.code === "ENOENT" ? makeError() : err));
  out.on("close", () => stream.destroy());
  return out;
}

/** fsync through a fresh descriptor: Linux flushes the file's data whichever descriptor asks. */
export async function syncFile(path: string): Promise<void> {
  const file = await open(path, "r");
  try {
    await file.sync();
  } finally {
    await file.close();
  }
}
