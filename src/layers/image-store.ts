/**
 * Images in the content store: writing a config and manifest, and reading an image back by digest
 * (choosing a platform when the digest names an index).
 */
import { join } from "node:path";
import { canonicalJson } from "./canonical-json.js";
import type { ContentStore } from "./content-store.js";
import type { Digest } from "./digest.js";
import { parseImageConfig, type ImageConfig } from "./image-config.js";
import { ImageError } from "./image-errors.js";
import { formatPlatform, hostPlatform, platformMatches } from "./image-platform.js";
import { parseManifest, type Descriptor, type OciIndex, type OciManifest, type ParsedManifest, type Platform } from "./manifest.js";
import { MediaType } from "./media-types.js";
import { ownedName } from "./process-owner.js";

/**
 * A fresh path in the store's tmp/ for a temporary file, named so that the next `openStore` removes it
 * if this process dies before it does.
 */
export function scratchPath(store: { root: string }, suffix = ""): string {
  return join(store.root, "tmp", ownedName(suffix));
}

/** What image functions need of a store: its root (for index.json) and its blobs. */
export interface ImageStore {
  root: string;
  content: ContentStore;
}

export interface LayerDescriptor {
  digest: Digest;
  size: number;
  mediaType: string;
  annotations?: Record<string, string>;
}

export interface WriteImageInput {
  config: ImageConfig;
  layers: LayerDescriptor[];
  annotations?: Record<string, string>;
}

export interface WrittenImage {
  manifestDigest: Digest;
  manifestSize: number;
  configDigest: Digest;
  manifest: OciManifest;
}

/**
 * Writes the config and an OCI manifest for it into the content store, both as canonical JSON (sorted
 * keys), so the same config and layers always give the same digests. The layer blobs must be stored.
 */
export async function writeImage(store: ImageStore, input: WriteImageInput): Promise<WrittenImage> {
  const config = parseImageConfig(input.config, "the image config to write");
  if (config.rootfs.diff_ids.length !== input.layers.length) {
    throw new ImageError("IMAGE_FORMAT_INVALID", `the config lists ${config.rootfs.diff_ids.length} diff IDs but ${input.layers.length} layers were given`, {
      hint: "give one layer per rootfs.diff_ids entry, in the same order",
    });
  }
  const configBlob = await store.content.writeBuffer(canonicalJson(config));
  return writeManifest(store, configBlob, input.layers, input.annotations);
}

/**
 * Writes an OCI manifest for a config blob already stored (kept byte for byte, so an imported Docker
 * image keeps its image ID) and stored layers.
 */
export async function writeManifest(
  store: ImageStore,
  configBlob: { digest: Digest; size: number },
  layers: LayerDescriptor[],
  annotations?: Record<string, string>,
): Promise<WrittenImage> {
  for (const layer of layers) {
    if (!(await store.content.has(layer.digest))) throw missingBlob(layer.digest, "layer");
  }
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size, ...(l.annotations ? { annotations: l.annotations } : {}) })),
    ...(annotations ? { annotations } : {}),
  };
  const manifestBlob = await store.content.writeBuffer(canonicalJson(manifest));
  return { manifestDigest: manifestBlob.digest, manifestSize: manifestBlob.size, configDigest: configBlob.digest, manifest };
}

/** Reads and parses a manifest or index blob. */
export async function readManifestBlob(store: ImageStore, digest: Digest, mediaTypeHint?: string): Promise<ParsedManifest> {
  if (!(await store.content.has(digest))) throw missingBlob(digest, "manifest");
  return parseManifest(await store.content.readBuffer(digest), mediaTypeHint, `manifest ${digest}`);
}

export interface StoredImage {
  /** The platform manifest's digest (a child of `indexDigest` when the name pointed to an index). */
  manifestDigest: Digest;
  manifest: OciManifest;
  configDigest: Digest;
  config: ImageConfig;
  /** Set when the digest asked for named an index, from which the platform's manifest was chosen. */
  indexDigest?: Digest;
}

/**
 * An image by manifest or index digest; from an index the entry for `platform` (default: this host)
 * whose manifest is in the store. Throws IMAGE_NOT_FOUND when an index has no such entry.
 */
export async function readImage(store: ImageStore, digest: Digest, platform: Platform = hostPlatform(), mediaTypeHint?: string): Promise<StoredImage> {
  const parsed = await readManifestBlob(store, digest, mediaTypeHint);
  if (parsed.kind === "manifest") return withConfig(store, digest, parsed.manifest);
  const child = await pickPlatform(store, parsed.index, platform);
  if (!child) {
    const offered = parsed.index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : "?")).join(", ");
    throw new ImageError("IMAGE_NOT_FOUND", `image index ${digest} has no manifest for ${formatPlatform(platform)} in the local store (it lists: ${offered || "nothing"})`, {
      hint: "pull the image for this platform, or ask for one of the listed platforms",
    });
  }
  const inner = await readImage(store, child.digest, platform, child.mediaType);
  return { ...inner, indexDigest: digest };
}

async function pickPlatform(store: ImageStore, index: OciIndex, platform: Platform): Promise<Descriptor | undefined> {
  const candidates = index.manifests.filter((m) => platformMatches(m.platform, platform));
  for (const candidate of candidates) if (await store.content.has(candidate.digest)) return candidate;
  return undefined;
}

async function withConfig(store: ImageStore, manifestDigest: Digest, manifest: OciManifest): Promise<StoredImage> {
  const configDigest = manifest.config.digest;
  if (!(await store.content.has(configDigest))) throw missingBlob(configDigest, "config");
  const config = parseImageConfig(await store.content.readBuffer(configDigest), `config ${configDigest}`);
  return { manifestDigest, manifest, configDigest, config };
}

function missingBlob(digest: Digest, what: string): ImageError {
  return new ImageError("IMAGE_BLOB_MISSING", `the ${what} blob ${digest} is not in the content store`, {
    hint: "pull or build the image again; `gc` may have removed blobs nothing referenced",
  });
}
