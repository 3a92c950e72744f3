/** Where in a source file (usually the Dockerfile) a problem is. Lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  endLine?: number;
  /** The text of `line`, so a renderer can print it with a caret under `column`. */
  lineText?: string;
}

/**
 * The one base class for every error build-image raises on purpose. Programs branch on `code`
 * (stable, upper snake case, e.g. `DOCKERFILE_UNKNOWN_INSTRUCTION`), never on the message, and never on
 * `instanceof` across copies of the package: use `isBuildImageError`.
 */
export class BuildImageError extends Error {
  readonly code: string;
  /** What the user can do about it, printed under the message by the CLI. */
  readonly hint: string | undefined;
  readonly location: SourceLocation | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown; location?: SourceLocation } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BuildImageError";
    this.code = code;
    this.hint = options.hint;
    this.location = options.location;
  }
}

export function isBuildImageError(err: unknown): err is BuildImageError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "string" && "hint" in err;
}
