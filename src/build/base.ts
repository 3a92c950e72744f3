/**
 * Where a stage starts: `scratch`, an image in the local store (its layers unpacked into snapshots once,
 * then reused), or an earlier stage's final state.
 */
import { cacheKey } from "../cache/index.js";
import { childChainId, formatPlatform, resolveLocalImage, type Store } from "../layers/index.js";
import type { Platform } from "../instructions/index.js";
import { BuildError } from "./errors.js";
import { imagePlatform, scratchConfig, type StageState } from "./stage-state.js";

export interface BaseImage {
  name: string;
  manifestDigest: string;
  state: StageState;
}

/** The initial state of a `FROM scratch` stage. */
export function scratchState(label: string, platform: Platform): StageState {
  return {
    label,
    config: scratchConfig(imagePlatform(platform)),
    chainId: null,
    layers: [],
    cacheKey: cacheKey(null, { kind: "from", fields: { digest: "scratch", platform: formatPlatform(imagePlatform(platform)) } }),
    cmdSet: false,
  };
}

/**
 * A local image as a stage's starting state, with every layer unpacked into a snapshot (once: later builds
 * find the chain and read nothing). Returns undefined when the store has no such image.
 */
export async function localImageState(store: Store, ref: string, label: string, platform: Platform, signal?: AbortSignal): Promise<BaseImage | undefined> {
  const image = await resolveLocalImage(store, ref, { platform: imagePlatform(platform) });
  if (!image) return undefined;
  const diffIds = image.config.rootfs.diff_ids;
  if (diffIds.length !== image.manifest.layers.length) {
    throw new BuildError("BUILD_BASE_INVALID", `image ${ref}: its config lists ${diffIds.length} layers but its manifest ${image.manifest.layers.length}`, {
      hint: "pull or import the image again",
    });
  }
  let chainId: string | null = null;
  const layers = image.manifest.layers.map((layer, i) => ({ digest: layer.digest, size: layer.size, mediaType: layer.mediaType, diffId: diffIds[i]! }));
  for (const layer of layers) {
    const next = childChainId(chainId, layer.diffId);
    if (!(await store.snapshots.has(next))) {
      await store.snapshots.applyLayer(chainId, store.content.open(layer.digest), { mediaType: layer.mediaType, diffId: layer.diffId, ...(signal ? { signal } : {}) });
    }
    chainId = next;
  }
  return {
    name: image.name ?? ref,
    manifestDigest: image.manifestDigest,
    state: {
      label,
      config: structuredClone(image.config),
      chainId,
      layers,
      cacheKey: cacheKey(null, { kind: "from", fields: { digest: image.manifestDigest, platform: formatPlatform(imagePlatform(platform)) } }),
      cmdSet: false,
    },
  };
}
