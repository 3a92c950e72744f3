import { BuildImageError, type SourceLocation } from "../errors.js";

/**
 * A build that failed for a reason the user can act on: a RUN that exited non-zero, a base image that
 * is not there, a platform we cannot build. Codes: BUILD_RUN_FAILED, BUILD_BASE_NOT_FOUND,
 * BUILD_PLATFORM_UNSUPPORTED, BUILD_CONTEXT_NOT_FOUND, BUILD_DOCKERFILE_NOT_FOUND, BUILD_SECRET_MISSING,
 * BUILD_UNSUPPORTED, BUILD_ABORTED.
 */
export class BuildError extends BuildImageError {
  /** For BUILD_RUN_FAILED: the process's exit code, and the last lines it printed. */
  readonly exitCode: number | undefined;
  readonly outputTail: string[] | undefined;

  constructor(
    code: string,
    message: string,
    options: { hint?: string; cause?: unknown; location?: SourceLocation; exitCode?: number; outputTail?: string[] } = {},
  ) {
    super(code, message, options);
    this.name = "BuildError";
    this.exitCode = options.exitCode;
    this.outputTail = options.outputTail;
  }
}

/** Throws BUILD_ABORTED when the signal has fired, so long loops stop between steps. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BuildError("BUILD_ABORTED", "the build was interrupted", { cause: signal.reason, hint: "run the build again; the store is consistent" });
}
