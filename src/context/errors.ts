import { BuildImageError, type SourceLocation } from "../errors.js";

/**
 * Every problem the build context can report. Codes are stable; programs branch on them.
 * The solver adds the Dockerfile location of the COPY/ADD when it has one (`withLocation`).
 */
export type ContextErrorCode =
  | "DOCKERIGNORE_INVALID_PATTERN"
  | "COPY_INVALID_PATTERN"
  | "COPY_SOURCE_NOT_FOUND"
  | "COPY_DEST_NOT_DIR"
  | "COPY_DEST_INVALID"
  | "ADD_ARCHIVE_INVALID"
  | "ADD_URL_FAILED"
  | "ADD_CHECKSUM_MISMATCH"
  | "ADD_CHECKSUM_INVALID"
  | "USER_NOT_FOUND"
  | "GROUP_NOT_FOUND"
  | "CONTEXT_NOT_FOUND";

export class ContextError extends BuildImageError {
  declare readonly code: ContextErrorCode;

  constructor(code: ContextErrorCode, message: string, options: { hint?: string; cause?: unknown; location?: SourceLocation } = {}) {
    super(code, message, options);
    this.name = "ContextError";
  }
}

/** The same error with the Dockerfile location of the instruction that caused it. */
export function withLocation(err: ContextError, location: SourceLocation): ContextError {
  return new ContextError(err.code, err.message, { hint: err.hint, cause: err.cause, location });
}
