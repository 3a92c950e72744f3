/**
 * OCI image manifests and indexes, and Docker's schema2 manifest and manifest list, which have the same
 * shape with other media types. `parseManifest` reads any of the four into one of two types.
 */
import { z } from "zod";
import { ImageError } from "./image-errors.js";
import { parseJson } from "./image-config.js";
import { MediaType, isIndexMediaType, isManifestMediaType, layerCompressionOf, ociLayerMediaType } from "./media-types.js";

const digest = z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, "not a digest");

export const PlatformSchema = z
  .object({
    architecture: z.string(),
    os: z.string(),
    "os.version": z.string().optional(),
    "os.features": z.array(z.string()).optional(),
    variant: z.string().optional(),
  })
  .loose();

export const DescriptorSchema = z
  .object({
    mediaType: z.string(),
    digest,
    size: z.number().int().nonnegative(),
    urls: z.array(z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    platform: PlatformSchema.optional(),
    artifactType: z.string().optional(),
  })
  .loose();

export const OciManifestSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    artifactType: z.string().optional(),
    config: DescriptorSchema,
    layers: z.array(DescriptorSchema),
    subject: DescriptorSchema.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

export const OciIndexSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    artifactType: z.string().optional(),
    manifests: z.array(DescriptorSchema),
    subject: DescriptorSchema.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

/** Docker's schema2 manifest: like OCI's but `mediaType` is required and its own. */
export const DockerManifestSchema = OciManifestSchema.extend({ mediaType: z.literal(MediaType.dockerManifest) });
export const DockerManifestListSchema = OciIndexSchema.extend({ mediaType: z.literal(MediaType.dockerManifestList) });

export type Platform = z.infer<typeof PlatformSchema>;
export type Descriptor = z.infer<typeof DescriptorSchema>;
export type OciManifest = z.infer<typeof OciManifestSchema>;
export type OciIndex = z.infer<typeof OciIndexSchema>;
export type DockerManifest = z.infer<typeof DockerManifestSchema>;
export type DockerManifestList = z.infer<typeof DockerManifestListSchema>;

export type ParsedManifest = { kind: "manifest"; manifest: OciManifest } | { kind: "index"; index: OciIndex };

/**
 * Reads an OCI manifest or index, or a Docker schema2 manifest or manifest list. The kind comes from the
 * document's `mediaType` (or `mediaTypeHint`, the Content-Type it was served with); without either, from
 * its shape (`manifests` versus `layers`), as the OCI spec allows. Media types are kept as they are, so
 * the bytes' digest still names the result.
 */
export function parseManifest(input: Uint8Array | string | unknown, mediaTypeHint?: string, what = "manifest"): ParsedManifest {
  const value = typeof input === "string" || input instanceof Uint8Array ? parseJson(input, what) : input;
  if (value === null || typeof value !== "object") throw invalid(what, "not a JSON object");
  const declared = (value as { mediaType?: unknown }).mediaType;
  if ((value as { schemaVersion?: unknown }).schemaVersion === 1) {
    throw new ImageError("IMAGE_FORMAT_INVALID", `${what} is a Docker schema 1 manifest, which build-image does not read`, {
      hint: "push the image again with a current Docker or skopeo to convert it to schema 2",
    });
  }
  const mediaType = typeof declared === "string" ? declared : mediaTypeHint;
  const looksLikeIndex = mediaType === undefined || !(isIndexMediaType(mediaType) || isManifestMediaType(mediaType))
    ? Array.isArray((value as { manifests?: unknown }).manifests)
    : isIndexMediaType(mediaType);
  if (mediaType !== undefined && !isIndexMediaType(mediaType) && !isManifestMediaType(mediaType)) {
    throw invalid(what, `unknown media type ${mediaType}`);
  }
  const schema = looksLikeIndex ? OciIndexSchema : OciManifestSchema;
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(what, z.prettifyError(result.error));
  return looksLikeIndex ? { kind: "index", index: result.data as OciIndex } : { kind: "manifest", manifest: result.data as OciManifest };
}

function invalid(what: string, detail: string): ImageError {
  return new ImageError("IMAGE_FORMAT_INVALID", `${what} is not a valid image manifest or index: ${detail}`, {
    hint: "the image may be corrupt or of an unsupported kind; pull or build it again",
  });
}

/**
 * A Docker schema2 manifest rewritten with OCI media types (config, layers, the manifest itself).
 * The result is a different document with a different digest: use it to write a new OCI image, never to
 * name the Docker one.
 */
export function dockerToOciManifest(manifest: OciManifest): OciManifest {
  return {
    ...manifest,
    mediaType: MediaType.ociManifest,
    config: { ...manifest.config, mediaType: manifest.config.mediaType === MediaType.dockerConfig ? MediaType.ociConfig : manifest.config.mediaType },
    layers: manifest.layers.map((layer) => {
      const compression = layerCompressionOf(layer.mediaType);
      return compression === undefined ? layer : { ...layer, mediaType: ociLayerMediaType(compression) };
    }),
  };
}

/** A Docker manifest list relabelled as an OCI index; the children keep their digests and media types. */
export function dockerToOciIndex(index: OciIndex): OciIndex {
  return { ...index, mediaType: MediaType.ociIndex };
}

/** The media type of a parsed document, defaulting to OCI's when it does not say. */
export function mediaTypeOf(parsed: ParsedManifest): string {
  if (parsed.kind === "index") return parsed.index.mediaType ?? MediaType.ociIndex;
  return parsed.manifest.mediaType ?? MediaType.ociManifest;
}
