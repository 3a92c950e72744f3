import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { once } from "node:events";
import type { Readable, Writable } from "node:stream";
import { crc32, deflateRaw } from "node:zlib";
import { deflateOnWorker } from "./compress-workers.js";
import { StoreError } from "./store-errors.js";
import { promisify } from "node:util";

// Parallel, deterministic gzip. The tar is cut into fixed 1 MiB chunks and each chunk becomes its own
// gzip member (RFC 1952 allows any number; gunzip, Go's compress/gzip and Node read them all as one
// stream). Members are deflated on worker threads, one per core, several queued, and are written in order. A chunk whose bytes look random (already compressed data) is stored with level 0
// instead of spending deflate time on it. Every choice depends only on the bytes, so the same tar
// always gives the same blob. The member header has no name and no mtime.

const deflate = promisify(deflateRaw);

export interface CompressOptions {
  /** Deflate level for chunks worth compressing; default 6 (gzip's default). */
  level?: number;
  /** Bytes per gzip member; default 1 MiB. Part of the output format: changing it changes digests. */
  chunkSize?: number;
  /** Chunks in flight at once (memory: about 2 MiB each); default 4 per core. */
  parallel?: number;
  signal?: AbortSignal;
}

export interface CompressedLayer {
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** sha256 of the gzip bytes written to the sink. */
  digest: string;
  /** Bytes written to the sink. */
  size: number;
  /** Bytes of uncompressed tar read. */
  tarSize: number;
}

// gzip member header: magic, CM=deflate, no flags, MTIME=0, XFL=0, OS=255 (unknown), as Go writes it.
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]);

/** Shannon entropy, in bits per byte, of 16 slices of 4 KiB spread over the chunk. */
function sampledEntropy(chunk: Buffer): number {
  const counts = new Uint32Array(256);
  const slice = 4096;
  const step = Math.max(slice, Math.floor(chunk.length / 16));
  let total = 0;
  for (let start = 0; start < chunk.length; start += step) {
    const end = Math.min(chunk.length, start + slice);
    for (let i = start; i < end; i++) counts[chunk[i]!]!++;
    total += end - start;
  }
  let bits = 0;
  for (const c of counts) {
    if (c === 0) continue;
    const p = c / total;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Random-looking data: deflate would save almost nothing. */
const INCOMPRESSIBLE_BITS = 7.9;

async function member(chunk: Buffer, level: number): Promise<Buffer[]> {
  const chosen = chunk.length >= 4096 && sampledEntropy(chunk) > INCOMPRESSIBLE_BITS ? 0 : level;
  const body = chosen === 0 ? await deflate(chunk, { level: 0, chunkSize: chunk.length + (chunk.length >> 7) + 1024 }) : await deflateOnWorker(chunk, chosen);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(chunk), 0);
  trailer.writeUInt32LE(chunk.length >>> 0, 4);
  return [GZIP_HEADER, body, trailer];
}

/** Re-cuts a byte stream into chunks of exactly `size` bytes (the last may be shorter). */
async function* rechunk(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (const piece of source) {
    let rest = piece;
    while (held + rest.length >= size) {
      const need = size - held;
      parts.push(rest.subarray(0, need));
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      rest = rest.subarray(need);
      parts = [];
      held = 0;
    }
    if (rest.length) {
      parts.push(rest);
      held += rest.length;
    }
  }
  if (held > 0 || parts.length) yield Buffer.concat(parts, held);
}

/**
 * Gzips a layer tar into `sink` in one pass, hashing both sides: the diff ID (tar) and the blob digest
 * (gzip). The sink is ended when done. Memory stays at about `parallel` × 2 chunks.
 */
export async function compressLayer(tar: Readable | AsyncIterable<Buffer>, sink: Writable, opts: CompressOptions = {}): Promise<CompressedLayer> {
  const level = opts.level ?? 6;
  if (!Number.isInteger(level) || level < 1 || level > 9) {
    throw new StoreError("COMPRESSION_LEVEL_INVALID", `gzip level ${level} is not one of 1 to 9`, {
      hint: "Use 1 (fastest) to 9 (smallest); 6 is gzip's default.",
    });
  }
  const chunkSize = opts.chunkSize ?? 1 << 20;
  // Enough chunks queued that a slow (text) chunk at the head does not leave the workers idle.
  const parallel = opts.parallel ?? 4 * Math.max(2, availableParallelism());
  const tarHash = createHash("sha256");
  const blobHash = createHash("sha256");
  let size = 0;
  let tarSize = 0;
  const inFlight: Promise<Buffer[]>[] = [];

  const emit = async (parts: Buffer[]) => {
    for (const part of parts) {
      blobHash.update(part);
      size += part.length;
      if (!sink.write(part)) await drainOrClose(sink);
      if (sink.destroyed) throw sink.errored ?? new Error("layer sink closed early");
    }
  };

  let sawInput = false;
  for await (const chunk of rechunk(tar as AsyncIterable<Buffer>, chunkSize)) {
    opts.signal?.throwIfAborted();
    sawInput = true;
    tarHash.update(chunk);
    tarSize += chunk.length;
    const job = member(chunk, level);
    job.catch(() => undefined); // awaited in order below; this keeps an early failure from going unhandled
    inFlight.push(job);
    if (inFlight.length >= parallel) await emit(await inFlight.shift()!);
  }
  if (!sawInput) inFlight.push(member(Buffer.alloc(0), level));
  while (inFlight.length) await emit(await inFlight.shift()!);
  sink.end();
  return { diffId: `sha256:${tarHash.digest("hex")}`, digest: `sha256:${blobHash.digest("hex")}`, size, tarSize };
}

/** Waits for `drain` or `close`, removing the listener that did not fire (a layer writes thousands of chunks). */
async function drainOrClose(sink: NodeJS.EventEmitter): Promise<void> {
  const done = new AbortController();
  try {
    await Promise.race([once(sink, "drain", { signal: done.signal }), once(sink, "close", { signal: done.signal })]);
  } finally {
    done.abort();
  }
}
