/** Following an image from its manifest or index to every blob it needs. */
import type { Digest } from "./digest.js";
import { parseImageConfig, type ImageConfig } from "./image-config.js";
import type { ImageStore } from "./image-store.js";
import { parseManifest, type OciManifest } from "./manifest.js";

export interface WalkedImage {
  manifestDigest: Digest;
  manifest: OciManifest;
  /** Undefined when the config blob is missing or unreadable. */
  config: ImageConfig | undefined;
}

export interface ImageGraph {
  /** Every blob reachable from the roots that the store holds: indexes, manifests, configs, layers. */
  blobs: Set<Digest>;
  /** Every image manifest reached (index children too). */
  images: WalkedImage[];
  /** Reachable digests the store lacks (index children of other platforms, usually). */
  missing: Set<Digest>;
}

/**
 * Walks from root digests through indexes, manifests, configs and layers. Tolerant: a missing or
 * malformed document is recorded and skipped, never thrown, because gc must not stop on one bad image.
 */
export async function walkImages(store: ImageStore, roots: Iterable<{ digest: Digest; mediaType?: string }>, signal?: AbortSignal): Promise<ImageGraph> {
  const graph: ImageGraph = { blobs: new Set(), images: [], missing: new Set() };
  const queue = [...roots];
  const note = async (digest: Digest): Promise<boolean> => {
    if (graph.blobs.has(digest) || graph.missing.has(digest)) return false;
    if (await store.content.has(digest)) {
      graph.blobs.add(digest);
      return true;
    }
    graph.missing.add(digest);
    return false;
  };
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
    signal?.throwIfAborted();
    if (!(await note(item.digest))) continue;
    let parsed;
    try {
      parsed = parseManifest(await store.content.readBuffer(item.digest), item.mediaType);
    } catch {
      continue; // not a manifest (an artifact's blob listed in an index): keep it, look no further
    }
    if (parsed.kind === "index") {
      queue.push(...parsed.index.manifests);
      continue;
    }
    const { manifest } = parsed;
    let config: ImageConfig | undefined;
    if (await note(manifest.config.digest)) {
      config = await store.content.readBuffer(manifest.config.digest).then((b) => parseImageConfig(b)).catch(() => undefined);
    }
    for (const layer of manifest.layers) await note(layer.digest);
    graph.images.push({ manifestDigest: item.digest, manifest, config });
  }
  return graph;
}
