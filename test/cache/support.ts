// Shared by the cache tests: a RUN-like step with a real snapshot and layer, recorded in the cache.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cacheKey, type Cache, type CacheInputs } from "../../src/cache/index.js";
import { runInSnapshot, type Store } from "../../src/layers/index.js";

export interface RecordedStep {
  key: string;
  chainId: string;
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
  inputs: CacheInputs;
}

/** Writes `bytes` random bytes to /`name` on top of `parent`, commits the layer and puts its cache record. */
export async function recordLayerStep(store: Store, cache: Cache, parent: { key: string; chainId: string | null } | null, name: string, inputs: CacheInputs, bytes: number): Promise<RecordedStep> {
  const { layer } = await runInSnapshot(store.snapshots, parent?.chainId ?? null, (root) => writeFile(join(root, name), randomBytes(bytes)));
  if (layer.empty) throw new Error("a layer was expected");
  const key = cacheKey(parent?.key ?? null, inputs);
  const { chainId, digest, diffId, size, mediaType } = layer;
  await cache.put(key, { parent: parent?.key ?? null, inputs, result: { empty: false, chainId, layer: { digest, size, mediaType, diffId } }, slot: `ctx|Dockerfile|0|${name}` });
  return { key, chainId, digest, diffId, size, mediaType, inputs };
}
