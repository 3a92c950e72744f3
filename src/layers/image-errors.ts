import { BuildImageError } from "../errors.js";

/**
 * Errors about images in the local store and their formats. Codes:
 * - `IMAGE_NOT_FOUND`: no local image has that name or digest.
 * - `IMAGE_AMBIGUOUS`: a short digest matches more than one image.
 * - `IMAGE_NAME_INVALID`: a name that is not a valid image reference.
 * - `IMAGE_FORMAT_INVALID`: a manifest, index or config that does not parse or has an unknown media type.
 * - `IMAGE_BLOB_MISSING`: an image refers to a blob the content store lacks.
 * - `IMAGE_ARCHIVE_INVALID`: an archive or layout that is neither an OCI layout nor a `docker save` tar.
 * - `IMAGE_PLATFORM_INVALID`: a platform that is not os/arch[/variant].
 * - `IMAGE_INDEX_LOCKED`: index.json stayed locked by another process for too long.
 */
export class ImageError extends BuildImageError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = "ImageError";
  }
}

export function imageNotFound(nameOrDigest: string): ImageError {
  return new ImageError("IMAGE_NOT_FOUND", `no local image '${nameOrDigest}'`, { hint: "see `build-image images` for the local images" });
}
