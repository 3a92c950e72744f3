/**
 * What every step dispatcher gets, and the one cache-aware path all layer-making steps go through:
 * key → hit (reuse the recorded snapshot and blob; nothing runs) or miss (explain, execute, record).
 */
import type { BuildContext } from "../context/index.js";
import { cacheKey, type Cache, type CacheInputs, type CacheResult } from "../cache/index.js";
import type { Instruction } from "../instructions/index.js";
import type { Store } from "../layers/index.js";
import type { UntimedEvent } from "./events.js";
import type { ResolvedBuildOptions } from "./options.js";
import type { StageState } from "./stage-state.js";

export interface Secret {
  id: string;
  value: Buffer;
}

export interface BuildServices {
  store: Store;
  cache: Cache;
  context: BuildContext;
  options: ResolvedBuildOptions;
  emit: (event: UntimedEvent) => void;
  /** Where the sandbox keeps its records and bundles. */
  sandboxDir: string;
  secrets: Map<string, Secret>;
  /** The state a stage ended in, once it has run (for FROM, COPY --from, RUN --mount=from). */
  stageResult(index: number): Promise<StageState>;
  /** A root filesystem chain for an image named by COPY --from / mount from=. */
  imageChain(ref: string): Promise<{ chainId: string | null }>;
  /** Build time for history entries and `created`: SOURCE_DATE_EPOCH when set. */
  created: string;
  /** Pulls an image the local store lacks (or, with --pull, checks for a newer one) into the store. */
  pull(ref: string): Promise<void>;
}

export interface Step {
  id: string;
  instruction: Instruction;
  /** Stable across rebuilds of the same Dockerfile step: how a miss finds what it is a miss against. */
  slot: string;
}

/** A step's work on a miss: the layer it committed. */
export type Execute = () => Promise<CacheResult>;

export interface StepOutcome {
  cached: boolean;
  /** No layer was made (the step changed nothing): its history entry is an `empty_layer`. */
  empty: boolean;
  /** The cache key of a step that has a cache record (layer steps), for exporting the cache. */
  key?: string;
}

/**
 * Runs a layer-making step through the cache and applies its result to the stage. On a hit whose
 * snapshot is gone but whose blob is here (or was pulled from a remote cache), the blob is unpacked
 * instead of running the step.
 */
export async function cachedLayerStep(services: BuildServices, state: StageState, step: Step, inputs: CacheInputs, execute: Execute): Promise<StepOutcome> {
  const { cache, options, emit } = services;
  const parent = state.cacheKey;
  const key = cacheKey(parent, inputs);
  const noCache = options.noCache || options.noCacheFilter.includes(state.label);
  if (!noCache) {
    const record = await cache.get(key);
    if (record && (await usable(services, state, record.result))) {
      await cache.touch(key);
      emit({ type: "cache", id: step.id, hit: true, reason: "CACHED" });
      applyResult(state, record.result, key);
      return { cached: true, empty: record.result.empty, key };
    }
  }
  const reason = noCache ? "--no-cache" : await cache.explainMiss(step.slot, parent, inputs);
  emit({ type: "cache", id: step.id, hit: false, reason });
  const result = await execute();
  await cache.put(key, { parent, inputs, result, slot: step.slot });
  applyResult(state, result, key);
  return { cached: false, empty: result.empty, key };
}

/** A record can be reused when its snapshot is here, or its blob is here to unpack again. */
async function usable(services: BuildServices, state: StageState, result: CacheResult): Promise<boolean> {
  const { snapshots, content } = services.store;
  if (result.empty) return result.chainId === state.chainId;
  if (!result.layer || result.chainId === null) return false;
  if (await snapshots.has(result.chainId)) return content.has(result.layer.digest);
  if (!(await content.has(result.layer.digest))) return false;
  const applied = await snapshots.applyLayer(state.chainId, content.open(result.layer.digest), {
    mediaType: result.layer.mediaType,
    diffId: result.layer.diffId,
    ...(services.options.signal ? { signal: services.options.signal } : {}),
  });
  return applied.chainId === result.chainId;
}

function applyResult(state: StageState, result: CacheResult, key: string): void {
  state.cacheKey = key;
  if (result.empty || !result.layer) return;
  state.chainId = result.chainId;
  state.layers.push(result.layer);
  state.config.rootfs.diff_ids.push(result.layer.diffId);
}

/** Turns a snapshot commit into the result the cache records. */
export function commitResult(layer: { empty: true; chainId: string | null } | { empty: false; chainId: string; diffId: string; digest: string; size: number; mediaType: string }): CacheResult {
  if (layer.empty) return { empty: true, chainId: layer.chainId };
  return { empty: false, chainId: layer.chainId, layer: { digest: layer.digest, size: layer.size, mediaType: layer.mediaType, diffId: layer.diffId } };
}
