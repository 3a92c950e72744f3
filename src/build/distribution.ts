/**
 * Moving images between the local store and registries: pull (the manifest and every blob into the
 * content store, verified; layers are unpacked into snapshots later, once, when a build uses them) and
 * push (config and layers in parallel, what the registry has skipped, the manifest last).
 */
import { normalizeImageName, resolveLocalImage, tagImage, type Store } from "../layers/index.js";
import { createRegistryClient, type RegistryClient, type RegistryClientOptions, type RegistryEvent } from "../registry/index.js";
import { BuildError } from "./errors.js";
import type { UntimedEvent } from "./events.js";

export interface RegistryOptions {
  insecureRegistries?: string[];
  caFile?: string;
  /** Where `~/.docker/config.json` style credentials are read (default: DOCKER_CONFIG / ~/.docker). */
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

export function registryClient(options: RegistryOptions, emit?: (e: UntimedEvent) => void, id = "registry"): RegistryClient {
  const clientOptions: RegistryClientOptions = {
    insecureRegistries: options.insecureRegistries ?? [],
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...(options.env ? { env: options.env as NodeJS.ProcessEnv } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(emit ? { onEvent: (e: RegistryEvent) => forward(emit, id, e) } : {}),
  };
  return createRegistryClient(clientOptions);
}

/** Registry progress as build events: bytes moved per blob, and retries as warnings. */
function forward(emit: (e: UntimedEvent) => void, id: string, e: RegistryEvent): void {
  if (e.type === "blob-progress") emit({ type: "bytes", id, label: e.digest.slice(7, 19), current: e.bytes, ...(e.size !== undefined ? { total: e.size } : {}) });
  else if (e.type === "retry") emit({ type: "warning", code: "REGISTRY_RETRY", message: `${e.method} to ${e.registry} failed (${e.reason}); retry ${e.attempt} in ${e.delayMs} ms` });
}

export interface PulledIntoStore {
  name: string;
  manifestDigest: string;
  /** Blobs that were downloaded (the rest were in the store already). */
  fetched: string[];
}

/** Pulls `name` for `platform` into the store and tags it; returns the platform manifest's digest. */
export async function pullIntoStore(store: Store, client: RegistryClient, name: string, platform: { os: string; architecture: string; variant?: string }, signal?: AbortSignal): Promise<PulledIntoStore> {
  const pulled = await client.pullImage(name, {
    platform,
    has: (blob) => store.content.has(blob.digest),
    // The content store verifies while it writes and renames only on a match: the bytes are hashed once.
    store: async (blob, stream) => {
      await store.content.write(stream, { expected: blob.digest, size: blob.size, ...(signal ? { signal } : {}) });
    },
    storeVerifies: true,
    ...(signal ? { signal } : {}),
  });
  await store.content.writeBuffer(pulled.bytes, { expected: pulled.digest });
  const full = normalizeImageName(name);
  // A reference by digest names content, not a tag: keep it reachable by that name without a tag.
  if (!full.includes("@")) await tagImage(store, full, pulled.digest);
  else await tagImage(store, full.replace(/@sha256:[0-9a-f]{64}$/, ""), pulled.digest);
  return { name: full, manifestDigest: pulled.digest, fetched: pulled.fetched };
}

/** Pushes a local image to the registry its name points at (`127.0.0.1:5000/app:1`), or to `destination`. */
export async function pushFromStore(store: Store, client: RegistryClient, name: string, destination = name, signal?: AbortSignal): Promise<{ digest: string; pushed: number; skipped: number }> {
  const image = await resolveLocalImage(store, name);
  if (!image) throw new BuildError("BUILD_IMAGE_NOT_FOUND", `image '${name}' is not in the local store`, { hint: "build or pull it first; 'build-image images' lists what is there" });
  const bytes = await store.content.readBuffer(image.manifestDigest);
  const descriptors = [image.manifest.config, ...image.manifest.layers];
  const result = await client.pushImage(destination, {
    manifest: { bytes, mediaType: image.manifest.mediaType ?? "application/vnd.oci.image.manifest.v1+json" },
    blobs: descriptors.map((d) => ({ digest: d.digest, size: d.size, open: () => store.content.open(d.digest) })),
    ...(signal ? { signal } : {}),
  });
  const outcomes = Object.values(result.blobs);
  return { digest: result.digest, pushed: outcomes.filter((o) => o === "pushed").length, skipped: outcomes.filter((o) => o !== "pushed").length };
}
