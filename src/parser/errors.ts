import { BuildImageError, type SourceLocation } from "../errors.js";

/** Where a Dockerfile error is: 1-based line and column; `file` defaults to "Dockerfile". */
export interface DockerfilePosition {
  line: number;
  column: number;
  endLine?: number;
  /** The offending line as written, so the CLI can print it with a caret under `column`. */
  lineText?: string;
  file?: string;
  hint?: string;
  cause?: unknown;
}

/**
 * Every error a Dockerfile's text can cause, from the parser (`DOCKERFILE_SYNTAX`,
 * `DOCKERFILE_UNTERMINATED_HEREDOC`, …) and from the instructions layer on top of it. Always carries a
 * `location`, so callers never need to parse it out of the message.
 */
export class DockerfileError extends BuildImageError {
  declare readonly location: SourceLocation;

  constructor(code: string, message: string, position: DockerfilePosition) {
    const location: SourceLocation = { file: position.file ?? "Dockerfile", line: position.line, column: position.column };
    if (position.endLine !== undefined) location.endLine = position.endLine;
    if (position.lineText !== undefined) location.lineText = position.lineText;
    super(code, message, { hint: position.hint, cause: position.cause, location });
    this.name = "DockerfileError";
  }
}
