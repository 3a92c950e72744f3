import { BuildImageError } from "../errors.js";

/**
 * Errors of the store on disk: the content store, snapshots and layers. Codes:
 * - `DIGEST_INVALID`: a string that is not `sha256:` followed by 64 lowercase hex digits.
 * - `BLOB_DIGEST_MISMATCH`: the bytes written do not hash to the digest they were announced with.
 * - `BLOB_SIZE_MISMATCH`: the bytes written are not as many as announced.
 * - `BLOB_NOT_FOUND`: the content store has no blob with that digest.
 * - `SNAPSHOT_NOT_FOUND`: no committed snapshot has that chain ID.
 * - `SNAPSHOT_MOUNT_FAILED`: `mount` or `umount` of an overlay failed.
 * - `SNAPSHOT_STATE`: an active snapshot used after commit or abort.
 * - `LAYER_DIFF_ID_MISMATCH`: an applied layer's uncompressed tar does not hash to the expected diff ID.
 * - `LAYER_*` (see apply-errors.ts): a layer entry that would escape its snapshot or is malformed.
 */
export class StoreError extends BuildImageError {
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = "StoreError";
  }
}
