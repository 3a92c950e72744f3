import { BuildImageError } from "../errors.js";

/**
 * Errors of the build cache. Codes:
 * - `CACHE_KEY_INVALID`: a key or parent key that is not `sha256:` + 64 hex digits.
 * - `CACHE_MOUNT_LOCKED`: a `sharing=locked` cache mount stayed locked past the timeout.
 * - `CACHE_MOUNT_INVALID`: a cache mount id or sharing mode that cannot be used.
 * - `CACHE_PRUNE_INVALID`: prune options that contradict each other or are out of range.
 * - `CACHE_EXPORT_INVALID`: cache export options that cannot work (mode=min without the final step).
 * - `CACHE_SPEC_INVALID`: a --cache-to / --cache-from value that cannot be parsed or names an unsupported type.
 * - `CACHE_IMPORT_INVALID`: a --cache-from ref that holds neither a cache manifest nor inline cache.
 */
export class CacheError extends BuildImageError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = "CacheError";
  }
}
