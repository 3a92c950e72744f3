import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, digestMismatch, sizeMismatch, digestOf, pullScope, splitDigest, combineSignals, type ClientContext } from "./context.js";
import { header, readBody } from "./dispatch.js";
import { RegistryError, isRegistryError } from "./errors.js";
import { MANIFEST_ACCEPT, isIndexMediaType } from "./media-types.js";
import { formatPlatform, hostPlatform, selectPlatform, type IndexEntry, type Platform } from "./platform.js";
import { makeReference, type ImageReference } from "./reference.js";
import { backoff } from "./retry.js";
import { forEachLimited } from "./limit.js";

export interface Manifest {
  digest: string;
  mediaType: string;
  /** The exact bytes: their digest is `digest`. */
  bytes: Buffer;
  /** The parsed JSON. */
  manifest: Record<string, unknown> & { mediaType?: string; manifests?: IndexEntry[] };
}

export interface PulledManifest extends Manifest {
  /** The index the manifest was selected from, when the reference named one. */
  index?: Manifest | undefined;
  platform?: Platform | undefined;
}

/** GETs the manifest or index `ref` names, as is, and checks its digest when `ref` has one. */
export async function getRawManifest(ctx: ClientContext, ref: ImageReference, signal?: AbortSignal): Promise<Manifest> {
  const reference = ref.digest ?? ref.tag ?? "latest";
  const res = await expect(ctx, ref, `manifest ${reference}`, [200], {
    method: "GET",
    path: `/v2/${ref.repository}/manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT.join(", ") },
    scopes: [pullScope(ref)],
    signal,
  });
  const bytes = await readBody(res);
  const expected = ref.digest ?? header(res, "docker-content-digest");
  const algorithm = expected ? splitDigest(expected).algorithm : "sha256";
  const digest = digestOf(bytes, algorithm);
  if (expected && expected !== digest) throw digestMismatch(ref, `manifest ${reference}`, expected, digest);
  let manifest: Manifest["manifest"];
  try {
    manifest = JSON.parse(bytes.toString("utf8")) as Manifest["manifest"];
  } catch {
    throw new RegistryError("REGISTRY_PROTOCOL", `manifest ${reference} of ${ref.registry}/${ref.repository} is not JSON`, { registry: ref.registry, repository: ref.repository });
  }
  const mediaType = manifest.mediaType ?? header(res, "content-type")?.split(";")[0] ?? "";
  if (!MANIFEST_ACCEPT.includes(mediaType)) {
    throw new RegistryError("REGISTRY_UNSUPPORTED_MEDIA_TYPE", `manifest ${reference} of ${ref.registry}/${ref.repository} has unsupported type "${mediaType}"`, {
      registry: ref.registry,
      repository: ref.repository,
      hint: "only OCI and Docker schema 2 manifests are supported; re-push the image with a current client",
    });
  }
  return { digest, mediaType, bytes, manifest };
}

/** The image manifest for `platform` (the host by default): an index is resolved to one of its entries. */
export async function getManifest(ctx: ClientContext, ref: ImageReference, options: { platform?: Platform; signal?: AbortSignal } = {}): Promise<PulledManifest> {
  const top = await getRawManifest(ctx, ref, options.signal);
  if (!isIndexMediaType(top.mediaType)) return top;
  const platform = options.platform ?? hostPlatform();
  const entries = top.manifest.manifests ?? [];
  const entry = selectPlatform(entries, platform);
  if (!entry) {
    const offered = entries.flatMap((e) => (e.platform ? [formatPlatform(e.platform)] : [])).join(", ");
    throw new RegistryError("REGISTRY_PLATFORM_NOT_FOUND", `${ref} has no image for platform ${formatPlatform(platform)} (it has: ${offered || "none"})`, {
      registry: ref.registry,
      repository: ref.repository,
      hint: "choose one of the listed platforms with --platform",
    });
  }
  const child = await getRawManifest(ctx, makeReference(ref.registry, ref.repository, undefined, entry.digest), options.signal);
  return { ...child, index: top, platform: entry.platform };
}

export interface FetchBlobOptions {
  size?: number;
  /**
   * false: the caller checks the digest itself (a content store writing with `expected` does), so the
   * bytes are not hashed twice. The size is still checked. Default true.
   */
  verify?: boolean;
  signal?: AbortSignal;
}

/**
 * Streams a blob, hashing as it goes. The stream fails with REGISTRY_DIGEST_MISMATCH at the end if the
 * bytes are wrong, so a caller that writes to a temp file and renames on success never keeps bad data.
 * A download cut off midway is resumed with `Range` (or re-read and skipped, if the registry ignores it).
 */
export function fetchBlob(ctx: ClientContext, ref: ImageReference, digest: string, options: FetchBlobOptions = {}): Readable {
  const { algorithm, hex } = splitDigest(digest);
  const signal = combineSignals(ctx.signal, options.signal);
  const retries = ctx.retry.retries ?? 4;

  async function* chunks(): AsyncGenerator<Buffer> {
    const hash = options.verify === false ? undefined : createHash(algorithm);
    let offset = 0;
    for (let attempt = 0; ; attempt++) {
      const res = await expect(ctx, ref, `blob ${digest}`, [200, 206], {
        method: "GET",
        path: `/v2/${ref.repository}/blobs/${digest}`,
        headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
        scopes: [pullScope(ref)],
        signal,
      });
      const start = res.status === 206 ? Number(/bytes (\d+)-/.exec(header(res, "content-range") ?? "")?.[1] ?? NaN) : 0;
      if (Number.isNaN(start) || start > offset) {
        res.body.destroy();
        throw new RegistryError("REGISTRY_PROTOCOL", `registry ${ref.registry} answered a range request for blob ${digest} with a wrong range`, { registry: ref.registry, repository: ref.repository });
      }
      let skip = offset - start;
      try {
        for await (const piece of res.body) {
          let chunk = piece as Buffer;
          if (skip > 0) {
            const dropped = Math.min(skip, chunk.length);
            skip -= dropped;
            chunk = chunk.subarray(dropped);
            if (chunk.length === 0) continue;
          }
          hash?.update(chunk);
          offset += chunk.length;
          if (options.size !== undefined && offset > options.size) throw sizeMismatch(ref, digest, options.size, `more than ${options.size}`);
          yield chunk;
        }
        break;
      } catch (err) {
        if (isRegistryError(err) || signal?.aborted || attempt >= retries) throw err;
        const delay = backoff(attempt, ctx.retry);
        ctx.emit({ type: "retry", registry: ref.registry, method: "GET", attempt: attempt + 1, delayMs: Math.round(delay), reason: `blob download cut off at ${offset} bytes` });
        await sleep(delay, undefined, { signal });
      } finally {
        res.body.destroy();
      }
    }
    if (options.size !== undefined && offset !== options.size) throw sizeMismatch(ref, digest, options.size, String(offset));
    if (hash) {
      const actual = `${algorithm}:${hash.digest("hex")}`;
      if (actual !== `${algorithm}:${hex}`) throw digestMismatch(ref, `blob ${digest}`, digest, actual);
    }
    ctx.emit({ type: "blob", action: "pulled", repository: ref.repository, digest, size: offset });
  }

  return Readable.from(chunks(), { objectMode: false });
}

export interface PullBlob {
  digest: string;
  size: number;
  mediaType: string;
}

export interface PullImageOptions {
  platform?: Platform;
  /** Blobs fetched at once. Default 3. */
  concurrency?: number;
  /** Whether the caller already has a blob; those are not fetched. */
  has?: (blob: PullBlob) => Promise<boolean>;
  /**
   * Takes one blob's verified stream, e.g. into a content store that renames only when the stream
   * ended without error. Must consume the stream (and reject if it fails).
   */
  store: (blob: PullBlob, stream: Readable) => Promise<void>;
  /** The store checks each blob's digest itself (e.g. a content store writing with `expected`): hash once. */
  storeVerifies?: boolean;
  signal?: AbortSignal;
}

export interface PulledImage extends PulledManifest {
  config: PullBlob;
  layers: PullBlob[];
  /** Digests that were fetched (the rest the caller had). */
  fetched: string[];
}

/** The manifest for a platform, then its config and layers in parallel into the caller's store. */
export async function pullImage(ctx: ClientContext, ref: ImageReference, options: PullImageOptions): Promise<PulledImage> {
  const signal = combineSignals(ctx.signal, options.signal);
  const pulled = await getManifest(ctx, ref, { platform: options.platform, signal });
  const manifest = pulled.manifest as { config?: PullBlob; layers?: PullBlob[] };
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new RegistryError("REGISTRY_PROTOCOL", `manifest ${pulled.digest} of ${ref.registry}/${ref.repository} has no config or layers`, { registry: ref.registry, repository: ref.repository });
  }
  const blobs = [manifest.config, ...manifest.layers];
  const fetched: string[] = [];
  await forEachLimited(blobs, options.concurrency ?? 3, async (blob) => {
    if (await options.has?.(blob)) return;
    await options.store(blob, fetchBlob(ctx, ref, blob.digest, { size: blob.size, signal, ...(options.storeVerifies ? { verify: false } : {}) }));
    fetched.push(blob.digest);
  });
  return { ...pulled, config: manifest.config, layers: manifest.layers, fetched };
}
