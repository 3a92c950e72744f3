import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { combineSignals, digestOf, expect, pushScope, splitDigest, type ClientContext } from "./context.js";
import { discard, header, type RegistryResponse } from "./dispatch.js";
import { RegistryError, isRegistryError } from "./errors.js";
import { forEachLimited } from "./limit.js";
import { backoff } from "./retry.js";
import { makeReference, withTag, type ImageReference } from "./reference.js";

export interface BlobSource {
  digest: string;
  size: number;
  /** Opens the blob's bytes; may be called more than once (retries). */
  open: () => Readable;
}

export type BlobPushResult = "exists" | "mounted" | "pushed";

export interface ManifestSource {
  bytes: Buffer;
  mediaType: string;
}

export interface PushImageOptions {
  /** The image manifest, or an image index. */
  manifest: ManifestSource;
  /** For an index: the manifests it lists, pushed by digest before it. */
  manifests?: ManifestSource[];
  /** Every blob the manifest(s) refer to: configs and layers. */
  blobs: BlobSource[];
  /** Tags to put the manifest under, besides the reference's own tag. */
  tags?: string[];
  /** Other repositories of the same registry that may hold the blobs (cross-repository mount). */
  mountFrom?: string[];
  /** Blobs uploaded at once. Default 3. */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface PushImageResult {
  digest: string;
  blobs: Record<string, BlobPushResult>;
}

const octets = "application/octet-stream";

function uploadLocation(res: RegistryResponse, ref: ImageReference): string {
  const location = header(res, "location");
  discard(res);
  if (!location) throw new RegistryError("REGISTRY_PROTOCOL", `registry ${ref.registry} started an upload without a Location`, { registry: ref.registry, repository: ref.repository });
  return new URL(location, res.url).href;
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set("digest", digest);
  return url.href;
}

export async function hasBlob(ctx: ClientContext, ref: ImageReference, digest: string, signal?: AbortSignal): Promise<boolean> {
  const res = await expect(ctx, ref, `blob ${digest}`, [200, 404], {
    method: "HEAD",
    path: `/v2/${ref.repository}/blobs/${digest}`,
    scopes: [pushScope(ref)],
    signal,
  });
  discard(res);
  return res.status === 200;
}

function localBlobDamaged(ref: ImageReference, blob: BlobSource, detail: string): RegistryError {
  return new RegistryError("REGISTRY_DIGEST_MISMATCH", `local blob ${blob.digest} ${detail}; it was not pushed`, {
    registry: ref.registry,
    repository: ref.repository,
    hint: "the local store holds a damaged blob; remove it and build again",
  });
}

/**
 * Chunked upload: PATCHes with Content-Range, each streaming the next chunkSize bytes of one source
 * stream (nothing buffered, nothing copied), then PUT ?digest=. A chunk cannot be sent twice, so a
 * failed one is not retried here: pushBlob starts the blob again.
 */
async function uploadChunked(ctx: ClientContext, ref: ImageReference, blob: BlobSource, start: string, signal: AbortSignal | undefined): Promise<string> {
  const { algorithm } = splitDigest(blob.digest);
  const hash = createHash(algorithm);
  const source = blob.open();
  const pieces = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let leftover: Buffer | undefined;
  async function* slice(length: number): AsyncGenerator<Buffer> {
    for (let remaining = length; remaining > 0; ) {
      let piece = leftover;
      leftover = undefined;
      if (!piece) {
        const next = await pieces.next();
        if (next.done) throw localBlobDamaged(ref, blob, `ended before its ${blob.size} bytes`);
        piece = next.value;
      }
      if (piece.length > remaining) {
        leftover = piece.subarray(remaining);
        piece = piece.subarray(0, remaining);
      }
      hash.update(piece);
      remaining -= piece.length;
      yield piece;
    }
  }
  let location = start;
  try {
    for (let offset = 0; offset < blob.size; ) {
      const length = Math.min(ctx.chunkSize, blob.size - offset);
      let opened = false;
      const res = await expect(ctx, ref, `upload of blob ${blob.digest}`, [202], {
        method: "PATCH",
        path: location,
        headers: { "content-type": octets, "content-length": String(length), "content-range": `${offset}-${offset + length - 1}` },
        body: () => {
          if (opened) throw localBlobDamaged(ref, blob, "chunk was asked for twice");
          opened = true;
          return Readable.from(slice(length), { objectMode: false });
        },
        once: true,
        scopes: [pushScope(ref)],
        signal,
      });
      location = uploadLocation(res, ref);
      offset += length;
      ctx.emit({ type: "blob-progress", repository: ref.repository, digest: blob.digest, bytes: offset, size: blob.size });
    }
    if (leftover?.length || !(await pieces.next()).done) throw localBlobDamaged(ref, blob, `is longer than ${blob.size} bytes`);
  } finally {
    source.destroy();
  }
  const actual = `${algorithm}:${hash.digest("hex")}`;
  if (actual !== blob.digest) throw localBlobDamaged(ref, blob, `has digest ${actual}`);
  return location;
}

/**
 * Makes the registry hold a blob: nothing if it has it (HEAD), a cross-repository mount if one of
 * `mountFrom` has it, else one PUT (up to chunkSize) or a chunked upload.
 */
export async function pushBlob(ctx: ClientContext, ref: ImageReference, blob: BlobSource, options: { mountFrom?: string[]; signal?: AbortSignal } = {}): Promise<BlobPushResult> {
  const signal = combineSignals(ctx.signal, options.signal);
  const event = (action: BlobPushResult): BlobPushResult => {
    ctx.emit({ type: "blob", action, repository: ref.repository, digest: blob.digest, size: blob.size });
    return action;
  };
  if (await hasBlob(ctx, ref, blob.digest, signal)) return event("exists");
  let location: string | undefined;
  for (const from of (options.mountFrom ?? []).filter((r) => r !== ref.repository)) {
    const res = await expect(ctx, ref, `mount of blob ${blob.digest}`, [201, 202], {
      method: "POST",
      path: `/v2/${ref.repository}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`,
      headers: { "content-length": "0" },
      scopes: [pushScope(ref), `repository:${from}:pull`],
      signal,
    });
    if (res.status === 201) {
      discard(res);
      return event("mounted");
    }
    // 202: the registry did not find it there and opened an ordinary upload instead.
    location = uploadLocation(res, ref);
    break;
  }
  const startUpload = async (): Promise<string> =>
    uploadLocation(
      await expect(ctx, ref, `upload of blob ${blob.digest}`, [202], {
        method: "POST",
        path: `/v2/${ref.repository}/blobs/uploads/`,
        headers: { "content-length": "0" },
        scopes: [pushScope(ref)],
        signal,
      }),
      ref,
    );
  location ??= await startUpload();
  // An upload session does not survive a request cut off midway (the registry's offset and ours
  // disagree): start the blob again, a couple of times, rather than fail the push.
  for (let attempt = 0; ; attempt++) {
    try {
      await upload(ctx, ref, blob, location, signal);
      return event("pushed");
    } catch (err) {
      const sessionLost = isRegistryError(err) && err.code !== "REGISTRY_DIGEST_MISMATCH" && (err.retriable || [400, 401, 404, 416].includes(err.status ?? 0));
      if (!sessionLost || attempt >= restarts || signal?.aborted) throw err;
      const delay = backoff(attempt, ctx.retry);
      ctx.emit({ type: "retry", registry: ref.registry, method: "POST", attempt: attempt + 1, delayMs: Math.round(delay), reason: `upload of blob ${blob.digest} broke off (${(err as Error).message}); starting it again` });
      await sleep(delay, undefined, { signal });
      location = await startUpload();
    }
  }
}

const restarts = 2;

async function upload(ctx: ClientContext, ref: ImageReference, blob: BlobSource, start: string, signal: AbortSignal | undefined): Promise<void> {
  const monolithic = blob.size <= ctx.chunkSize;
  const location = monolithic ? start : await uploadChunked(ctx, ref, blob, start, signal);
  const res = await expect(ctx, ref, `upload of blob ${blob.digest}`, [201], {
    method: "PUT",
    path: withDigest(location, blob.digest),
    headers: monolithic ? { "content-type": octets, "content-length": String(blob.size) } : { "content-length": "0" },
    body: monolithic ? blob.open : undefined,
    scopes: [pushScope(ref)],
    signal,
  });
  discard(res);
}

/** PUTs a manifest or index under the reference's tag (or digest) and returns its digest. */
export async function putManifest(ctx: ClientContext, ref: ImageReference, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<string> {
  const digest = digestOf(bytes);
  const reference = ref.tag ?? ref.digest ?? digest;
  const res = await expect(ctx, ref, `push of manifest ${reference}`, [201], {
    method: "PUT",
    path: `/v2/${ref.repository}/manifests/${reference}`,
    headers: { "content-type": mediaType, "content-length": String(bytes.length) },
    body: () => bytes,
    scopes: [pushScope(ref)],
    signal,
  });
  discard(res);
  ctx.emit({ type: "manifest", action: "pushed", repository: ref.repository, digest, tag: ref.tag });
  return digest;
}

/** Pushes an image (or index): blobs in parallel, then child manifests by digest, then every tag. */
export async function pushImage(ctx: ClientContext, ref: ImageReference, options: PushImageOptions): Promise<PushImageResult> {
  const signal = combineSignals(ctx.signal, options.signal);
  const unique = [...new Map(options.blobs.map((b) => [b.digest, b])).values()];
  const blobs: Record<string, BlobPushResult> = {};
  // The first failure stops the other workers from starting more uploads.
  const abort = new AbortController();
  const inner = combineSignals(signal, abort.signal);
  await forEachLimited(unique, options.concurrency ?? 3, async (blob) => {
    if (abort.signal.aborted) return;
    try {
      blobs[blob.digest] = await pushBlob(ctx, ref, blob, { mountFrom: options.mountFrom, signal: inner });
    } catch (err) {
      if (!abort.signal.aborted) abort.abort(err);
      throw err;
    }
  }).catch((err: unknown) => {
    throw abort.signal.aborted && abort.signal.reason !== undefined ? abort.signal.reason : err;
  });
  for (const child of options.manifests ?? []) {
    await putManifest(ctx, makeReference(ref.registry, ref.repository, undefined, digestOf(child.bytes)), child.bytes, child.mediaType, signal);
  }
  const tags = [...new Set([...(ref.tag ? [ref.tag] : []), ...(options.tags ?? [])])];
  const targets = tags.length ? tags.map((tag) => withTag(ref, tag)) : [makeReference(ref.registry, ref.repository, undefined, digestOf(options.manifest.bytes))];
  let digest = "";
  for (const target of targets) digest = await putManifest(ctx, target, options.manifest.bytes, options.manifest.mediaType, signal);
  return { digest, blobs };
}
